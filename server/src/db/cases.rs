//! Cases as stored (migration 0014), for the case screens: a case and the cases of a scope.
//! Written only by a push (`sync::cases`).

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::case::Case;

use super::ledger_columns::decode_json;
use super::{Store, placeholders};

#[derive(FromRow)]
struct Row {
    rev: i64,
    data: String,
    enterprise_name: Option<String>,
}

/// A stored case with its rev and its enterprise's name.
pub struct StoredCase {
    pub rev: i64,
    pub case: Case,
    pub enterprise_name: String,
}

fn decode(row: Row) -> Result<StoredCase, sqlx::Error> {
    Ok(StoredCase {
        rev: row.rev,
        case: decode_json(&row.data)?,
        enterprise_name: row.enterprise_name.unwrap_or_default(),
    })
}

const SELECT: &str = "SELECT c.rev, c.data, e.name AS enterprise_name FROM cases c \
                      LEFT JOIN enterprises e ON e.id = c.enterprise_id";

impl Store {
    pub async fn case(&self, id: &str) -> Result<Option<StoredCase>, sqlx::Error> {
        sqlx::query_as::<_, Row>(AssertSqlSafe(format!("{SELECT} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(decode)
            .transpose()
    }

    /// The cases of `orgs` (None: every unit), newest first, at most `limit`.
    pub async fn cases(
        &self,
        orgs: Option<Vec<String>>,
        limit: u32,
    ) -> Result<Vec<StoredCase>, sqlx::Error> {
        let filter = match &orgs {
            None => String::new(),
            Some(ids) if ids.is_empty() => " WHERE 1 = 0".to_owned(),
            Some(ids) => format!(" WHERE c.org_id IN ({})", placeholders(2, ids.len())),
        };
        let sql = format!("{SELECT}{filter} ORDER BY c.created_at DESC, c.id LIMIT $1");
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql)).bind(i64::from(limit));
        for id in orgs.unwrap_or_default() {
            query = query.bind(id);
        }
        query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(decode)
            .collect()
    }
}
