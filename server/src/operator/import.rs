//! `enterprise import FILE.csv`: loads the enterprise directory from a spreadsheet export.
//!
//! The file is UTF-8 CSV with a header row naming these columns (order free; unknown columns
//! are ignored):
//!
//! | column | required | content |
//! | --- | --- | --- |
//! | `name` | yes | 单位名称 |
//! | `credit_code` | no | 统一社会信用代码 (18 digits / capitals); a row with a code already in the directory updates that entry |
//! | `county` | no | 旗县, e.g. 达拉特旗 |
//! | `township` | yes | 苏木镇 / 街道 / 园区, e.g. 树林召镇 |
//! | `address` | no | 地址 |
//! | `sectors` | yes | one or more of 煤矿, 非煤矿山, 危险化学品, 消防, 城镇燃气, 建筑施工, 工贸 (or their wire names `coal`, `non_coal_mine`, …), separated by `;` or `、` |
//! | `subsectors` | no | 井工煤矿, 露天煤矿, 地下矿山, 露天矿山, 尾矿库 (or wire names), same separators |
//! | `legal_representative` | no | 法定代表人 / 负责人 |
//! | `contact_phone` | no | 联系电话 |
//! | `lat`, `lon` | no | WGS-84 position |
//!
//! A bad row is reported with its line number and skipped; the good rows are kept.

use std::collections::HashMap;
use std::io::Read;

use zhicha_core::ids::{EnterpriseId, OrgId};
use zhicha_core::model::{Enterprise, GeoPoint, Sector, Subsector};
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
    record: &csv::StringRecord,
    org: OrgId,
) -> Result<Enterprise, String> {
    let get = |name: &str| -> String {
        columns
            .get(name)
            .and_then(|&i| record.get(i))
            .unwrap_or_default()
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
    let enterprise = Enterprise {
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

/// Imports every good row of `input` into the directory of `org`.
pub async fn import(store: &Store, org: OrgId, input: impl Read) -> anyhow::Result<ImportReport> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader.headers()?.clone();
    let columns: HashMap<String, usize> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| (h.trim_start_matches('\u{feff}').trim().to_lowercase(), i))
        .collect();
    for required in ["name", "township", "sectors"] {
        if !columns.contains_key(required) {
            anyhow::bail!("第 1 行（表头）缺少列 {required}");
        }
    }
    let mut report = ImportReport::default();
    for record in reader.records() {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                report.errors.push((line, format!("无法解析：{error}")));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        match parse_row(&columns, &record, org) {
            Ok(mut enterprise) => {
                if let Some(code) = &enterprise.credit_code
                    && let Some(existing) = store.enterprise_id_by_credit_code(code).await?
                {
                    enterprise.id = existing.parse()?;
                }
                store.upsert_enterprise(&enterprise).await?;
                report.imported += 1;
            }
            Err(message) => report.errors.push((line, message)),
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(header: &str, line: &str) -> Result<Enterprise, String> {
        let data = format!("{header}\n{line}\n");
        let mut reader = csv::Reader::from_reader(data.as_bytes());
        let columns = reader
            .headers()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, h)| (h.to_owned(), i))
            .collect();
        let record = reader.records().next().unwrap().unwrap();
        parse_row(&columns, &record, OrgId::new())
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
