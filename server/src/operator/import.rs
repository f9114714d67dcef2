//! `enterprise import FILE`: loads the enterprise directory from the bureau's own list.
//!
//! The file is an Excel workbook (`.xlsx`, its first sheet) or CSV in UTF-8 or GBK (what Excel
//! on Chinese Windows saves), with a header row naming these columns in Chinese or English
//! (order free; unknown columns are ignored):
//!
//! | column | Chinese headers taken | required | content |
//! | --- | --- | --- | --- |
//! | `name` | 单位名称, 企业名称, 名称 | yes | 单位名称 |
//! | `credit_code` | 统一社会信用代码, 信用代码 | no | 18 digits / capitals; a row with a code already in the directory updates that entry |
//! | `county` | 旗县, 旗县区, 所属旗县 | no | e.g. 达拉特旗 |
//! | `township` | 苏木镇, 苏木乡镇, 乡镇, 街道, 乡镇街道, 苏木镇街道, 所属乡镇, 园区 | yes | 苏木镇 / 街道 / 园区, e.g. 树林召镇 |
//! | `address` | 地址, 详细地址, 单位地址 | no | 地址 |
//! | `sectors` | 行业领域, 行业, 行业类别 | yes | one or more of 煤矿, 非煤矿山, 危险化学品, 消防, 城镇燃气, 建筑施工, 工贸 (or their wire names `coal`, `non_coal_mine`, …), separated by `;`, `；`, `、` or `|` |
//! | `subsectors` | 行业细分, 细分行业 | no | 井工煤矿, 露天煤矿, 地下矿山, 露天矿山, 尾矿库 (or wire names), same separators |
//! | `legal_representative` | 法定代表人, 负责人, 法人 | no | 法定代表人 / 负责人 |
//! | `contact_phone` | 联系电话, 电话, 联系方式 | no | 联系电话 |
//! | `lat`, `lon` | 纬度, 经度 | no | WGS-84 position |
//! | `key` | 重点, 重点企业, 是否重点 | no | 是 / 否 (empty: 否): a 重点 enterprise, inspected every year outside the 双随机 draw |
//! | `grade` | 类别, 分级, 企业类别, 分级类别 | no | A类–D类 (or A–D), 标准化一级/二级/三级, 标准化未达标 (core `Grade::parse_zh`) |
//!
//! A bad row is reported with its line (the spreadsheet's row number) and skipped; the good
//! rows are kept. A credit code repeated within the file is a bad row. `parse` reads and checks
//! a file without writing (the web admin's preview), `write` writes its good rows; the operator's
//! command and the web admin (`POST /admin/enterprises/import`) both use them.

use std::collections::HashMap;

use zhicha_core::admin::{ImportRow, ImportRowError};
use zhicha_core::ids::{EnterpriseId, OrgId};
use zhicha_core::model::{Enterprise, GeoPoint, Sector, Subsector};
use zhicha_core::plan::Grade;
use zhicha_core::validation;

use crate::Store;

/// The result of an import.
#[derive(Debug, Default)]
pub struct ImportReport {
    pub imported: usize,
    /// `(line, message)` for every row that was skipped.
    pub errors: Vec<(u64, String)>,
}

