//! What the database knows of photos: which are held, who may see them, and receipts.

use sqlx::AssertSqlSafe;
use zhicha_core::ids::{InspectionId, OrgId, PhotoHash};

use super::users::parse_id;
use super::{Store, now, placeholders};
use crate::auth::Scope;

impl Store {
    /// Notes that the bytes are in object storage (idempotent).
    pub async fn record_photo(
        &self,
        hash: &PhotoHash,
        size: u64,
        user: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO photos (hash, size, uploaded_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash.as_str())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(user)
        .bind(now())
        .execute(&self.writer)
        .await?;
        Ok(())
    }

    pub async fn photo_recorded(&self, hash: &PhotoHash) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE hash = $1")
            .bind(hash.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }

    /// True when a record in `scope` references the photo.
    pub async fn photo_visible(
        &self,
        hash: &PhotoHash,
        scope: &Scope,
    ) -> Result<bool, sqlx::Error> {
        let orgs: Vec<String> =
            sqlx::query_scalar("SELECT DISTINCT org_id FROM photo_refs WHERE hash = $1")
                .bind(hash.as_str())
                .fetch_all(&self.pool)
                .await?;
        for org in orgs {
            if scope.contains(parse_id::<OrgId>(&org)?) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// An inspection's org and rev (the latest of the inspection and its findings).
    pub async fn inspection_head(
        &self,
        id: InspectionId,
    ) -> Result<Option<(OrgId, i64)>, sqlx::Error> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT org_id, rev FROM inspections WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(org, rev)| Ok((parse_id(&org)?, rev))).transpose()
    }

    /// The photo hashes an inspection's records reference, and those the server holds.
    pub async fn inspection_photos(
        &self,
        id: InspectionId,
    ) -> Result<(Vec<PhotoHash>, Vec<PhotoHash>), sqlx::Error> {
        let expected: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT hash FROM photo_refs WHERE inspection_id = $1 ORDER BY hash",
        )
        .bind(id.to_string())
        .fetch_all(&self.pool)
        .await?;
        let present: Vec<String> = if expected.is_empty() {
            Vec::new()
        } else {
            let sql = format!(
                "SELECT hash FROM photos WHERE hash IN ({}) ORDER BY hash",
                placeholders(1, expected.len())
            );
            let mut query = sqlx::query_scalar(AssertSqlSafe(sql));
            for hash in &expected {
                query = query.bind(hash.clone());
            }
            query.fetch_all(&self.pool).await?
        };
        let parse = |hashes: Vec<String>| -> Result<Vec<PhotoHash>, sqlx::Error> {
            hashes
                .iter()
                .map(|h| PhotoHash::parse(h).map_err(|e| sqlx::Error::Decode(Box::new(e))))
                .collect()
        };
        Ok((parse(expected)?, parse(present)?))
    }
}
