//! The enterprise directory and the team roster, as bootstrap and the operator commands see them.

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::model::{Enterprise, Finding, FindingStatus, User};
use zhicha_core::protocol::EntityKind;

use super::sync::{ChangeRow, EventFacts, append_changes};
use super::users::parse_id;
use super::{Store, now, placeholders};

#[derive(FromRow)]
struct DataRow {
    data: String,
}

fn decode<T: serde::de::DeserializeOwned>(rows: Vec<DataRow>) -> Result<Vec<T>, sqlx::Error> {
    rows.into_iter()
        .map(|row| serde_json::from_str(&row.data).map_err(|e| sqlx::Error::Decode(Box::new(e))))
        .collect()
}

/// `WHERE` clause text and values for "column IN (ids)", or everything when `ids` is None.
fn org_filter(column: &str, ids: Option<&[String]>, first_param: usize) -> String {
    match ids {
        None => "1 = 1".to_owned(),
        Some([]) => "1 = 0".to_owned(),
        Some(ids) => format!("{column} IN ({})", placeholders(first_param, ids.len())),
    }
}

impl Store {
    /// Inserts or replaces a directory entry (operator import, demo seed) and logs the change,
    /// so devices receive directory updates by pull as well as with bootstrap.
    pub async fn upsert_enterprise(&self, enterprise: &Enterprise) -> Result<(), sqlx::Error> {
        let data =
            serde_json::to_string(enterprise).map_err(|e| sqlx::Error::Encode(Box::new(e)))?;
        let mut tx = self.writer.begin().await?;
        let rev: i64 = sqlx::query_scalar(
            "INSERT INTO enterprises (id, org_id, name, credit_code, township, rev, data, updated_at) \
             VALUES ($1, $2, $3, $4, $5, 1, $6, $7) \
             ON CONFLICT (id) DO UPDATE SET org_id = excluded.org_id, name = excluded.name, \
             credit_code = excluded.credit_code, township = excluded.township, \
             rev = enterprises.rev + 1, data = excluded.data, updated_at = excluded.updated_at \
             RETURNING rev",
        )
        .bind(enterprise.id.to_string())
        .bind(enterprise.org_id.to_string())
        .bind(&enterprise.name)
        .bind(enterprise.credit_code.clone())
        .bind(&enterprise.township)
        .bind(data.as_str())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        let change = ChangeRow {
            entity: EntityKind::Enterprise,
            id: enterprise.id.0,
            org_id: enterprise.org_id,
            rev,
            detail: None,
            event: EventFacts::stored(&data).written("import", None),
        };
        append_changes(&mut tx, self.backend, &[change]).await?;
        super::ledger_columns::refresh_enterprise(&mut tx, enterprise).await?;
        tx.commit().await
    }

    /// The id of the directory entry with this 统一社会信用代码, if any.
    pub async fn enterprise_id_by_credit_code(
        &self,
        code: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT id FROM enterprises WHERE credit_code = $1")
            .bind(code)
            .fetch_optional(&self.pool)
            .await
    }

    /// Enterprises whose org is one of `org_ids` (None: all), by name.
    pub async fn enterprises_in(
        &self,
        org_ids: Option<&[String]>,
    ) -> Result<Vec<Enterprise>, sqlx::Error> {
        let sql = format!(
            "SELECT data FROM enterprises WHERE {} ORDER BY township, name",
            org_filter("org_id", org_ids, 1)
        );
        let mut query = sqlx::query_as::<_, DataRow>(AssertSqlSafe(sql));
        for id in org_ids.unwrap_or_default() {
            query = query.bind(id.clone());
        }
        decode(query.fetch_all(&self.pool).await?)
    }

    /// Active users of the given orgs (None: all).
    pub async fn users_in(&self, org_ids: Option<&[String]>) -> Result<Vec<User>, sqlx::Error> {
        let all = self.users().await?;
        Ok(match org_ids {
            None => all,
            Some(ids) => all
                .into_iter()
                .filter(|u| ids.contains(&u.org_id.to_string()))
                .collect(),
        })
    }

    /// Findings of the given orgs that are not closed out, oldest first.
    pub async fn open_findings_in(
        &self,
        org_ids: Option<&[String]>,
    ) -> Result<Vec<Finding>, sqlx::Error> {
        let sql = format!(
            "SELECT data FROM findings WHERE {} AND status <> $1 ORDER BY updated_at",
            org_filter("org_id", org_ids, 2)
        );
        let mut query = sqlx::query_as::<_, DataRow>(AssertSqlSafe(sql)).bind("closed");
        for id in org_ids.unwrap_or_default() {
            query = query.bind(id.clone());
        }
        let findings: Vec<Finding> = decode(query.fetch_all(&self.pool).await?)?;
        debug_assert!(findings.iter().all(|f| f.status != FindingStatus::Closed));
        Ok(findings)
    }

    /// Number of directory entries (for the operator commands' summaries).
    pub async fn enterprise_count(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM enterprises")
            .fetch_one(&self.pool)
            .await
    }

    /// The org of an enterprise, if it exists.
    pub async fn enterprise_org(
        &self,
        id: &str,
    ) -> Result<Option<zhicha_core::ids::OrgId>, sqlx::Error> {
        let org: Option<String> =
            sqlx::query_scalar("SELECT org_id FROM enterprises WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        org.as_deref().map(parse_id).transpose()
    }
}
