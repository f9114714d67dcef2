//! The ledger's write side: the columns of findings derived from the records (so every ledger
//! filter is an indexed column), written with each record by the sync apply path, by the
//! directory when an enterprise changes, by the bulk loader and, for rows older than the
//! columns, at start-up. The ledger's queries (`ledger`) only read them; this module imports
//! nothing from either, so neither imports the other.
//!
//! The derived columns are `found_at`, `found_day`, `closed_at`, `closed_day`, `supervised`,
//! `search_text`, the enterprise's name and region and the finding's sector. Dates are China
//! dates (`lifecycle::china_offset`) as `YYYY-MM-DD` text, times RFC 3339 UTC with milliseconds,
//! so text order is time order on both backends.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{Any, AssertSqlSafe, Transaction};
use zhicha_core::model::{Enterprise, Finding, FindingStatus, Inspection, Sector};
use zhicha_core::packs;
use zhicha_core::time::china_date as china_day;
use zhicha_core::wire::WireName;

use super::Store;

/// A write transaction (the type `sync` names `Tx`, spelled out so this module does not import
/// the sync module that calls it).
type Tx = Transaction<'static, Any>;

/// A record stored as JSON text.
pub(super) fn decode_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// A time as stored: RFC 3339 UTC with milliseconds.
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The columns of a finding derived from the record itself.
pub(crate) struct FindingColumns {
    pub found_at: String,
    pub found_day: String,
    pub closed_at: Option<String>,
    pub closed_day: Option<String>,
    pub supervised: i64,
    pub search_text: String,
}

/// When a closed finding was closed: its last history entry into 已销号.
fn closed_at(finding: &Finding) -> Option<DateTime<Utc>> {
    if finding.status != FindingStatus::Closed {
        return None;
    }
    finding
        .history
        .iter()
        .rev()
        .find(|h| h.to == FindingStatus::Closed)
        .map(|h| h.at)
        .or(Some(finding.created_at))
}

pub(crate) fn finding_columns(finding: &Finding) -> FindingColumns {
    let closed = closed_at(finding);
    FindingColumns {
        found_at: time_text(finding.created_at),
        found_day: china_day(finding.created_at).to_string(),
        closed_at: closed.map(time_text),
        closed_day: closed.map(|t| china_day(t).to_string()),
        supervised: i64::from(finding.supervised),
        search_text: format!("{}\n{}", finding.description, finding.place).to_lowercase(),
    }
}

/// The finding's sector: that of the pack its item comes from, else of the inspection's first
/// pack, else the enterprise's first sector.
pub(crate) fn finding_sector(
    finding: &Finding,
    inspection: Option<&Inspection>,
    enterprise: Option<&Enterprise>,
) -> Option<Sector> {
    let used = inspection.map(|i| i.packs.as_slice()).unwrap_or_default();
    let from_item = finding.item_id.as_deref().and_then(|item| {
        used.iter().find_map(|r| {
            let pack = packs::get(r.id.as_str(), r.version)?;
            pack.item(item).map(|_| pack.sector)
        })
    });
    from_item
        .or_else(|| {
            used.iter()
                .find_map(|r| packs::get(r.id.as_str(), r.version).map(|p| p.sector))
        })
        .or_else(|| enterprise.and_then(|e| e.sectors.first().copied()))
}

