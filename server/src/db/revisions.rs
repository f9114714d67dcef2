//! A finding's kept versions with the write that replaced each — who, from which device, when,
//! why, whether it was a conflict, and which fields it changed — for leaders reviewing edits
//! and conflicts (`GET /findings/{id}/revisions`).

use chrono::{DateTime, Utc};
use sqlx::FromRow;
use zhicha_core::ids::{FindingId, OrgId};
use zhicha_core::model::Finding;
use zhicha_core::revision::{
    ClockWarning, FindingRevision, RevisionAuthor, RevisionsResponse, changed_fields,
};

use super::Store;
use super::users::parse_id;

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, sqlx::Error> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

impl Store {
    /// The finding's team and its history (see [`RevisionsResponse`]), or None when there is
    /// no such finding.
    pub async fn finding_revisions(
        &self,
        id: FindingId,
    ) -> Result<Option<(OrgId, RevisionsResponse)>, sqlx::Error> {
        #[derive(FromRow)]
        struct Head {
            rev: i64,
            data: String,
            flagged: i64,
        }
        #[derive(FromRow)]
        struct Row {
            rev: i64,
            data: String,
            replaced_by: String,
            name: Option<String>,
            device_id: Option<String>,
            created_at: String,
            reason: String,
            conflict: i64,
        }
        let id_text = id.to_string();
        let head =
            sqlx::query_as::<_, Head>("SELECT rev, data, flagged FROM findings WHERE id = $1")
                .bind(&id_text)
                .fetch_optional(&self.pool)
                .await?;
        let Some(head) = head else {
            return Ok(None);
        };
        let current: Finding = decode(&head.data)?;
        let rows = sqlx::query_as::<_, Row>(
            "SELECT r.rev, r.data, r.replaced_by, u.display_name AS name, r.device_id, \
             r.created_at, r.reason, r.conflict FROM revisions r \
             LEFT JOIN users u ON u.id = r.replaced_by \
             WHERE r.entity = 'finding' AND r.entity_id = $1 ORDER BY r.rev DESC",
        )
        .bind(&id_text)
        .fetch_all(&self.pool)
        .await?;
        // Newest first, each compared with the version that replaced it.
        let org = current.org_id;
        let mut next = current;
        let mut revisions = Vec::with_capacity(rows.len());
        for row in rows {
            let finding: Finding = decode(&row.data)?;
            revisions.push(FindingRevision {
                rev: u64::try_from(row.rev).unwrap_or(0),
                author: RevisionAuthor {
                    user_id: parse_id(&row.replaced_by)?,
                    name: row.name.unwrap_or_default(),
                },
                device_id: row.device_id.as_deref().map(parse_id).transpose()?,
                at: parse_time(&row.created_at)?,
                reason: row.reason,
                conflict: row.conflict != 0,
                changed_fields: changed_fields(&finding, &next),
                finding: finding.clone(),
            });
            next = finding;
        }
        // Writes from a phone whose clock was off (the event log keeps each push's skew).
        let limit = zhicha_core::evidence::MAX_CLOCK_SKEW_MS;
        let skewed = sqlx::query_as::<_, (i64, String, i64)>(
            "SELECT rev, at, clock_skew_ms FROM events WHERE entity = 'finding' \
             AND entity_id = $1 AND (clock_skew_ms > $2 OR clock_skew_ms < $3) ORDER BY seq",
        )
        .bind(&id_text)
        .bind(limit)
        .bind(-limit)
        .fetch_all(&self.pool)
        .await?;
        let clock_warnings = skewed
            .into_iter()
            .map(|(rev, at, skew_ms)| {
                Ok(ClockWarning {
                    rev: u64::try_from(rev).unwrap_or(0),
                    at: parse_time(&at)?,
                    skew_ms,
                })
            })
            .collect::<Result<_, sqlx::Error>>()?;
        Ok(Some((
            org,
            RevisionsResponse {
                finding_id: id,
                rev: u64::try_from(head.rev).unwrap_or(0),
                flagged: head.flagged != 0,
                revisions,
                clock_warnings,
            },
        )))
    }
}
