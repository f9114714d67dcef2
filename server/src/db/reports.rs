//! 举报 as stored (migration 0015): the reports with their status (core's `ReportStatus` as
//! JSON), their photos, and the one-use questions of the public page.

use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;
use zhicha_core::complaint::{Report, ReportStatus};
use zhicha_core::ids::OrgId;

use super::ledger_columns::decode_json;
use super::users::parse_id;
use super::{Store, now, placeholders};

/// A report to store, with its photos (MIME type, base64 bytes).
pub struct ReportRecord {
    pub id: Uuid,
    pub org_id: OrgId,
    pub text: String,
    pub place: String,
    pub contact: String,
    pub photos: Vec<(&'static str, String)>,
    pub address: String,
    pub received_ms: i64,
    pub status: ReportStatus,
}

#[derive(FromRow)]
struct Row {
    id: String,
    org_id: String,
    text: String,
    place: String,
    contact: String,
    photos: i64,
    status: String,
}

const COLUMNS: &str = "id, org_id, text, place, contact, photos, status";

fn decode(row: Row) -> Result<(Uuid, OrgId, Report), sqlx::Error> {
    let status: ReportStatus = decode_json(&row.status)?;
    let id: Uuid = parse_id(&row.id)?;
    let org_id: OrgId = parse_id(&row.org_id)?;
    Ok((
        id,
        org_id,
        Report {
            id,
            org_id,
            text: row.text,
            place: row.place,
            contact: row.contact,
            photos: u32::try_from(row.photos).unwrap_or(0),
            status,
            overdue: false,
        },
    ))
}

fn encode<T: serde::Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

impl Store {
    /// Keeps a question's answer until `expires_ms` (and drops the expired ones).
    pub async fn insert_challenge(
        &self,
        id: Uuid,
        answer: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query("DELETE FROM report_challenges WHERE expires_ms <= $1")
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO report_challenges (id, answer, expires_ms) VALUES ($1, $2, $3)")
            .bind(id.to_string())
            .bind(answer)
            .bind(expires_ms)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Uses up a question: true when it existed, had not expired and `answer` is its answer. A
    /// question is gone after one try, right or wrong.
    pub async fn take_challenge(
        &self,
        id: Uuid,
        answer: &str,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let row: Option<(String, i64)> = sqlx::query_as(
            "DELETE FROM report_challenges WHERE id = $1 RETURNING answer, expires_ms",
        )
        .bind(id.to_string())
        .fetch_optional(&self.writer)
        .await?;
        Ok(row.is_some_and(|(expected, expires)| expected == answer.trim() && expires > now_ms))
    }

    /// Reports sent from `address` since `since_ms`.
    pub async fn reports_from(&self, address: &str, since_ms: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE address = $1 AND received_ms > $2")
            .bind(address)
            .bind(since_ms)
            .fetch_one(&self.pool)
            .await
    }

    pub async fn insert_report(&self, report: &ReportRecord) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        sqlx::query(
            "INSERT INTO reports (id, code, org_id, text, place, contact, photos, address, \
             received_ms, status, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(report.id.to_string())
        .bind(&report.status.code)
        .bind(report.org_id.to_string())
        .bind(&report.text)
        .bind(&report.place)
        .bind(&report.contact)
        .bind(i64::try_from(report.photos.len()).unwrap_or(0))
        .bind(&report.address)
        .bind(report.received_ms)
        .bind(encode(&report.status)?)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        for (n, (mime, data)) in (0i64..).zip(&report.photos) {
            sqlx::query(
                "INSERT INTO report_photos (report_id, n, mime, data) VALUES ($1, $2, $3, $4)",
            )
            .bind(report.id.to_string())
            .bind(n)
            .bind(*mime)
            .bind(data)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    pub async fn report_by_code(&self, code: &str) -> Result<Option<Report>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM reports WHERE code = $1");
        sqlx::query_as::<_, Row>(AssertSqlSafe(sql))
            .bind(code)
            .fetch_optional(&self.pool)
            .await?
            .map(|row| decode(row).map(|(_, _, report)| report))
            .transpose()
    }

    pub async fn report(&self, id: Uuid) -> Result<Option<Report>, sqlx::Error> {
        let sql = format!("SELECT {COLUMNS} FROM reports WHERE id = $1");
        sqlx::query_as::<_, Row>(AssertSqlSafe(sql))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?
            .map(|row| decode(row).map(|(_, _, report)| report))
            .transpose()
    }

    /// The reports to `orgs`, newest first, at most 500.
    pub async fn reports_to(&self, orgs: &[OrgId]) -> Result<Vec<Report>, sqlx::Error> {
        if orgs.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM reports WHERE org_id IN ({}) ORDER BY received_ms DESC LIMIT 500",
            placeholders(1, orgs.len())
        );
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        for org in orgs {
            query = query.bind(org.to_string());
        }
        query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(|row| decode(row).map(|(_, _, report)| report))
            .collect()
    }

    /// Replaces a report's status, if it is still `expected` (a decision made at the same time
    /// by another leader is not overwritten): whether it was replaced.
    pub async fn update_report_status(
        &self,
        id: Uuid,
        expected: &ReportStatus,
        status: &ReportStatus,
        by: &str,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query(
            "UPDATE reports SET status = $1, handled_by = $2, updated_at = $3 \
             WHERE id = $4 AND status = $5",
        )
        .bind(encode(status)?)
        .bind(by)
        .bind(now())
        .bind(id.to_string())
        .bind(encode(expected)?)
        .execute(&self.writer)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A report's photo `n`: its MIME type and base64 bytes.
    pub async fn report_photo(
        &self,
        id: Uuid,
        n: i64,
    ) -> Result<Option<(String, String)>, sqlx::Error> {
        sqlx::query_as("SELECT mime, data FROM report_photos WHERE report_id = $1 AND n = $2")
            .bind(id.to_string())
            .bind(n)
            .fetch_optional(&self.pool)
            .await
    }
}