/// Parses one row into an enterprise of `org` (the id is fresh; the caller keeps an existing
/// entry's id when the credit code is known).
pub fn parse_row(
    columns: &HashMap<String, usize>,
    record: &[String],
    org: OrgId,
) -> Result<Enterprise, String> {
    let get = |name: &str| -> String {
        columns
            .get(name)
            .and_then(|&i| record.get(i))
            .map_or("", String::as_str)
            .trim()
            .to_owned()
    };
    let name = get("name");
    if name.is_empty() {
        return Err("缺少单位名称（name）".to_owned());
    }
    let township = get("township");
    if township.is_empty() {
        return Err("缺少苏木镇/街道/园区（township）".to_owned());
    }
    let credit_code = Some(get("credit_code")).filter(|c| !c.is_empty());
    if let Some(code) = &credit_code
        && !validation::is_credit_code(code)
    {
        return Err(format!("统一社会信用代码 {code} 应为 18 位数字或大写字母"));
    }
    let sectors = split(&get("sectors"))
        .map(|s| parse_sector(s).ok_or_else(|| format!("未知的行业领域“{s}”")))
        .collect::<Result<Vec<_>, _>>()?;
    if sectors.is_empty() {
        return Err("缺少行业领域（sectors）".to_owned());
    }
    let subsectors = split(&get("subsectors"))
        .map(|s| parse_subsector(s).ok_or_else(|| format!("未知的行业细分“{s}”")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(sub) = subsectors
        .iter()
        .find(|sub| !sectors.contains(&sub.sector()))
    {
        return Err(format!("行业细分“{}”不属于所列行业领域", sub.label_zh()));
    }
    let location = match (get("lat").as_str(), get("lon").as_str()) {
        ("", "") => None,
        (lat, lon) => {
            let point = lat
                .parse()
                .ok()
                .zip(lon.parse().ok())
                .map(|(lat, lon)| GeoPoint {
                    lat,
                    lon,
                    accuracy_m: None,
                });
            match point {
                Some(p) if p.is_valid() => Some(p),
                _ => return Err(format!("坐标无效：lat={lat} lon={lon}")),
            }
        }
    };
    let key = match get("key").as_str() {
        "" | "否" | "N" | "n" | "no" | "0" | "false" => false,
        "是" | "重点" | "Y" | "y" | "yes" | "1" | "true" => true,
        other => return Err(format!("“重点”一栏应填“是”或“否”，而不是“{other}”")),
    };
    let grade = match get("grade").as_str() {
        "" => None,
        text => Some(Grade::parse_zh(text).ok_or_else(|| {
            format!("未知的类别“{text}”（可填 A类–D类，或 标准化一级、二级、三级、未达标）")
        })?),
    };
    let enterprise = Enterprise {
        key,
        grade,
        id: EnterpriseId::new(),
        org_id: org,
        name,
        credit_code,
        address: get("address"),
        county: get("county"),
        township,
        sectors,
        subsectors,
        legal_representative: get("legal_representative"),
        contact_phone: get("contact_phone"),
        location,
        ad_hoc: false,
        merged_into: None,
    };
    // The same limits as a pushed enterprise: a row either database would refuse is skipped.
    if let Err(errors) = validation::storable_enterprise(&enterprise) {
        return Err(errors.first().map_or_else(
            || "内容无法保存".to_owned(),
            |e| format!("{}（{}）", e.message, e.field),
        ));
    }
    Ok(enterprise)
}

fn split(text: &str) -> impl Iterator<Item = &str> {
    text.split([';', '；', '、', '|'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn wire_name<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn parse_sector(text: &str) -> Option<Sector> {
    Sector::ALL
        .into_iter()
        .find(|s| s.label_zh() == text || wire_name(s) == text)
}

fn parse_subsector(text: &str) -> Option<Subsector> {
    Sector::ALL
        .iter()
        .flat_map(|s| s.subsectors().iter().copied())
        .find(|s| s.label_zh() == text || wire_name(s) == text)
}

/// The column a header names, in English or in one of the Chinese spellings bureaus use.
pub fn column_of(header: &str) -> Option<&'static str> {
    let header: String = header
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    const COLUMNS: [(&str, &[&str]); 13] = [
        ("name", &["单位名称", "企业名称", "名称"]),
        ("credit_code", &["统一社会信用代码", "信用代码"]),
        ("county", &["旗县", "旗县区", "所属旗县"]),
        (
            "township",
            &[
                "苏木镇",
                "苏木乡镇",
                "乡镇",
                "街道",
                "乡镇街道",
                "苏木镇街道",
                "所属乡镇",
                "园区",
            ],
        ),
        ("address", &["地址", "详细地址", "单位地址"]),
        ("sectors", &["行业领域", "行业", "行业类别"]),
        ("subsectors", &["行业细分", "细分行业"]),
        ("legal_representative", &["法定代表人", "负责人", "法人"]),
        ("contact_phone", &["联系电话", "电话", "联系方式"]),
        ("lat", &["纬度"]),
        ("lon", &["经度"]),
        ("key", &["重点", "重点企业", "是否重点", "是否重点企业"]),
        ("grade", &["类别", "分级", "企业类别", "分级类别"]),
    ];
    COLUMNS
        .iter()
        .find(|(name, chinese)| *name == header || chinese.contains(&header.as_str()))
        .map(|(name, _)| *name)
}

/// A table read from a file: its header and its rows, each with its line number.
#[derive(Debug, Default)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<(u64, Vec<String>)>,
    /// Lines that could not be read at all.
    pub unreadable: Vec<(u64, String)>,
}

/// Reads `bytes` as an xlsx workbook (by its zip signature) or as CSV in UTF-8 or GBK.
pub fn read_table(bytes: &[u8]) -> anyhow::Result<Table> {
    if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else {
        Ok(read_csv(&decode_text(bytes)))
    }
}

/// UTF-8 (with or without a byte-order mark) when the bytes are valid UTF-8, else GBK (read
/// as GB 18030, its superset): what Excel on Chinese Windows writes as "CSV".
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => encoding_rs::GB18030.decode(bytes).0.into_owned(),
    }
}

fn read_csv(text: &str) -> Table {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut table = Table::default();
    for (index, record) in reader.records().enumerate() {
        match record {
            Ok(record) => {
                // The row number a spreadsheet shows (a quoted cell spanning lines counts once).
                let line = index as u64 + 1;
                let cells = record.iter().map(str::to_owned).collect();
                if index == 0 {
                    table.header = cells;
                } else {
                    table.rows.push((line, cells));
                }
            }
            Err(error) => {
                let line = index as u64 + 1;
                table.unreadable.push((line, format!("无法解析：{error}")));
            }
        }
    }
    table
}

fn read_xlsx(bytes: &[u8]) -> anyhow::Result<Table> {
    use calamine::{Data, Reader as _};
    let mut workbook = calamine::Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|e| anyhow::anyhow!("无法读取 Excel 文件：{e}"))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("Excel 文件中没有工作表"))?;
    let range = workbook
        .worksheet_range(&sheet)
        .map_err(|e| anyhow::anyhow!("无法读取工作表“{sheet}”：{e}"))?;
    let first_row = range.start().map_or(0, |(row, _)| u64::from(row));
    let text = |cell: &Data| match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        // Phone numbers and codes typed as numbers: no ".0".
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.0}"),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        other => other.to_string(),
    };
    let mut table = Table::default();
    for (index, row) in range.rows().enumerate() {
        let cells: Vec<String> = row.iter().map(text).collect();
        if index == 0 {
            table.header = cells;
        } else if cells.iter().any(|c| !c.trim().is_empty()) {
            table.rows.push((first_row + index as u64 + 1, cells));
        }
    }
    Ok(table)
}

