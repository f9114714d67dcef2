//! Push and pull (protocol.md): idempotent, seq-checked application of device mutations, one
//! database transaction per batch, and the change log that pull reads by cursor.
//!
//! A batch is applied set-wise: its stored acks, the device's seq and every record its
//! mutations touch are read in a few queries; the mutations are then checked and applied one
//! after the other in memory, each seeing what the earlier ones did (`batch`, `apply`); and what
//! they wrote goes out as a few multi-row statements and one commit. Each mutation still gets
//! its own ack — applied, duplicate or rejected — and a rejected one changes nothing.
//!
//! A mutation the database itself refuses (a value it cannot store that the rules let through)
//! fails its batch's transaction; the batch is then applied a mutation per transaction, and the
//! one the database refuses is rejected on its own (`storage_refused`) with the seq advanced, so
//! the rest of the batch is applied and the device never resends it forever.
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
    Ack, AckStatus, Change, EntityKind, ErrorBody, Mutation, MutationPayload, PayloadError,
    PullResponse, PushResponse,
};
use zhicha_core::push;
use zhicha_core::wire::WireName;

use self::apply::apply;
use self::batch::{Batch, Rows};
pub(in crate::db) use super::evidence::EventFacts;
use super::users::parse_id;
use super::{Backend, Store, is_unique_violation, now, placeholders};
use crate::scope::{Scope, directory_scope};

mod apply;
pub(in crate::db) mod batch;
mod cases;
mod tasks;

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
    /// Server time minus the phone's clock at the push, in ms, when the phone sent its time.
    clock_skew_ms: Option<i64>,
}

impl<'a> Author<'a> {
    pub fn new(user: &'a User, scope: &'a Scope, orgs: &'a [OrgUnit]) -> Self {
        Self {
            user,
            scope,
            orgs,
            row_lock: "",
            clock_skew_ms: None,
        }
    }

    /// This author, pushing from a phone whose clock read `device_time` when it sent the push:
    /// the difference to the server's clock goes on every event of the push.
    pub fn with_device_time(self, device_time: Option<chrono::DateTime<chrono::Utc>>) -> Self {
        Self {
            clock_skew_ms: device_time.map(|t| {
                chrono::Utc::now()
                    .signed_duration_since(t)
                    .num_milliseconds()
            }),
            ..self
        }
    }

    /// Server time minus the phone's clock at the push, in ms.
    pub(in crate::db) fn clock_skew_ms(&self) -> Option<i64> {
        self.clock_skew_ms
    }

