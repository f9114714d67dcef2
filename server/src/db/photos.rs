//! What the database knows of photos: which are held, who uploaded them, who may reference
//! and see them, and receipts.
//!
//! A photo is named by its hash, and a hash alone must never be a key to the bytes: a user may
//! reference a hash in a record (and so, through the record, download it) only if the server
//! does not hold the bytes yet — text mutations travel before their photos — or they uploaded
//! the bytes themselves, or they may already see a record whose reference counts. A reference
//! counts when it was checked that way while the bytes were held (`checked`), or, for one
//! written before the bytes arrived, once its writer or someone of the record's own team
//! uploads them: a hash learned elsewhere and referenced early grants nothing when its owner's
//! upload comes in. Downloads follow the same rule (see [`Store::photo_visible`]).

use std::collections::{HashMap, HashSet};

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::ids::{InspectionId, OrgId, PhotoHash};
use zhicha_core::model::User;

use super::sync::Tx;
use super::users::parse_id;
use super::{Backend, Store, now, placeholders};
use crate::scope::Scope;

/// The condition on a `photo_refs` row `r` that makes it count (see the module docs).
const REFERENCE_COUNTS: &str = "(r.checked = 1 OR EXISTS (SELECT 1 FROM photo_uploads u \
     WHERE u.hash = r.hash AND (u.user_id = r.referenced_by OR u.org_id = r.org_id)))";

/// Whether one writer may reference a photo in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PhotoUse {
    /// The server does not hold the bytes yet: accepted (its upload follows the text), but the
    /// reference counts only once its writer or the record's team uploads the bytes.
    Pending,
    /// Held, and the writer uploaded the bytes or may see a record whose reference counts.
    Allowed,
    /// Held, and neither: the writer knows only the hash.
    Refused,
}

impl PhotoUse {
    /// The `checked` column of a reference written now.
    pub(crate) fn checked(self) -> bool {
        self == PhotoUse::Allowed
    }
}

/// What `user` (seeing `scope`) may do with each of `hashes`.
pub(in crate::db) async fn photo_uses(
    tx: &mut Tx,
    backend: Backend,
    user: &User,
    scope: &Scope,
    hashes: &[PhotoHash],
) -> Result<HashMap<PhotoHash, PhotoUse>, sqlx::Error> {
    let mut uses: HashMap<PhotoHash, PhotoUse> = hashes
        .iter()
        .map(|hash| (hash.clone(), PhotoUse::Pending))
        .collect();
    let held = matching(tx, backend, "SELECT hash FROM photos WHERE", "", hashes).await?;
    if held.is_empty() {
        return Ok(uses);
    }
    let held: Vec<PhotoHash> = hashes
        .iter()
        .filter(|h| held.contains(h.as_str()))
        .cloned()
        .collect();
    let mine = matching(
        tx,
        backend,
        "SELECT hash FROM photo_uploads WHERE user_id = ",
        &user.id.to_string(),
        &held,
    )
    .await?;
    let others: Vec<PhotoHash> = held
        .iter()
        .filter(|h| !mine.contains(h.as_str()))
        .cloned()
        .collect();
    let mut visible = HashSet::new();
    for chunk in others.chunks(MAX_HASHES) {
        #[derive(FromRow)]
        struct Row {
            hash: String,
            org_id: String,
        }
        let sql = format!(
            "SELECT DISTINCT r.hash, r.org_id FROM photo_refs r WHERE r.hash IN ({}) AND \
             {REFERENCE_COUNTS}",
            backend.markers(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        for hash in chunk {
            query = query.bind(hash.as_str().to_owned());
        }
        for row in query.fetch_all(&mut **tx).await? {
            if scope.contains(parse_id(&row.org_id)?) {
                visible.insert(row.hash);
            }
        }
    }
    for hash in held {
        let allowed = mine.contains(hash.as_str()) || visible.contains(hash.as_str());
        let verdict = if allowed {
            PhotoUse::Allowed
        } else {
            PhotoUse::Refused
        };
        uses.insert(hash, verdict);
    }
    Ok(uses)
}

/// At most this many hashes in one `IN (…)` list.
const MAX_HASHES: usize = 1_000;

/// The hashes of `hashes` that `{head} {bound} AND hash IN (…)` finds (`bound` empty: no
/// bound value and no `AND`).
async fn matching(
    tx: &mut Tx,
    backend: Backend,
    head: &str,
    bound: &str,
    hashes: &[PhotoHash],
) -> Result<HashSet<String>, sqlx::Error> {
    let mut found = HashSet::new();
    for chunk in hashes.chunks(MAX_HASHES) {
        let (condition, first) = if bound.is_empty() {
            (String::new(), 1)
        } else {
            (format!("{} AND", backend.markers(1, 1)), 2)
        };
        let sql = format!(
            "{head}{condition} hash IN ({})",
            backend.markers(first, chunk.len())
        );
        let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        if !bound.is_empty() {
            query = query.bind(bound.to_owned());
        }
        for hash in chunk {
            query = query.bind(hash.as_str().to_owned());
        }
        found.extend(query.fetch_all(&mut **tx).await?);
    }
    Ok(found)
}

impl Store {
    /// Notes that the bytes are in object storage (idempotent), and that `user` uploaded them:
    /// the upload proved they hold the bytes, whoever uploaded them first.
    pub async fn record_photo(
        &self,
        hash: &PhotoHash,
        size: u64,
        user: &User,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        let at = now();
        sqlx::query(
            "INSERT INTO photos (hash, size, uploaded_by, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash.as_str())
        .bind(i64::try_from(size).unwrap_or(i64::MAX))
        .bind(user.id.to_string())
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO photo_uploads (hash, user_id, org_id, created_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (hash, user_id) DO NOTHING",
        )
        .bind(hash.as_str())
        .bind(user.id.to_string())
        .bind(user.org_id.to_string())
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Bytes of new photos `user` uploaded since `since` (stored time text), and the time of the
    /// oldest of them.
    pub async fn photo_bytes_since(
        &self,
        user: &User,
        since: &str,
    ) -> Result<(u64, Option<String>), sqlx::Error> {
        let (bytes, oldest): (Option<i64>, Option<String>) = sqlx::query_as(
            "SELECT CAST(SUM(size) AS BIGINT), MIN(created_at) FROM photos \
             WHERE uploaded_by = $1 AND created_at >= $2",
        )
        .bind(user.id.to_string())
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok((u64::try_from(bytes.unwrap_or(0)).unwrap_or(0), oldest))
    }

    pub async fn photo_recorded(&self, hash: &PhotoHash) -> Result<bool, sqlx::Error> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM photos WHERE hash = $1")
            .bind(hash.as_str())
            .fetch_one(&self.pool)
            .await?;
        Ok(count > 0)
    }

    /// True when a record in `scope` references the photo and the reference counts (see the
    /// module docs): the same rule as referencing it, so a hash put in a record before its
    /// owner uploaded the bytes opens nothing.
    pub async fn photo_visible(
        &self,
        hash: &PhotoHash,
        scope: &Scope,
    ) -> Result<bool, sqlx::Error> {
        let sql = format!(
            "SELECT DISTINCT r.org_id FROM photo_refs r WHERE r.hash = $1 AND {REFERENCE_COUNTS}"
        );
        let orgs: Vec<String> = sqlx::query_scalar(AssertSqlSafe(sql))
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