/// The directory's 统一社会信用代码, each with its entry and that entry's org unit
/// (`Store::credit_codes`).
pub type CreditCodes = HashMap<String, (EnterpriseId, OrgId)>;

/// A file read and checked, nothing written: the good rows (each a directory entry of the
/// import's org unit; one whose credit code is known keeps that entry's id) and the bad ones.
#[derive(Debug, Default)]
pub struct Parsed {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<ImportRowError>,
}

/// Reads `bytes` (xlsx, or CSV in UTF-8 or GBK) as the directory of `org`. A row whose credit
/// code is in `known` updates that entry when `may_update` allows its org unit, and is a bad row
/// otherwise (another bureau's entry is never touched). Err: the file as a whole cannot be used
/// (unreadable, or a required column missing), with the message in Chinese.
pub fn parse(
    bytes: &[u8],
    org: OrgId,
    known: &CreditCodes,
    may_update: &dyn Fn(OrgId) -> bool,
) -> Result<Parsed, String> {
    let table = read_table(bytes).map_err(|e| e.to_string())?;
    let columns: HashMap<String, usize> = table
        .header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| column_of(h).map(|name| (name.to_owned(), i)))
        .collect();
    for (required, chinese) in [
        ("name", "单位名称"),
        ("township", "苏木镇"),
        ("sectors", "行业领域"),
    ] {
        if !columns.contains_key(required) {
            return Err(format!("第 1 行（表头）缺少列“{chinese}”（{required}）"));
        }
    }
    let mut parsed = Parsed {
        errors: table
            .unreadable
            .iter()
            .map(|(line, message)| ImportRowError {
                line: *line,
                message: message.clone(),
            })
            .collect(),
        ..Parsed::default()
    };
    // Credit codes of earlier rows of this file: a repeat is a mistake in the list.
    let mut seen: HashMap<String, u64> = HashMap::new();
    for (line, record) in &table.rows {
        let line = *line;
        let mut enterprise = match parse_row(&columns, record, org) {
            Ok(enterprise) => enterprise,
            Err(message) => {
                parsed.errors.push(ImportRowError { line, message });
                continue;
            }
        };
        let mut updates = false;
        if let Some(code) = &enterprise.credit_code {
            if let Some(first) = seen.get(code) {
                parsed.errors.push(ImportRowError {
                    line,
                    message: format!("统一社会信用代码 {code} 与第 {first} 行重复"),
                });
                continue;
            }
            if let Some((id, holder)) = known.get(code) {
                if !may_update(*holder) {
                    parsed.errors.push(ImportRowError {
                        line,
                        message: format!(
                            "统一社会信用代码 {code} 已登记在其他单位的企业名录中，不能在此导入"
                        ),
                    });
                    continue;
                }
                enterprise.id = *id;
                updates = true;
            }
            seen.insert(code.clone(), line);
        }
        parsed.rows.push(ImportRow {
            line,
            enterprise,
            updates,
        });
    }
    parsed.errors.sort_by_key(|e| e.line);
    Ok(parsed)
}

