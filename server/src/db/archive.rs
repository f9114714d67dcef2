//! What an exported 案卷 reads from the database (`operator::archive`): an inspection and its
//! findings exactly as stored, and the server's signing key, made on first use.

use sqlx::FromRow;
use zhicha_core::evidence;

use super::{Store, now};

/// An inspection and its findings, their `data` text exactly as stored.
#[derive(Debug, Clone)]
pub struct StoredInspection {
    pub id: String,
    /// The org unit as stored: whose the inspection is.
    pub org_id: String,
    pub data: String,
    /// `(id, data)` of each finding of the inspection, by id.
    pub findings: Vec<(String, String)>,
}

/// A signing key of the server.
#[derive(Debug, Clone, FromRow)]
pub struct ServerKey {
    pub key_id: String,
    /// The P-256 scalar, hex.
    pub secret_key: String,
    /// Uncompressed SEC1, hex.
    pub public_key: String,
}

impl Store {
    /// The inspection `id` and its findings as stored; None when there is no such inspection.
    pub async fn stored_inspection(
        &self,
        id: &str,
    ) -> Result<Option<StoredInspection>, sqlx::Error> {
        let head: Option<(String, String)> =
            sqlx::query_as("SELECT org_id, data FROM inspections WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((org_id, data)) = head else {
            return Ok(None);
        };
        let findings: Vec<(String, String)> =
            sqlx::query_as("SELECT id, data FROM findings WHERE inspection_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(Some(StoredInspection {
            id: id.to_owned(),
            org_id,
            data,
            findings,
        }))
    }

    /// The server's key for `purpose`. The first use stores `make()`'s `(secret, public)` pair
    /// (hex); when two replicas make one at once, the first stored wins and both return it.
    pub async fn server_key(
        &self,
        purpose: &str,
        make: impl FnOnce() -> (String, String),
    ) -> Result<ServerKey, sqlx::Error> {
        let select = "SELECT key_id, secret_key, public_key FROM server_keys WHERE purpose = $1";
        if let Some(key) = sqlx::query_as::<_, ServerKey>(select)
            .bind(purpose)
            .fetch_optional(&self.pool)
            .await?
        {
            return Ok(key);
        }
        let (secret, public) = make();
        let key_id = evidence::unhex(&public)
            .map(|bytes| evidence::key_id(&bytes))
            .unwrap_or_default();
        sqlx::query(
            "INSERT INTO server_keys (purpose, key_id, secret_key, public_key, created_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (purpose) DO NOTHING",
        )
        .bind(purpose)
        .bind(&key_id)
        .bind(&secret)
        .bind(&public)
        .bind(now())
        .execute(&self.writer)
        .await?;
        sqlx::query_as::<_, ServerKey>(select)
            .bind(purpose)
            .fetch_one(&self.writer)
            .await
    }
}
