//! Push and pull (protocol.md): idempotent, seq-checked application of device mutations, one
//! database transaction per batch with a savepoint per mutation, and the change log that pull reads by cursor.
//!
//! Change-log writes are serialized by the single `change_counter` row: a transaction takes
//! its seqs with `UPDATE … RETURNING` just before commit and holds the row lock until commit,
//! so on PostgreSQL transactions commit in seq order and a reader that sees seq N also sees
//! every seq below it — a cursor can never skip a change. (SQLite has one writer anyway.)

use std::collections::{BTreeSet, HashMap};

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{Any, AssertSqlSafe, FromRow, Transaction};
use uuid::Uuid;
use zhicha_core::ids::{DeviceId, MutationId, OrgId};
use zhicha_core::lifecycle::Actor;
use zhicha_core::model::{Finding, Inspection, OrgUnit, Role, User};
use zhicha_core::protocol::{
    Ack, AckStatus, Change, EntityKind, ErrorBody, Gap, Mutation, PullResponse, PushResponse,
};

use self::apply::apply;
use super::users::parse_id;
use super::{Backend, Store, is_unique_violation, now, placeholders};
use crate::auth::{Scope, directory_scope};

mod apply;

pub(in crate::db) type Tx = Transaction<'static, Any>;

/// Who is writing: the token's user, their scope and the org tree.
#[derive(Clone, Copy)]
pub struct Author<'a> {
    pub user: &'a User,
    pub scope: &'a Scope,
    pub orgs: &'a [OrgUnit],
    /// Appended to the `SELECT` of a record about to be rewritten: `FOR UPDATE` on PostgreSQL,
    /// so concurrent writers of one record queue instead of both writing the same rev (SQLite
    /// has a single writer and no such clause).
    row_lock: &'static str,
}

impl<'a> Author<'a> {
    pub fn new(user: &'a User, scope: &'a Scope, orgs: &'a [OrgUnit]) -> Self {
        Self {
            user,
            scope,
            orgs,
            row_lock: "",
        }
    }

    /// The lifecycle's view of this user for a record of `org`.
    fn actor(&self, org: OrgId) -> Actor {
        Actor {
            user_id: self.user.id,
            role: self.user.role,
            same_team: self.user.org_id == org || self.user.role == Role::Admin,
            in_scope: self.scope.contains(org),
        }
    }

    /// Orgs whose enterprise directory this user sees: their scope and the units above them.
    fn directory_orgs(&self) -> Scope {
        directory_scope(self.user, self.scope, self.orgs)
    }
}

/// A mutation refused by the rules; the seq still advances.
type Rejection = ErrorBody;

fn reject(code: &str, message: impl Into<String>) -> Rejection {
    ErrorBody::new(code, message)
}

/// A row appended to the change log when the transaction commits.
pub(in crate::db) struct ChangeRow {
    pub entity: EntityKind,
    pub id: Uuid,
    pub org_id: OrgId,
    pub rev: i64,
    pub detail: Option<String>,
}

/// What applying one valid mutation produced.
struct Applied {
    rev: i64,
    changes: Vec<ChangeRow>,
}

enum Outcome {
    Ack(Ack),
    Gap(u64),
}

pub(crate) fn entity_name(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::Inspection => "inspection",
        EntityKind::Finding => "finding",
        EntityKind::Enterprise => "enterprise",
        EntityKind::Photo => "photo",
        EntityKind::User => "user",
        EntityKind::Org => "org",
    }
}

fn parse_entity(name: &str) -> Result<EntityKind, sqlx::Error> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn status_name(status: AckStatus) -> &'static str {
    match status {
        AckStatus::Applied => "applied",
        AckStatus::Duplicate => "duplicate",
        AckStatus::Rejected => "rejected",
    }
}

fn to_json<T: Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

#[derive(FromRow)]
struct AckRow {
    status: String,
    rev: Option<i64>,
    error: Option<String>,
}

#[derive(FromRow)]
struct EntityRow {
    rev: i64,
    data: String,
}

/// Parses a pull cursor (`c:<seq>`); absent means the beginning.
pub fn parse_cursor(cursor: Option<&str>) -> Option<i64> {
    match cursor {
        None | Some("") => Some(0),
        Some(text) => text
            .strip_prefix("c:")?
            .parse()
            .ok()
            .filter(|seq: &i64| *seq >= 0),
    }
}

fn format_cursor(seq: i64) -> String {
    format!("c:{seq}")
}