async fn load_enterprise(tx: &mut Tx, id: &str) -> Result<Option<Enterprise>, sqlx::Error> {
    let data: Option<String> = sqlx::query_scalar("SELECT data FROM enterprises WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await?;
    data.as_deref().map(decode_json).transpose()
}

/// The enterprise and sector columns of a finding, derived from its inspection and enterprise.
#[derive(Debug, Clone, Default)]
pub(crate) struct FindingContext {
    pub enterprise_name: String,
    pub county: String,
    pub township: String,
    pub sector: Option<String>,
}

pub(crate) fn finding_context(
    finding: &Finding,
    inspection: &Inspection,
    enterprise: Option<&Enterprise>,
) -> FindingContext {
    let sector = finding_sector(finding, Some(inspection), enterprise);
    let (enterprise_name, county, township) = enterprise
        .map(|e| (e.name.clone(), e.county.clone(), e.township.clone()))
        .unwrap_or_default();
    FindingContext {
        enterprise_name,
        county,
        township,
        sector: sector.map(|s| s.wire_name().to_owned()),
    }
}

/// Writes the enterprise and sector columns of a stored finding.
pub(crate) async fn set_finding_context(
    tx: &mut Tx,
    finding: &Finding,
    inspection: &Inspection,
) -> Result<(), sqlx::Error> {
    let enterprise = load_enterprise(tx, &finding.enterprise_id.to_string()).await?;
    let context = finding_context(finding, inspection, enterprise.as_ref());
    sqlx::query(
        "UPDATE findings SET enterprise_id = $1, enterprise_name = $2, county = $3, \
         township = $4, sector = $5 WHERE id = $6",
    )
    .bind(finding.enterprise_id.to_string())
    .bind(context.enterprise_name)
    .bind(context.county)
    .bind(context.township)
    .bind(context.sector)
    .bind(finding.id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Keeps the enterprise columns of its findings current after the enterprise changed.
pub(crate) async fn refresh_enterprise(
    tx: &mut Tx,
    enterprise: &Enterprise,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE findings SET enterprise_name = $1, county = $2, township = $3 \
         WHERE enterprise_id = $4",
    )
    .bind(&enterprise.name)
    .bind(&enterprise.county)
    .bind(&enterprise.township)
    .bind(enterprise.id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replaces the 检查人员 rows of a saved inspection.
pub(crate) async fn set_inspectors(
    tx: &mut Tx,
    inspection: &Inspection,
) -> Result<(), sqlx::Error> {
    let id = inspection.id.to_string();
    sqlx::query("DELETE FROM inspection_inspectors WHERE inspection_id = $1")
        .bind(&id)
        .execute(&mut **tx)
        .await?;
    let day = china_day(inspection.started_at).to_string();
    for person in &inspection.inspectors {
        sqlx::query(
            "INSERT INTO inspection_inspectors (inspection_id, user_id, name, org_id, started_day) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (inspection_id, user_id) DO NOTHING",
        )
        .bind(&id)
        .bind(person.user_id.to_string())
        .bind(&person.name)
        .bind(inspection.org_id.to_string())
        .bind(&day)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Writes the record-derived ledger columns of a stored finding.
async fn write_columns(tx: &mut Tx, finding: &Finding) -> Result<(), sqlx::Error> {
    let c = finding_columns(finding);
    sqlx::query(
        "UPDATE findings SET found_at = $1, found_day = $2, closed_at = $3, closed_day = $4, \
         supervised = $5, search_text = $6, enterprise_id = $7 WHERE id = $8",
    )
    .bind(c.found_at)
    .bind(c.found_day)
    .bind(c.closed_at)
    .bind(c.closed_day)
    .bind(c.supervised)
    .bind(c.search_text)
    .bind(finding.enterprise_id.to_string())
    .bind(finding.id.to_string())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

impl Store {
    /// Fills the derived ledger columns of findings and the 检查人员 rows of inspections
    /// written before they existed. Cheap when there is nothing to do.
    pub async fn backfill_ledger(&self) -> Result<u64, sqlx::Error> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM findings WHERE found_at IS NULL")
            .fetch_all(&self.pool)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        let mut tx = self.writer.begin().await?;
        let inspections: Vec<(String,)> = sqlx::query_as(
            "SELECT data FROM inspections WHERE id NOT IN \
             (SELECT inspection_id FROM inspection_inspectors)",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (data,) in inspections {
            let inspection: Inspection = decode_json(&data)?;
            set_inspectors(&mut tx, &inspection).await?;
        }
        for id in &ids {
            let (data,): (String,) = sqlx::query_as("SELECT data FROM findings WHERE id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
            let finding: Finding = decode_json(&data)?;
            write_columns(&mut tx, &finding).await?;
            let inspection: Option<(String,)> =
                sqlx::query_as("SELECT data FROM inspections WHERE id = $1")
                    .bind(finding.inspection_id.to_string())
                    .fetch_optional(&mut *tx)
                    .await?;
            if let Some((data,)) = inspection {
                let inspection: Inspection = decode_json(&data)?;
                set_finding_context(&mut tx, &finding, &inspection).await?;
            }
        }
        tx.commit().await?;
        Ok(ids.len() as u64)
    }
}

impl Store {
    /// Bulk-loads inspections and their findings as they are (no checks, no change log, no
    /// revisions) in one transaction, with every derived ledger column: for benchmarks and for
    /// importing history. Devices learn of these records only through bootstrap.
    pub async fn bulk_load(
        &self,
        inspections: &[Inspection],
        findings: &[Finding],
    ) -> Result<(), sqlx::Error> {
        const ROWS: usize = 200;
        let enterprises: HashMap<String, Enterprise> = self
            .enterprises_in(None)
            .await?
            .into_iter()
            .map(|e| (e.id.to_string(), e))
            .collect();
        let by_id: HashMap<String, &Inspection> =
            inspections.iter().map(|i| (i.id.to_string(), i)).collect();
        let stamp = super::now();
        let mut tx = self.writer.begin().await?;
        for chunk in inspections.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", self.backend.markers(r * 7 + 1, 7)))
                .collect();
            let sql = format!(
                "INSERT INTO inspections (id, org_id, created_by, enterprise_id, rev, data, \
                 updated_at) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for i in chunk {
                query = query
                    .bind(i.id.to_string())
                    .bind(i.org_id.to_string())
                    .bind(i.created_by.to_string())
                    .bind(i.enterprise_id.to_string())
                    .bind(1_i64)
                    .bind(serde_json::to_string(i).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
                    .bind(stamp.clone());
            }
            query.execute(&mut *tx).await?;
            let people: Vec<(&Inspection, &zhicha_core::model::InspectorRef)> = chunk
                .iter()
                .flat_map(|i| i.inspectors.iter().map(move |p| (i, p)))
                .collect();
            if people.is_empty() {
                continue;
            }
            let rows: Vec<String> = (0..people.len())
                .map(|r| format!("({})", self.backend.markers(r * 5 + 1, 5)))
                .collect();
            let sql = format!(
                "INSERT INTO inspection_inspectors (inspection_id, user_id, name, org_id, \
                 started_day) VALUES {} ON CONFLICT (inspection_id, user_id) DO NOTHING",
                rows.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (i, p) in people {
                query = query
                    .bind(i.id.to_string())
                    .bind(p.user_id.to_string())
                    .bind(p.name.clone())
                    .bind(i.org_id.to_string())
                    .bind(china_day(i.started_at).to_string());
            }
            query.execute(&mut *tx).await?;
        }
        const COLUMNS: usize = 22;
        for chunk in findings.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", self.backend.markers(r * COLUMNS + 1, COLUMNS)))
                .collect();
            let sql = format!(
                "INSERT INTO findings (id, inspection_id, org_id, created_by, status, level, \
                 deadline, flagged, rev, data, updated_at, found_at, found_day, closed_at, \
                 closed_day, supervised, search_text, enterprise_id, enterprise_name, county, \
                 township, sector) VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for f in chunk {
                let c = finding_columns(f);
                let enterprise = enterprises.get(&f.enterprise_id.to_string());
                let inspection = by_id.get(&f.inspection_id.to_string()).copied();
                let sector = finding_sector(f, inspection, enterprise);
                query = query
                    .bind(f.id.to_string())
                    .bind(f.inspection_id.to_string())
                    .bind(f.org_id.to_string())
                    .bind(f.created_by.to_string())
                    .bind(f.status.wire_name())
                    .bind(f.level.wire_name())
                    .bind(f.deadline.map(|d| d.to_string()))
                    .bind(0_i64)
                    .bind(1_i64)
                    .bind(serde_json::to_string(f).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
                    .bind(stamp.clone())
                    .bind(c.found_at)
                    .bind(c.found_day)
                    .bind(c.closed_at)
                    .bind(c.closed_day)
                    .bind(c.supervised)
                    .bind(c.search_text)
                    .bind(f.enterprise_id.to_string())
                    .bind(enterprise.map(|e| e.name.clone()).unwrap_or_default())
                    .bind(enterprise.map(|e| e.county.clone()).unwrap_or_default())
                    .bind(enterprise.map(|e| e.township.clone()).unwrap_or_default())
                    .bind(sector.map(WireName::wire_name));
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Refreshes the planner's statistics (after a bulk load).
    pub async fn analyze(&self) -> Result<(), sqlx::Error> {
        sqlx::raw_sql("ANALYZE").execute(&self.writer).await?;
        Ok(())
    }
}
