//! The web admin's enterprise directory on SQLite and PostgreSQL: the import of a bureau's list
//! (preview, then commit; xlsx and GBK CSV; another bureau's credit code refused) and the merge
//! of an enterprise added on site into a directory entry, which devices then pull.

mod admin_support;
mod common;

use admin_support::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, Device, TestApp, assert_applied};
use rust_xlsxwriter::Workbook;
use serde_json::json;
use zhicha_core::ids::{EnterpriseId, OrgId};
use zhicha_core::model::{Enterprise, Sector};
use zhicha_core::protocol::{AckStatus, MutationPayload};

on_both_backends!(
    an_import_is_previewed_then_committed,
    a_merge_moves_inspections_and_findings_onto_the_directory_entry,
);

async fn directory_size(t: &TestApp) -> usize {
    t.state.store.enterprises_in(None).await.unwrap().len()
}

fn workbook(rows: &[&[&str]]) -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *cell).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

async fn an_import_is_previewed_then_committed(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (_, _, foreign) = second_bureau(&t).await;
    let admin = t.login("admin").await;
    let bureau = org_named(&t, "达拉特旗应急管理局").await;
    let known = t
        .state
        .store
        .enterprises_in(None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.org_id == bureau.id && e.credit_code.is_some())
        .unwrap();
    let known_code = known.credit_code.clone().unwrap();
    let foreign_code = foreign.credit_code.clone().unwrap();
    let xlsx = workbook(&[
        &["单位名称", "统一社会信用代码", "苏木镇", "行业领域", "备注"],
        &[
            "鄂尔多斯某新煤业有限公司",
            "91150621MA0IMPT001",
            "树林召镇",
            "煤矿、消防",
            "",
        ],
        &["没有行业的公司", "", "王爱召镇", "", ""],
        &[
            known.name.as_str(),
            known_code.as_str(),
            "树林召镇",
            "工贸",
            "更新",
        ],
        &[
            "冒名的化工公司",
            foreign_code.as_str(),
            "树林召镇",
            "危险化学品",
            "",
        ],
        &["重复的公司", "91150621MA0IMPT001", "树林召镇", "工贸", ""],
    ]);
    let before = directory_size(&t).await;
    let preview = import(&t, &admin.token, bureau.id, false, xlsx.clone()).await;
    assert_status(&preview, StatusCode::OK);
    let report = preview.json();
    assert_eq!(report["committed"], false);
    assert_eq!(report["imported"], 0);
    let rows = report["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{report}");
    assert_eq!(
        (rows[0]["line"].as_u64(), rows[0]["updates"].as_bool()),
        (Some(2), Some(false))
    );
    assert_eq!(
        (rows[1]["line"].as_u64(), rows[1]["updates"].as_bool()),
        (Some(4), Some(true))
    );
    assert_eq!(rows[1]["enterprise"]["id"], json!(known.id));
    let errors: Vec<u64> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(errors, [3, 5, 6], "{report}");
    assert!(
        report["errors"][1]["message"]
            .as_str()
            .unwrap()
            .contains("其他单位"),
        "{report}"
    );
    assert_eq!(directory_size(&t).await, before, "a preview writes nothing");

    let done = import(&t, &admin.token, bureau.id, true, xlsx).await;
    assert_status(&done, StatusCode::OK);
    let report = done.json();
    assert_eq!(
        (report["committed"].as_bool(), report["imported"].as_u64()),
        (Some(true), Some(2))
    );
    assert_eq!(report["errors"].as_array().unwrap().len(), 3);
    assert_eq!(directory_size(&t).await, before + 1);
    let list = call(
        &t,
        Method::GET,
        "/api/v1/admin/enterprises?q=MA0IMPT",
        &admin.token,
        None,
    )
    .await
    .json();
    assert_eq!(list["enterprises"][0]["name"], "鄂尔多斯某新煤业有限公司");
    let updated = t.state.store.enterprise(known.id).await.unwrap().unwrap();
    assert_eq!(updated.sectors, vec![Sector::IndustryTrade]);
    let untouched = t.state.store.enterprise(foreign.id).await.unwrap().unwrap();
    assert_eq!(
        untouched, foreign,
        "another bureau's entry is never updated"
    );

    // CSV saved as GBK: the same.
    let text = "单位名称,苏木镇,行业领域,法定代表人\r\n某化工有限公司,树林召镇,危险化学品,张三\r\n某机械厂,王爱召镇,种地,李四\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let report = import(&t, &admin.token, bureau.id, true, gbk.to_vec())
        .await
        .json();
    assert_eq!(report["imported"], 1, "{report}");
    assert_eq!(
        report["rows"][0]["enterprise"]["legal_representative"],
        "张三"
    );
    assert_eq!(report["errors"][0]["line"], 3);
    assert!(
        report["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("种地")
    );

    // Files that cannot be used at all: 400 with a message; too large: 413.
    let (bad, _, _) = encoding_rs::GBK.encode("企业,地址\r\n甲,乙\r\n");
    let reply = import(&t, &admin.token, bureau.id, false, bad.to_vec()).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_file");
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("单位名称")
    );
    import(
        &t,
        &admin.token,
        bureau.id,
        false,
        b"PK\x03\x04 not a workbook".to_vec(),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_file");
    import(&t, &admin.token, bureau.id, false, vec![])
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_file");
    let huge = vec![b'a'; zhicha_core::admin::MAX_IMPORT_BYTES + 1];
    import(&t, &admin.token, bureau.id, false, huge)
        .await
        .assert_error(StatusCode::PAYLOAD_TOO_LARGE, "too_large");
    let mut many = String::from("单位名称,苏木镇,行业领域\n");
    for n in 0..=zhicha_core::admin::MAX_IMPORT_ROWS {
        many.push_str(&format!("公司{n},树林召镇,工贸\n"));
    }
    import(&t, &admin.token, bureau.id, true, many.into_bytes())
        .await
        .assert_error(StatusCode::BAD_REQUEST, "too_many_rows");
    import(&t, &admin.token, OrgId::new(), false, b"x".to_vec())
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    t.send(
        Request::post("/api/v1/admin/enterprises/import?commit=true")
            .header(header::AUTHORIZATION, format!("Bearer {}", admin.token))
            .body(Body::empty())
            .unwrap(),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(directory_size(&t).await, before + 2);
    t.finish().await;
}

/// An enterprise added on site by `device`.
fn ad_hoc(device: &Device, name: &str) -> Enterprise {
    Enterprise {
        key: false,
        grade: None,
        id: EnterpriseId::new(),
        org_id: device.user.org_id,
        name: name.to_owned(),
        credit_code: None,
        address: String::new(),
        county: "达拉特旗".to_owned(),
        township: "树林召镇".to_owned(),
        sectors: vec![Sector::IndustryTrade],
        subsectors: vec![],
        legal_representative: String::new(),
        contact_phone: String::new(),
        location: None,
        ad_hoc: true,
        merged_into: None,
    }
}

fn save_enterprise(
    device: &Device,
    enterprise: &Enterprise,
    base: Option<i64>,
) -> zhicha_core::protocol::Mutation {
    device.mutation(
        enterprise.id.0,
        base,
        &MutationPayload::EnterpriseSave(Box::new(enterprise.clone())),
    )
}

async fn a_merge_moves_inspections_and_findings_onto_the_directory_entry(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let inspector = t.login("inspector1").await;
    let shop = ad_hoc(&inspector, "路边修理铺（现场发现）");
    let other = ad_hoc(&inspector, "另一家现场发现的作坊");
    let inspection = inspector.inspection(shop.id);
    let finding = inspector.finding(&inspection);
    assert_applied(
        &t.push(
            &inspector,
            &[
                save_enterprise(&inspector, &shop, None),
                save_enterprise(&inspector, &other, None),
                inspector.save_inspection(&inspection, None),
                inspector.save_finding(&finding, None),
            ],
        )
        .await,
    );
    let target = t
        .state
        .store
        .enterprises_in(None)
        .await
        .unwrap()
        .into_iter()
        .find(|e| !e.ad_hoc)
        .unwrap();
    let on_site = call(
        &t,
        Method::GET,
        "/api/v1/admin/enterprises?ad_hoc=true",
        &admin.token,
        None,
    )
    .await
    .json();
    assert_eq!(on_site["total"], 2, "{on_site}");
    let cursor = t.state.store.last_change_seq().await.unwrap();

    // Refused: a directory entry as the source, an on-site one as the target, an unknown one.
    let merge = |source: EnterpriseId, into: EnterpriseId| {
        let token = admin.token.clone();
        let t = &t;
        async move {
            call(
                t,
                Method::POST,
                &format!("/api/v1/admin/enterprises/{source}/merge"),
                &token,
                Some(json!({"into": into})),
            )
            .await
        }
    };
    merge(target.id, target.id)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    merge(shop.id, other.id)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    merge(shop.id, EnterpriseId::new())
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    merge(EnterpriseId::new(), target.id)
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");

    let merged = merge(shop.id, target.id).await;
    assert_status(&merged, StatusCode::OK);
    assert_eq!(merged.json(), json!({"inspections": 1, "findings": 1}));
    merge(shop.id, target.id)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    merge(other.id, shop.id)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");

    // The records name the directory entry now, at a new rev, the old versions kept.
    let (rev, stored) = t
        .state
        .store
        .inspection(&inspection.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rev, stored.enterprise_id), (2, target.id));
    let (rev, stored) = t
        .state
        .store
        .finding(&finding.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rev, stored.enterprise_id), (2, target.id));
    let mut db = t.database().await;
    let (id, name): (String, String) =
        sqlx::query_as("SELECT enterprise_id, enterprise_name FROM findings WHERE id = $1")
            .bind(finding.id.to_string())
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert_eq!(
        (id, name),
        (target.id.to_string(), target.name.clone()),
        "the ledger row"
    );
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM revisions WHERE reason = 'merge'")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(kept, 3);
    let source = t.state.store.enterprise(shop.id).await.unwrap().unwrap();
    assert_eq!(source.merged_into, Some(target.id));
    let lists = |query: &'static str| {
        let token = admin.token.clone();
        let t = &t;
        async move {
            call(
                t,
                Method::GET,
                &format!("/api/v1/admin/enterprises?{query}"),
                &token,
                None,
            )
            .await
            .json()
        }
    };
    assert_eq!(lists("ad_hoc=true").await["total"], 1);
    assert!(
        !lists("q=路边").await["enterprises"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == json!(shop.id))
    );
    assert_eq!(
        lists("q=路边&merged=true").await["enterprises"][0]["merged_into"],
        json!(target.id)
    );

    // Devices pull the new versions.
    let pulled = t
        .get(
            &format!("/api/v1/sync/pull?cursor=c:{cursor}&limit=1000"),
            &inspector.token,
        )
        .await
        .json();
    let change = |id: String| {
        pulled["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == json!(id))
            .cloned()
            .unwrap_or_else(|| panic!("{pulled}"))
    };
    assert_eq!(
        change(inspection.id.to_string())["data"]["enterprise_id"],
        json!(target.id)
    );
    assert_eq!(
        change(finding.id.to_string())["data"]["enterprise_id"],
        json!(target.id)
    );
    assert_eq!(
        change(shop.id.to_string())["data"]["merged_into"],
        json!(target.id)
    );
    let everything = t.pull_all(&inspector, 1000).await;
    assert!(
        everything
            .iter()
            .any(|c| c["id"] == json!(inspection.id.to_string()) && c["rev"] == 2)
    );

    // A phone offline during the merge pushes the inspection naming the old entry: it keeps the
    // directory entry. The merged on-site entry is no longer edited from the field.
    let mut offline = inspection.clone();
    offline.places = "主井口、配电室".to_owned();
    let response = t
        .push(&inspector, &[inspector.save_inspection(&offline, Some(1))])
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Applied, "{response:?}");
    let (_, stored) = t
        .state
        .store
        .inspection(&inspection.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.enterprise_id, stored.places.as_str()),
        (target.id, "主井口、配电室")
    );
    let fresh = inspector.inspection(shop.id);
    assert_applied(
        &t.push(&inspector, &[inspector.save_inspection(&fresh, None)])
            .await,
    );
    let (_, stored) = t
        .state
        .store
        .inspection(&fresh.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.enterprise_id, target.id,
        "a new inspection of a merged entry names its target"
    );
    let mut renamed = shop.clone();
    renamed.name = "改名的修理铺".to_owned();
    let response = t
        .push(
            &inspector,
            &[save_enterprise(&inspector, &renamed, Some(2))],
        )
        .await;
    assert_eq!(response.acks[0].status, AckStatus::Rejected, "{response:?}");
    assert!(
        response.acks[0]
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("已合并")
    );
    t.finish().await;
}