impl Store {
    /// Applies a batch in outbox order, stopping at a seq gap: each mutation inside its own
    /// savepoint of one transaction for the whole batch, so it is applied or rejected on its own
    /// while the batch costs one commit (one fsync on SQLite) instead of one per mutation. Acks
    /// are answered only after that commit; a batch that fails is rolled back whole and the
    /// device's retry is answered from the stored acks of whatever did commit.
    pub async fn push(
        &self,
        author: &Author<'_>,
        device: DeviceId,
        mutations: &[Mutation],
    ) -> Result<PushResponse, sqlx::Error> {
        let author = &Author {
            row_lock: match self.backend {
                Backend::Postgres => " FOR UPDATE",
                Backend::Sqlite => "",
            },
            ..*author
        };
        match self.push_batch(author, device, mutations).await {
            // Two PostgreSQL batches that lock the same records in opposite orders: apply this
            // one a mutation per transaction, which holds one record lock at a time.
            Err(error) if is_deadlock(&error) => self.push_each(author, device, mutations).await,
            result => result,
        }
    }

    async fn push_batch(
        &self,
        author: &Author<'_>,
        device: DeviceId,
        mutations: &[Mutation],
    ) -> Result<PushResponse, sqlx::Error> {
        let device_id = device.to_string();
        let mut tx = self.writer.begin().await?;
        let mut acks = Vec::with_capacity(mutations.len());
        let mut changes = Vec::new();
        let mut gap = None;
        for mutation in mutations {
            match push_one(&mut tx, author, &device_id, mutation, &mut changes).await? {
                Outcome::Ack(ack) => acks.push(ack),
                Outcome::Gap(expected) => {
                    gap = Some(Gap { expected });
                    break;
                }
            }
        }
        // The change counter is taken last, so its row lock is held only for the commit.
        append_changes(&mut tx, &changes).await?;
        tx.commit().await?;
        Ok(PushResponse { acks, gap })
    }

    /// The batch a mutation per transaction (after a deadlock of the whole-batch transaction).
    async fn push_each(
        &self,
        author: &Author<'_>,
        device: DeviceId,
        mutations: &[Mutation],
    ) -> Result<PushResponse, sqlx::Error> {
        let device_id = device.to_string();
        let mut acks = Vec::with_capacity(mutations.len());
        for mutation in mutations {
            let mut tx = self.writer.begin().await?;
            let mut changes = Vec::new();
            let outcome = push_one(&mut tx, author, &device_id, mutation, &mut changes).await?;
            append_changes(&mut tx, &changes).await?;
            tx.commit().await?;
            match outcome {
                Outcome::Ack(ack) => acks.push(ack),
                Outcome::Gap(expected) => {
                    return Ok(PushResponse {
                        acks,
                        gap: Some(Gap { expected }),
                    });
                }
            }
        }
        Ok(PushResponse { acks, gap: None })
    }