/// Writes the good rows of a parsed file into the directory, in one transaction; the number
/// written.
pub async fn write(store: &Store, rows: &[ImportRow]) -> Result<u64, sqlx::Error> {
    let enterprises: Vec<Enterprise> = rows.iter().map(|r| r.enterprise.clone()).collect();
    store.upsert_enterprises(&enterprises).await
}

/// Imports every good row of `bytes` (xlsx, or CSV in UTF-8 or GBK) into the directory of
/// `org` (the operator's command: any entry may be updated).
pub async fn import(store: &Store, org: OrgId, bytes: &[u8]) -> anyhow::Result<ImportReport> {
    let known = store.credit_codes().await?;
    let parsed = parse(bytes, org, &known, &|_| true).map_err(anyhow::Error::msg)?;
    let imported = write(store, &parsed.rows).await?;
    Ok(ImportReport {
        imported: usize::try_from(imported).unwrap_or(usize::MAX),
        errors: parsed
            .errors
            .into_iter()
            .map(|e| (e.line, e.message))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(header: &str, line: &str) -> Result<Enterprise, String> {
        let table = read_table(format!("{header}\n{line}\n").as_bytes()).unwrap();
        let columns = table
            .header
            .iter()
            .enumerate()
            .filter_map(|(i, h)| column_of(h).map(|c| (c.to_owned(), i)))
            .collect();
        parse_row(&columns, &table.rows[0].1, OrgId::new())
    }

    #[test]
    fn key_and_class_columns_are_read() {
        let header = "单位名称,苏木镇,行业领域,重点,类别";
        let e = row(header, "某煤矿,白泥井镇,煤矿,是,B类").unwrap();
        assert!(e.key);
        assert_eq!(e.grade, Some(Grade::B));
        let e = row(header, "某化工,白泥井镇,危险化学品,否,标准化二级").unwrap();
        assert!(!e.key);
        assert_eq!(e.grade, Some(Grade::Level2));
        let e = row(header, "某厂,白泥井镇,工贸,,").unwrap();
        assert!(!e.key && e.grade.is_none());
        assert!(
            row(header, "某厂,白泥井镇,工贸,也许,")
                .unwrap_err()
                .contains("重点")
        );
        assert!(
            row(header, "某厂,白泥井镇,工贸,否,E类")
                .unwrap_err()
                .contains("类别")
        );
    }

    #[test]
    fn chinese_headers_name_the_columns() {
        let e = row(
            "单位名称,统一社会信用代码,所属旗县,苏木镇,行业领域,联系电话",
            "某煤业有限公司,91150621DEMO000999,达拉特旗,树林召镇,煤矿、消防,13800000000",
        )
        .unwrap();
        assert_eq!(e.name, "某煤业有限公司");
        assert_eq!(e.county, "达拉特旗");
        assert_eq!(e.contact_phone, "13800000000");
        assert_eq!(e.sectors, vec![Sector::Coal, Sector::Fire]);
        assert_eq!(column_of(" 单位 名称 "), Some("name"));
        assert_eq!(column_of("\u{feff}NAME"), Some("name"));
        assert_eq!(column_of("备注"), None);
    }

    #[test]
    fn gbk_csv_reads_like_utf8() {
        let text = "单位名称,苏木镇,行业领域\n某化工有限公司,树林召镇,危险化学品\n";
        let (gbk, _, lossy) = encoding_rs::GBK.encode(text);
        assert!(!lossy);
        assert!(std::str::from_utf8(&gbk).is_err(), "really GBK bytes");
        assert_eq!(decode_text(&gbk), text);
        let mut bom = b"\xef\xbb\xbf".to_vec();
        bom.extend_from_slice(text.as_bytes());
        assert_eq!(decode_text(&bom), text);
    }

    #[test]
    fn a_row_with_chinese_labels_parses() {
        let e = row(
            "name,credit_code,township,sectors,subsectors,lat,lon",
            "某煤业有限公司,91150621DEMO000999,树林召镇,煤矿;消防,井工煤矿,40.1,110.2",
        )
        .unwrap();
        assert_eq!(e.sectors, vec![Sector::Coal, Sector::Fire]);
        assert_eq!(e.subsectors, vec![Subsector::CoalUnderground]);
        assert_eq!(e.location.unwrap().lat, 40.1);
    }

    #[test]
    fn bad_rows_say_why() {
        assert!(
            row("name,township,sectors", ",树林召镇,煤矿")
                .unwrap_err()
                .contains("name")
        );
        assert!(
            row("name,township,sectors", "甲,树林召镇,种地")
                .unwrap_err()
                .contains("种地")
        );
        assert!(
            row("name,township,sectors,credit_code", "甲,树林召镇,工贸,123")
                .unwrap_err()
                .contains("123")
        );
        assert!(
            row(
                "name,township,sectors,subsectors",
                "甲,树林召镇,工贸,尾矿库"
            )
            .is_err()
        );
    }

    /// Rows either database would refuse are skipped the same way on both.
    #[test]
    fn rows_with_values_a_database_refuses_say_why() {
        let long = format!("甲,{},工贸", "镇".repeat(51));
        let error = row("name,township,sectors", &long).unwrap_err();
        assert!(
            error.contains("township") && error.contains("50"),
            "{error}"
        );
        let error = row("name,township,sectors", "甲\0乙,树林召镇,工贸").unwrap_err();
        assert!(
            error.contains("name") && error.contains("无效字符"),
            "{error}"
        );
    }
}