    /// The lifecycle's view of this user for a record of `org`.
    fn actor(&self, org: OrgId) -> Actor {
        Actor {
            user_id: self.user.id,
            role: self.user.role,
            same_team: self.user.org_id == org
                || (self.user.role == Role::Admin && self.scope.contains(org)),
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

/// A row appended to the change log when the transaction commits, with its event.
pub(in crate::db) struct ChangeRow {
    pub entity: EntityKind,
    pub id: Uuid,
    pub org_id: OrgId,
    pub rev: i64,
    pub detail: Option<String>,
    /// What the event log records of this change beyond the change itself.
    pub event: EventFacts,
}

/// What applying one valid mutation produced.
struct Applied {
    rev: i64,
    changes: Vec<ChangeRow>,
}

fn to_json<T: Serialize>(value: &T) -> Result<String, sqlx::Error> {
    serde_json::to_string(value).map_err(|e| sqlx::Error::Encode(Box::new(e)))
}

fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|e| sqlx::Error::Decode(Box::new(e)))
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
    /// Applies a batch in outbox order, stopping at a seq gap, in one transaction. Acks are
    /// answered only after its commit; a batch that fails is rolled back whole and the device's
    /// retry is answered from the stored acks of whatever did commit.
    /// A push of no mutations is a probe (`push::classify`): answered with a gap when the
    /// device's `next_seq` is not the seq this server expects from it.
    pub async fn push(
        &self,
        author: &Author<'_>,
        device: DeviceId,
        mutations: &[Mutation],
        next_seq: Option<u64>,
        acked: &[MutationId],
    ) -> Result<PushResponse, sqlx::Error> {
        if mutations.is_empty() {
            let device_id = device.to_string();
            let mut tx = self.writer.begin().await?;
            let last_seq: Option<i64> =
                sqlx::query_scalar("SELECT last_seq FROM devices WHERE device_id = $1")
                    .bind(&device_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            let stored = stored_acks(&mut tx, self.backend, &device_id, acked).await?;
            tx.commit().await?;
            let last_seq = u64::try_from(last_seq.unwrap_or(0)).unwrap_or(0);
            let probe = push::classify::<Ack>(last_seq, &[], &HashMap::new(), next_seq);
            return Ok(PushResponse {
                acks: push::contradicted(acked, &stored),
                gap: probe.gap,
            });
        }
        let author = &Author {
            row_lock: match self.backend {
                Backend::Postgres => " FOR UPDATE",
                Backend::Sqlite => "",
            },
            ..*author
        };
        let device_id = device.to_string();
        match self.push_retrying(author, &device_id, mutations).await {
            // Two PostgreSQL batches that lock the same records in opposite orders: apply this
            // one a mutation per transaction, which holds one record lock at a time. A mutation
            // the database refuses: the same, to find it and reject it alone.
            Err(error) if is_deadlock(&error) || refusal(self.backend, &error).is_some() => {
                self.push_each(author, &device_id, mutations).await
            }
            result => result,
        }
    }

    /// [`Self::push_batch`], run again when another writer created a record (or claimed a
    /// credit code) this batch was creating at the same moment: the next run sees what it wrote.
    async fn push_retrying(
        &self,
        author: &Author<'_>,
        device_id: &str,
        mutations: &[Mutation],
    ) -> Result<PushResponse, sqlx::Error> {
        let mut tries = 0;
        loop {
            match self.push_batch(author, device_id, mutations, None).await {
                Err(error) if is_unique_violation(&error) && tries < 3 => tries += 1,
                result => return result,
            }
        }
    }

    /// The batch a mutation per transaction (after a deadlock of the whole-batch transaction, or
    /// a database refusal): a mutation the database refuses is rejected on its own.
    async fn push_each(
        &self,
        author: &Author<'_>,
        device_id: &str,
        mutations: &[Mutation],
    ) -> Result<PushResponse, sqlx::Error> {
        let mut acks = Vec::with_capacity(mutations.len());
        for mutation in mutations {
            let one = std::slice::from_ref(mutation);
            let response = match self.push_retrying(author, device_id, one).await {
                Err(error) => {
                    let Some(rejection) = refusal(self.backend, &error) else {
                        return Err(error);
                    };
                    tracing::warn!(
                        mutation = %mutation.mutation_id,
                        kind = mutation.kind.as_str(),
                        error = %error,
                        "the database refused a mutation; it is rejected"
                    );
                    self.push_batch(author, device_id, one, Some(&rejection))
                        .await?
                }
                Ok(response) => response,
            };
            acks.extend(response.acks);
            if response.gap.is_some() {
                return Ok(PushResponse {
                    acks,
                    gap: response.gap,
                });
            }
        }
        Ok(PushResponse { acks, gap: None })
    }

    /// The batch in one transaction. With `refused`, every mutation it would apply is rejected
    /// with that error instead (its ack stored, the seq advanced, nothing else written).
    async fn push_batch(
        &self,
        author: &Author<'_>,
        device_id: &str,
        mutations: &[Mutation],
        refused: Option<&Rejection>,
    ) -> Result<PushResponse, sqlx::Error> {
        let mut tx = self.writer.begin().await?;
        // The device row first, locked on PostgreSQL: a concurrent push of the same device
        // waits here, and then finds this one's acks and seq.
        let sql = format!(
            "SELECT last_seq FROM devices WHERE device_id = $1{}",
            author.row_lock
        );
        let first_seq: i64 = sqlx::query_scalar(AssertSqlSafe(sql))
            .bind(device_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        let ids: Vec<MutationId> = mutations.iter().map(|m| m.mutation_id).collect();
        let stored = stored_acks(&mut tx, self.backend, device_id, &ids).await?;

        // Which mutations are replays, where the gap is, and which are applied (core's
        // `push::classify`): none of it depends on how the applied ones turn out (a rejection
        // advances the seq too).
        let classified = push::classify(
            u64::try_from(first_seq).unwrap_or(0),
            mutations,
            &stored,
            None,
        );
        let gap = classified.gap;
        let last_seq = i64::try_from(classified.last_seq).unwrap_or(i64::MAX);
        let steps: Vec<Step<'_>> = classified
            .steps
            .into_iter()
            .zip(mutations)
            .map(|(step, mutation)| match step {
                push::Step::Replay(ack) => Step::Replay(ack),
                push::Step::Repeat(earlier) => Step::Repeat(earlier),
                push::Step::Apply => Step::Apply(mutation, mutation.decode()),
            })
            .collect();

        let keys = super::evidence::device_keys(&mut tx, device_id).await?;
        let mut batch = Batch::new(self.backend, device_id);
        if refused.is_none() {
            let payloads = steps.iter().filter_map(|step| match step {
                Step::Apply(mutation, Ok(payload)) => Some((mutation.entity_id, payload)),
                _ => None,
            });
            batch.preload(&mut tx, payloads, author).await?;
        }

        let mut acks: Vec<Ack> = Vec::with_capacity(steps.len());
        for step in steps {
            let ack = match step {
                Step::Replay(ack) => ack,
                Step::Repeat(earlier) => replayed(&acks[earlier]),
                Step::Apply(mutation, payload) => {
                    let signed = super::evidence::check_signature(&keys, device_id, mutation);
                    let outcome = match (refused, signed) {
                        (Some(rejection), _) => Err(rejection.clone()),
                        (None, Err(rejection)) => Err(rejection),
                        (None, Ok(())) => {
                            apply(&mut tx, &mut batch, author, mutation, payload).await?
                        }
                    };
                    let ack = match outcome {
                        Ok(applied) => {
                            let by = EventFacts::pushed(author, device_id, mutation);
                            batch
                                .changes
                                .extend(applied.changes.into_iter().map(|mut c| {
                                    c.event.by(&by);
                                    c
                                }));
                            Ack {
                                mutation_id: mutation.mutation_id,
                                status: AckStatus::Applied,
                                rev: Some(applied.rev),
                                error: None,
                            }
                        }
                        Err(error) => Ack {
                            mutation_id: mutation.mutation_id,
                            status: AckStatus::Rejected,
                            rev: None,
                            error: Some(error),
                        },
                    };
                    batch.ack(mutation, &ack)?;
                    ack
                }
            };
            acks.push(ack);
        }
        let advanced = (last_seq != first_seq).then_some(last_seq);
        batch.flush(&mut tx, author, device_id, advanced).await?;
        // The change counter is taken last, so its row lock is held only for the commit.
        append_changes(&mut tx, self.backend, &batch.changes).await?;
        tx.commit().await?;
        Ok(PushResponse { acks, gap })
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
                    EntityKind::from_wire(&row.entity).ok_or_else(|| {
                        sqlx::Error::Decode(format!("unknown entity {:?}", row.entity).into())
                    })?,
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
            (EntityKind::Case, "cases"),
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
            .bind(entity.wire_name())
            .bind(id)
            .fetch_one(&self.pool)
            .await
    }
}

/// What becomes of one mutation of a batch.
enum Step<'m> {
    /// Applied before: its stored ack.
    Replay(Ack),
    /// The same mutation as the one at this index, earlier in the batch.
    Repeat(usize),
    /// To apply, with its decoded payload.
    Apply(&'m Mutation, Result<MutationPayload, PayloadError>),
}

/// The answer to a replay of a mutation acked `ack`: `duplicate` with the stored rev for an
/// applied one; a rejected one answers the stored rejection again, so the device still sees why.
fn replayed(ack: &Ack) -> Ack {
    Ack {
        mutation_id: ack.mutation_id,
        status: match ack.status {
            AckStatus::Rejected => AckStatus::Rejected,
            AckStatus::Applied | AckStatus::Duplicate => AckStatus::Duplicate,
        },
        rev: ack.rev,
        error: ack.error.clone(),
    }
}

/// The stored acks of those of `mutations` this device pushed before, as replays.
async fn stored_acks(
    tx: &mut Tx,
    backend: Backend,
    device_id: &str,
    ids: &[MutationId],
) -> Result<HashMap<MutationId, Ack>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        mutation_id: String,
        status: String,
        rev: Option<i64>,
        error: Option<String>,
    }
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let ids: BTreeSet<String> = ids.iter().map(ToString::to_string).collect();
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT mutation_id, status, rev, error FROM acks WHERE device_id = ? \
             AND mutation_id IN ({})",
            backend.markers(2, ids.len())
        ),
        // One primary-key lookup per id. With `IN (…)` and the table's statistics not yet
        // gathered (a new database) PostgreSQL scans all of the device's acks instead, which
        // made this the slowest statement of a push; the `LIMIT` keeps the subquery a lookup.
        Backend::Postgres => format!(
            "SELECT a.mutation_id, a.status, a.rev, a.error FROM (VALUES {}) AS v (id) \
             CROSS JOIN LATERAL (SELECT mutation_id, status, rev, error FROM acks \
             WHERE device_id = $1 AND mutation_id = v.id LIMIT 1) AS a",
            (2..ids.len() + 2)
                .map(|n| format!("(${n})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql)).bind(device_id);
    for id in ids {
        query = query.bind(id);
    }
    let mut acks = HashMap::new();
    for row in query.fetch_all(&mut **tx).await? {
        let stored = Ack {
            mutation_id: parse_id(&row.mutation_id)?,
            status: if row.status == "rejected" {
                AckStatus::Rejected
            } else {
                AckStatus::Applied
            },
            rev: row.rev,
            error: row.error.as_deref().map(from_json).transpose()?,
        };
        acks.insert(stored.mutation_id, replayed(&stored));
    }
    Ok(acks)
}

/// True for a PostgreSQL deadlock (SQLSTATE 40P01): the transaction was rolled back.
fn is_deadlock(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.code().as_deref() == Some("40P01"))
}

/// The rejection for an error by which the database refuses the data itself — a value it
/// cannot store, a constraint — rather than failing for a while (deadlock, lock, connection,
/// disk): the same mutation would fail the same way again, so it is rejected, not retried.
/// None for every other error, which stays a server error the device retries.
fn refusal(backend: Backend, error: &sqlx::Error) -> Option<Rejection> {
    const CHARACTERS: &str = "内容含有数据库无法保存的字符或数值";
    const TOO_LONG: &str = "内容过长，数据库无法保存";
    const CONSTRAINT: &str = "与已有记录冲突，数据库拒绝保存";
    let sqlx::Error::Database(e) = error else {
        return None;
    };
    let code = e.code()?;
    let message = match backend {
        // SQLSTATE classes: 22 data exception (NUL in text, value too long, bad encoding), 23
        // integrity constraint (a unique violation is run again first), 54 program limit
        // exceeded (an index entry over its size limit).
        Backend::Postgres => match code.get(..2)? {
            "22" => CHARACTERS,
            "23" => CONSTRAINT,
            "54" => TOO_LONG,
            _ => return None,
        },
        // The primary result code is the low byte of the extended one: 18 TOOBIG,
        // 19 CONSTRAINT, 20 MISMATCH, 25 RANGE.
        Backend::Sqlite => match code.parse::<i64>().ok()? & 0xff {
            18 => TOO_LONG,
            19 => CONSTRAINT,
            20 | 25 => CHARACTERS,
            _ => return None,
        },
    };
    Some(reject(
        "storage_refused",
        format!("服务器无法保存这条记录：{message}。请修改后重新提交"),
    ))
}

pub(in crate::db) async fn append_changes(
    tx: &mut Tx,
    backend: Backend,
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
    let mut rows = Rows::new(7);
    for (seq, change) in (last - count + 1..).zip(changes) {
        rows.push([
            seq.into(),
            change.entity.wire_name().into(),
            change.id.to_string().into(),
            change.org_id.to_string().into(),
            change.rev.into(),
            change.detail.clone().into(),
            created_at.as_str().into(),
        ]);
    }
    rows.insert(
        tx,
        backend,
        "INSERT INTO change_log (seq, entity, entity_id, org_id, rev, detail, created_at)",
        "",
    )
    .await?;
    // Still under the counter's row lock: the event log's order is the change log's.
    super::evidence::append_events(tx, backend, changes, &created_at).await
}