    /// One page of the changes visible in `scope` (and, for enterprises, `directory`) after
    /// `cursor`.
    pub async fn pull(
        &self,
        scope: &Scope,
        directory: &Scope,
        cursor: i64,
        limit: u32,
    ) -> Result<PullResponse, sqlx::Error> {
        #[derive(FromRow)]
        struct LogRow {
            seq: i64,
            entity: String,
            entity_id: String,
            detail: Option<String>,
        }
        let mut binds: Vec<String> = Vec::new();
        let record_filter = match scope.org_ids() {
            None => "entity <> 'enterprise'".to_owned(),
            Some(ids) => {
                let sql = format!(
                    "(entity <> 'enterprise' AND org_id IN ({}))",
                    placeholders(3 + binds.len(), ids.len())
                );
                binds.extend(ids);
                sql
            }
        };
        let directory_filter = match directory.org_ids() {
            None => "entity = 'enterprise'".to_owned(),
            Some(ids) => {
                let sql = format!(
                    "(entity = 'enterprise' AND org_id IN ({}))",
                    placeholders(3 + binds.len(), ids.len())
                );
                binds.extend(ids);
                sql
            }
        };
        let sql = format!(
            "SELECT seq, entity, entity_id, detail FROM change_log \
             WHERE seq > $1 AND ({record_filter} OR {directory_filter}) ORDER BY seq LIMIT $2"
        );
        let mut query = sqlx::query_as::<_, LogRow>(AssertSqlSafe(sql))
            .bind(cursor)
            .bind(i64::from(limit) + 1);
        for bind in binds {
            query = query.bind(bind);
        }
        let mut rows = query.fetch_all(&self.pool).await?;
        let has_more = rows.len() > limit as usize;
        rows.truncate(limit as usize);
        let next_cursor = rows.last().map_or(cursor, |row| row.seq);

        // Only the latest change of each record matters: its data is the current state.
        let mut latest: Vec<(EntityKind, String, Option<String>)> = Vec::new();
        let mut seen = BTreeSet::new();
        for row in rows.iter().rev() {
            let key = (
                row.entity.clone(),
                row.entity_id.clone(),
                row.detail.clone(),
            );
            if seen.insert(key) {
                latest.push((
                    parse_entity(&row.entity)?,
                    row.entity_id.clone(),
                    row.detail.clone(),
                ));
            }
        }
        latest.reverse();

        let mut current: HashMap<(EntityKind, String, Option<String>), (i64, String)> =
            HashMap::new();
        for (kind, table) in [
            (EntityKind::Inspection, "inspections"),
            (EntityKind::Finding, "findings"),
            (EntityKind::Enterprise, "enterprises"),
        ] {
            let ids: Vec<&String> = latest
                .iter()
                .filter(|(k, _, _)| *k == kind)
                .map(|(_, id, _)| id)
                .collect();
            if ids.is_empty() {
                continue;
            }
            #[derive(FromRow)]
            struct Row {
                id: String,
                rev: i64,
                data: String,
            }
            let sql = format!(
                "SELECT id, rev, data FROM {table} WHERE id IN ({})",
                placeholders(1, ids.len())
            );
            let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
            for id in ids {
                query = query.bind(id.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                current.insert((kind, row.id, None), (row.rev, row.data));
            }
        }
        let owners: BTreeSet<&String> = latest
            .iter()
            .filter(|(k, _, _)| *k == EntityKind::Photo)
            .map(|(_, id, _)| id)
            .collect();
        if !owners.is_empty() {
            #[derive(FromRow)]
            struct Row {
                owner_id: String,
                hash: String,
                data: Option<String>,
            }
            let sql = format!(
                "SELECT owner_id, hash, data FROM photo_refs WHERE source = 'attach' \
                 AND owner_id IN ({})",
                placeholders(1, owners.len())
            );
            let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
            for owner in owners {
                query = query.bind(owner.clone());
            }
            for row in query.fetch_all(&self.pool).await? {
                if let Some(data) = row.data {
                    current.insert((EntityKind::Photo, row.owner_id, Some(row.hash)), (1, data));
                }
            }
        }

        let mut changes = Vec::with_capacity(latest.len());
        for key in latest {
            let id: Uuid = parse_id(&key.1)?;
            let change = match current.remove(&key) {
                Some((rev, data)) => Change {
                    entity: key.0,
                    id,
                    rev,
                    data: Some(from_json(&data)?),
                    deleted: false,
                },
                None => Change {
                    entity: key.0,
                    id,
                    rev: 0,
                    data: None,
                    deleted: true,
                },
            };
            changes.push(change);
        }
        Ok(PullResponse {
            changes,
            cursor: format_cursor(next_cursor),
            has_more,
        })
    }

    /// The newest change-log seq (for tests and the benchmark).
    pub async fn last_change_seq(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT last FROM change_counter WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    /// A stored finding with its rev.
    pub async fn finding(&self, id: &str) -> Result<Option<(i64, Finding)>, sqlx::Error> {
        let row = sqlx::query_as::<_, EntityRow>("SELECT rev, data FROM findings WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.rev, from_json(&row.data)?)))
            .transpose()
    }

    /// A stored inspection with its rev.
    pub async fn inspection(&self, id: &str) -> Result<Option<(i64, Inspection)>, sqlx::Error> {
        let row = sqlx::query_as::<_, EntityRow>("SELECT rev, data FROM inspections WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.rev, from_json(&row.data)?)))
            .transpose()
    }

    /// How many revisions were kept for a record (tests: nothing silently overwritten).
    pub async fn revision_count(&self, entity: EntityKind, id: &str) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT COUNT(*) FROM revisions WHERE entity = $1 AND entity_id = $2")
            .bind(entity_name(entity))
            .bind(id)
            .fetch_one(&self.pool)
            .await
    }
}

async fn stored_ack(
    tx: &mut Tx,
    device_id: &str,
    mutation_id: MutationId,
) -> Result<Option<Ack>, sqlx::Error> {
    let row = sqlx::query_as::<_, AckRow>(
        "SELECT status, rev, error FROM acks WHERE device_id = $1 AND mutation_id = $2",
    )
    .bind(device_id)
    .bind(mutation_id.to_string())
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| {
        // A replay of an applied mutation answers `duplicate` with the stored rev; a replay of
        // a rejected one answers the stored rejection again, so the device still sees why.
        let status = if row.status == "rejected" {
            AckStatus::Rejected
        } else {
            AckStatus::Duplicate
        };
        Ok(Ack {
            mutation_id,
            status,
            rev: row.rev,
            error: row.error.as_deref().map(from_json).transpose()?,
        })
    })
    .transpose()
}

/// Runs a statement that takes no parameters (savepoints).
async fn run(tx: &mut Tx, sql: &'static str) -> Result<(), sqlx::Error> {
    sqlx::query(sql).execute(&mut **tx).await?;
    Ok(())
}

/// One mutation inside the push transaction, in the savepoint `mutation`: its stored ack (a
/// replay), the gap, or its ack after applying or rejecting it; its change-log rows are added
/// to `changes`. Nothing of it stays unless its ack was written.
async fn push_one(
    tx: &mut Tx,
    author: &Author<'_>,
    device_id: &str,
    mutation: &Mutation,
    changes: &mut Vec<ChangeRow>,
) -> Result<Outcome, sqlx::Error> {
    // A concurrent push of the same device can win the race for this seq; then the second
    // look finds either its stored ack (a duplicate) or the gap. A concurrent creation of the
    // same record by another device is retried as an update.
    for _ in 0..3 {
        if let Some(ack) = stored_ack(tx, device_id, mutation.mutation_id).await? {
            return Ok(Outcome::Ack(ack));
        }
        run(tx, "SAVEPOINT mutation").await?;
        let advanced = match i64::try_from(mutation.seq) {
            Ok(seq) if seq > 0 => {
                sqlx::query(
                    "UPDATE devices SET last_seq = $1 WHERE device_id = $2 AND last_seq = $3",
                )
                .bind(seq)
                .bind(device_id)
                .bind(seq - 1)
                .execute(&mut **tx)
                .await?
                .rows_affected()
                    == 1
            }
            _ => false,
        };
        if !advanced {
            run(tx, "RELEASE SAVEPOINT mutation").await?;
            let last: i64 = sqlx::query_scalar("SELECT last_seq FROM devices WHERE device_id = $1")
                .bind(device_id)
                .fetch_optional(&mut **tx)
                .await?
                .unwrap_or(0);
            let expected = u64::try_from(last).unwrap_or(0) + 1;
            if mutation.seq != expected {
                if let Some(ack) = stored_ack(tx, device_id, mutation.mutation_id).await? {
                    return Ok(Outcome::Ack(ack));
                }
                return Ok(Outcome::Gap(expected));
            }
            continue;
        }
        let (ack, applied_changes) = match apply(tx, author, mutation).await {
            Ok(Ok(applied)) => {
                let ack = Ack {
                    mutation_id: mutation.mutation_id,
                    status: AckStatus::Applied,
                    rev: Some(applied.rev),
                    error: None,
                };
                (ack, applied.changes)
            }
            Ok(Err(error)) => {
                let ack = Ack {
                    mutation_id: mutation.mutation_id,
                    status: AckStatus::Rejected,
                    rev: None,
                    error: Some(error),
                };
                (ack, Vec::new())
            }
            // Another device created the same record (or claimed the same credit code) at
            // the same moment: start over, and this time see what it wrote.
            Err(error) if is_unique_violation(&error) => {
                run(tx, "ROLLBACK TO SAVEPOINT mutation").await?;
                run(tx, "RELEASE SAVEPOINT mutation").await?;
                continue;
            }
            Err(error) => return Err(error),
        };
        sqlx::query(
            "INSERT INTO acks (device_id, mutation_id, seq, user_id, kind, entity_id, status, \
             rev, error, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(device_id)
        .bind(mutation.mutation_id.to_string())
        .bind(i64::try_from(mutation.seq).unwrap_or(i64::MAX))
        .bind(author.user.id.to_string())
        .bind(mutation.kind.as_str())
        .bind(mutation.entity_id.to_string())
        .bind(status_name(ack.status))
        .bind(ack.rev)
        .bind(ack.error.as_ref().map(to_json).transpose()?)
        .bind(now())
        .execute(&mut **tx)
        .await?;
        run(tx, "RELEASE SAVEPOINT mutation").await?;
        changes.extend(applied_changes);
        return Ok(Outcome::Ack(ack));
    }
    Err(sqlx::Error::Protocol(
        "push kept racing with another push of the same device".into(),
    ))
}

/// True for a PostgreSQL deadlock (SQLSTATE 40P01): the transaction was rolled back.
fn is_deadlock(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("40P01"))
}

pub(in crate::db) async fn append_changes(
    tx: &mut Tx,
    changes: &[ChangeRow],
) -> Result<(), sqlx::Error> {
    if changes.is_empty() {
        return Ok(());
    }
    let count = i64::try_from(changes.len()).unwrap_or(i64::MAX);
    let last: i64 = sqlx::query_scalar(
        "UPDATE change_counter SET last = last + $1 WHERE id = 1 RETURNING last",
    )
    .bind(count)
    .fetch_one(&mut **tx)
    .await?;
    let created_at = now();
    for (seq, change) in (last - count + 1..).zip(changes) {
        sqlx::query(
            "INSERT INTO change_log (seq, entity, entity_id, org_id, rev, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(seq)
        .bind(entity_name(change.entity))
        .bind(change.id.to_string())
        .bind(change.org_id.to_string())
        .bind(change.rev)
        .bind(change.detail.clone())
        .bind(&created_at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}
