//! The enterprise import takes the lists bureaus really hold, on SQLite and PostgreSQL: an Excel
//! workbook with Chinese headers and CSV saved as GBK by Excel on Chinese Windows. Bad rows are
//! reported with their row number and skipped; good rows are kept; a known credit code updates
//! its entry instead of adding another.

mod common;

use common::{Backend, TestApp};
use rust_xlsxwriter::Workbook;
use zhicha_core::model::Sector;
use zhicha_server::operator::import;

on_both_backends!(
    an_xlsx_with_chinese_headers_imports_its_good_rows,
    a_gbk_csv_imports_like_a_utf8_one,
);

async fn bureau(t: &TestApp) -> zhicha_core::ids::OrgId {
    let orgs = t.state.store.orgs().await.unwrap();
    orgs.iter().find(|o| o.parent_id.is_none()).unwrap().id
}

async fn named(t: &TestApp, name: &str) -> Vec<zhicha_core::model::Enterprise> {
    t.state
        .store
        .enterprises_in(None)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.name == name)
        .collect()
}

async fn an_xlsx_with_chinese_headers_imports_its_good_rows(backend: Backend) {
    let t = TestApp::start(backend).await;
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let rows: [[&str; 6]; 4] = [
        [
            "单位名称",
            "统一社会信用代码",
            "苏木镇",
            "行业领域",
            "联系电话",
            "备注",
        ],
        [
            "鄂尔多斯某煤业有限公司",
            "91150621MA0XLSX001",
            "树林召镇",
            "煤矿、消防",
            "",
            "井工",
        ],
        ["没有行业的公司", "", "王爱召镇", "", "", ""],
        ["某燃气有限公司", "", "白泥井镇", "城镇燃气", "", ""],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    // A phone number typed as a number comes back without ".0".
    sheet.write_number(1, 4, 13_800_000_000.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let org = bureau(&t).await;
    let report = import::import(&t.state.store, org, &bytes).await.unwrap();
    assert_eq!(report.imported, 2, "{:?}", report.errors);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    assert_eq!(report.errors[0].0, 3, "the spreadsheet's row number");
    assert!(report.errors[0].1.contains("行业"), "{:?}", report.errors);
    let coal = named(&t, "鄂尔多斯某煤业有限公司").await;
    assert_eq!(coal.len(), 1);
    assert_eq!(coal[0].sectors, vec![Sector::Coal, Sector::Fire]);
    assert_eq!(coal[0].contact_phone, "13800000000");
    assert_eq!(coal[0].org_id, org);
    assert!(named(&t, "没有行业的公司").await.is_empty());

    // The same list again, the coal mine now with an address: updated, not doubled.
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (c, cell) in ["单位名称", "统一社会信用代码", "苏木镇", "行业领域", "地址"]
        .iter()
        .enumerate()
    {
        sheet.write_string(0, c as u16, *cell).unwrap();
    }
    for (c, cell) in [
        "鄂尔多斯某煤业有限公司",
        "91150621MA0XLSX001",
        "树林召镇",
        "煤矿",
        "树林召镇某村",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(1, c as u16, *cell).unwrap();
    }
    let again = import::import(&t.state.store, org, &book.save_to_buffer().unwrap())
        .await
        .unwrap();
    assert_eq!(again.imported, 1);
    let coal = named(&t, "鄂尔多斯某煤业有限公司").await;
    assert_eq!(coal.len(), 1, "updated by its credit code, not added twice");
    assert_eq!(coal[0].address, "树林召镇某村");
    t.finish().await;
}

async fn a_gbk_csv_imports_like_a_utf8_one(backend: Backend) {
    let t = TestApp::start(backend).await;
    let text = "单位名称,苏木镇,行业领域,法定代表人\r\n\
                某化工有限公司,树林召镇,危险化学品,张三\r\n\
                某机械厂,王爱召镇,种地,李四\r\n\
                某建筑公司,白泥井镇,建筑施工,王五\r\n";
    let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
    assert!(!lossy);
    let org = bureau(&t).await;
    let report = import::import(&t.state.store, org, &gbk).await.unwrap();
    assert_eq!(report.imported, 2, "{:?}", report.errors);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].0, 3);
    assert!(report.errors[0].1.contains("种地"), "{:?}", report.errors);
    let chemical = named(&t, "某化工有限公司").await;
    assert_eq!(chemical.len(), 1, "the GBK name arrives intact");
    assert_eq!(chemical[0].legal_representative, "张三");
    assert_eq!(chemical[0].sectors, vec![Sector::HazardousChemicals]);
    // A header the import cannot use says which column is missing, in Chinese.
    let (bad, _, _) = encoding_rs::GBK.encode("企业,地址\r\n甲,乙\r\n");
    let error = import::import(&t.state.store, org, &bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("单位名称"), "{error}");
    t.finish().await;
}
