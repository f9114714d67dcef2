//! The hash-chained event log and the device keys (core `evidence`, protocol.md § "Evidence").
//!
//! - Every change row appended to the change log gets its event, in the same transaction and
//!   under the change counter's row lock, so the chain's order is the commit order.
//! - A device registers its public key at login; from that login's seq on, each of its
//!   mutations must carry a valid signature by one of its keys, else it is rejected alone.
//! - `verify_log` walks the whole chain in pages and checks that every inspection and finding
//!   as stored is the state its latest event recorded.

use sqlx::{AssertSqlSafe, FromRow};
use zhicha_core::evidence::{
    self, ChainBreak, Event, GENESIS, MutationSignature, SignatureError, sha256_hex,
};
use zhicha_core::ids::DeviceId;
use zhicha_core::protocol::{ErrorBody, Mutation};
use zhicha_core::wire::WireName as _;

use super::sync::batch::Rows;
use super::sync::{Author, ChangeRow, Tx};
use super::{Backend, Store, now};

/// What an event records beyond its change row: who and what wrote it.
#[derive(Debug, Clone, Default)]
pub struct EventFacts {
    /// The mutation kind, or `merge` / `import` for writes that are not a device's.
    pub action: String,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub mutation_id: Option<String>,
    pub mutation_seq: Option<i64>,
    pub base_rev: Option<i64>,
    /// The payload as signed (`evidence::payload_text`).
    pub payload: Option<String>,
    /// SHA-256 of the record as stored after the change.
    pub state_hash: Option<String>,
    pub signature: Option<MutationSignature>,
    pub clock_skew_ms: Option<i64>,
}

impl EventFacts {
    /// The event of a record stored as the JSON `data` (as written to its `data` column).
    pub fn stored(data: &str) -> Self {
        Self {
            state_hash: Some(sha256_hex(data.as_bytes())),
            ..Self::default()
        }
    }

    /// A write that is not a device's mutation: `action` by `user_id`.
    pub fn written(mut self, action: &str, user_id: Option<String>) -> Self {
        action.clone_into(&mut self.action);
        self.user_id = user_id;
        self
    }

    /// Who pushed `mutation`, from where, and what it said.
    pub(in crate::db) fn pushed(author: &Author<'_>, device_id: &str, mutation: &Mutation) -> Self {
        Self {
            action: mutation.kind.as_str().to_owned(),
            user_id: Some(author.user.id.to_string()),
            device_id: Some(device_id.to_owned()),
            mutation_id: Some(mutation.mutation_id.to_string()),
            mutation_seq: i64::try_from(mutation.seq).ok(),
            base_rev: mutation.base_rev,
            payload: Some(evidence::payload_text(&mutation.payload)),
            state_hash: None,
            signature: mutation.signature.clone(),
            clock_skew_ms: author.clock_skew_ms(),
        }
    }

    /// Takes `by`'s account of who wrote, keeping this change's own state.
    pub fn by(&mut self, by: &Self) {
        let state_hash = self.state_hash.take();
        *self = Self {
            state_hash,
            ..by.clone()
        };
    }
}

/// A device's registered key.
#[derive(Debug, Clone, FromRow)]
pub(in crate::db) struct DeviceKey {
    key_id: String,
    public_key: String,
    from_seq: i64,
}

/// The keys `device_id` registered.
pub(in crate::db) async fn device_keys(
    tx: &mut Tx,
    device_id: &str,
) -> Result<Vec<DeviceKey>, sqlx::Error> {
    sqlx::query_as::<_, DeviceKey>(
        "SELECT key_id, public_key, from_seq FROM device_keys WHERE device_id = $1",
    )
    .bind(device_id)
    .fetch_all(&mut **tx)
    .await
}

/// Ok when `mutation` may be applied as far as signatures go: signed by one of the device's
/// keys, or unsigned and older than every key (queued before the device had one).
pub(in crate::db) fn check_signature(
    keys: &[DeviceKey],
    device_id: &str,
    mutation: &Mutation,
) -> Result<(), ErrorBody> {
    let refused = |why: &str| {
        ErrorBody::new(
            "signature_invalid",
            format!("设备签名校验未通过（{why}），这条记录未被接受"),
        )
    };
    let Some(signature) = &mutation.signature else {
        let seq = i64::try_from(mutation.seq).unwrap_or(i64::MAX);
        if keys.iter().any(|k| k.from_seq <= seq) {
            return Err(refused("本设备已登记签名密钥，记录却未签名"));
        }
        return Ok(());
    };
    let Some(key) = keys.iter().find(|k| k.key_id == signature.key_id) else {
        return Err(refused("签名密钥未在本设备登记"));
    };
    evidence::verify_mutation(&key.public_key, device_id, mutation, signature).map_err(|error| {
        match error {
            SignatureError::Mismatch => refused("内容与签名不符，可能在传输或存储中被改动"),
            other => refused(&other.to_string()),
        }
    })
}

/// Appends one event per change, chained to the last stored event. Called only by
/// `append_changes`, after it took the change counter's row lock.
pub(in crate::db) async fn append_events(
    tx: &mut Tx,
    backend: Backend,
    changes: &[ChangeRow],
    at: &str,
) -> Result<(), sqlx::Error> {
    #[derive(FromRow)]
    struct Last {
        seq: i64,
        hash: String,
    }
    let last = sqlx::query_as::<_, Last>("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut **tx)
        .await?;
    let (mut seq, mut prev) = last.map_or((0, GENESIS.to_owned()), |l| (l.seq, l.hash));
    let mut rows = Rows::new(20);
    for change in changes {
        seq += 1;
        let facts = &change.event;
        let mut event = Event {
            seq,
            at: at.to_owned(),
            user_id: facts.user_id.clone(),
            device_id: facts.device_id.clone(),
            action: facts.action.clone(),
            entity: change.entity.wire_name().to_owned(),
            entity_id: change.id.to_string(),
            rev: change.rev,
            detail: change.detail.clone(),
            mutation_id: facts.mutation_id.clone(),
            mutation_seq: facts.mutation_seq,
            base_rev: facts.base_rev,
            payload: facts.payload.clone(),
            state_hash: facts.state_hash.clone(),
            key_id: facts.signature.as_ref().map(|s| s.key_id.clone()),
            signed_at: facts
                .signature
                .as_ref()
                .map(|s| evidence::time_text(s.signed_at)),
            signature: facts.signature.as_ref().map(|s| s.value.clone()),
            clock_skew_ms: facts.clock_skew_ms,
            prev_hash: String::new(),
            hash: String::new(),
        };
        event.seal(&prev);
        prev.clone_from(&event.hash);
        rows.push(event_row(event));
    }
    rows.insert(
        tx,
        backend,
        &format!("INSERT INTO events ({EVENT_COLUMNS})"),
        "",
    )
    .await
}

const EVENT_COLUMNS: &str = "seq, at, user_id, device_id, action, entity, entity_id, rev, \
    detail, mutation_id, mutation_seq, base_rev, payload, state_hash, key_id, signed_at, signature, clock_skew_ms, \
    prev_hash, hash";

fn event_row(e: Event) -> [super::sync::batch::Value; 20] {
    [
        e.seq.into(),
        e.at.into(),
        e.user_id.into(),
        e.device_id.into(),
        e.action.into(),
        e.entity.into(),
        e.entity_id.into(),
        e.rev.into(),
        e.detail.into(),
        e.mutation_id.into(),
        e.mutation_seq.into(),
        e.base_rev.into(),
        e.payload.into(),
        e.state_hash.into(),
        e.key_id.into(),
        e.signed_at.into(),
        e.signature.into(),
        e.clock_skew_ms.into(),
        e.prev_hash.into(),
        e.hash.into(),
    ]
}

#[derive(FromRow)]
struct EventRow {
    seq: i64,
    at: String,
    user_id: Option<String>,
    device_id: Option<String>,
    action: String,
    entity: String,
    entity_id: String,
    rev: i64,
    detail: Option<String>,
    mutation_id: Option<String>,
    mutation_seq: Option<i64>,
    base_rev: Option<i64>,
    payload: Option<String>,
    state_hash: Option<String>,
    key_id: Option<String>,
    signed_at: Option<String>,
    signature: Option<String>,
    clock_skew_ms: Option<i64>,
    prev_hash: String,
    hash: String,
}

impl From<EventRow> for Event {
    fn from(r: EventRow) -> Self {
        Self {
            seq: r.seq,
            at: r.at,
            user_id: r.user_id,
            device_id: r.device_id,
            action: r.action,
            entity: r.entity,
            entity_id: r.entity_id,
            rev: r.rev,
            detail: r.detail,
            mutation_id: r.mutation_id,
            mutation_seq: r.mutation_seq,
            base_rev: r.base_rev,
            payload: r.payload,
            state_hash: r.state_hash,
            key_id: r.key_id,
            signed_at: r.signed_at,
            signature: r.signature,
            clock_skew_ms: r.clock_skew_ms,
            prev_hash: r.prev_hash,
            hash: r.hash,
        }
    }
}

/// A record whose stored data is not the state its latest event recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlteredRecord {
    pub entity: String,
    pub id: String,
    /// The latest event of the record.
    pub event_seq: i64,
}

/// What `verify-log` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogReport {
    /// Events checked, and the last one's hash (the chain's head).
    pub events: i64,
    pub head: String,
    /// The first place the chain breaks, if it does.
    pub broken: Option<ChainBreak>,
    /// Records changed outside the log (their data no longer hashes to their latest event).
    pub altered: Vec<AlteredRecord>,
    /// Events whose phone clock was off by more than the limit.
    pub clock_flagged: i64,
}

impl LogReport {
    pub fn holds(&self) -> bool {
        self.broken.is_none() && self.altered.is_empty()
    }
}

/// Events read per query while walking the chain.
const PAGE: i64 = 5000;

impl Store {
    /// Registers `device`'s public key (uncompressed SEC1, hex) for `user_id`, required from
    /// `from_seq` on. Registering a key again is a no-op; a key of another device is refused.
    pub async fn register_device_key(
        &self,
        device: DeviceId,
        user_id: &str,
        public_key_hex: &str,
        from_seq: u64,
    ) -> Result<Result<String, &'static str>, sqlx::Error> {
        let Some(bytes) = evidence::unhex(public_key_hex)
            .filter(|b| b.len() == 65 && b[0] == 4)
            .filter(|b| p256_point_ok(b))
        else {
            return Ok(Err("设备公钥格式不对（应为 P-256 未压缩公钥的十六进制）"));
        };
        let key_id = evidence::key_id(&bytes);
        let device_id = device.to_string();
        let mut tx = self.writer.begin().await?;
        let owner: Option<String> =
            sqlx::query_scalar("SELECT device_id FROM device_keys WHERE key_id = $1")
                .bind(&key_id)
                .fetch_optional(&mut *tx)
                .await?;
        match owner {
            Some(owner) if owner != device_id => {
                return Ok(Err("该公钥已属于另一台设备"));
            }
            Some(_) => {}
            None => {
                sqlx::query(
                    "INSERT INTO device_keys (key_id, device_id, user_id, public_key, from_seq, \
                     created_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&key_id)
                .bind(&device_id)
                .bind(user_id)
                .bind(evidence::hex(&bytes))
                .bind(i64::try_from(from_seq).unwrap_or(i64::MAX))
                .bind(now())
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(Ok(key_id))
    }

    /// The events about any of `entity_ids` (an inspection, its findings, photos by owner), in
    /// chain order.
    pub async fn events_of(&self, entity_ids: &[String]) -> Result<Vec<Event>, sqlx::Error> {
        if entity_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE entity_id IN ({}) ORDER BY seq",
            super::placeholders(1, entity_ids.len())
        );
        let mut query = sqlx::query_as::<_, EventRow>(AssertSqlSafe(sql));
        for id in entity_ids {
            query = query.bind(id);
        }
        Ok(query
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Event::from)
            .collect())
    }

    /// The `(seq, prev_hash, hash)` of every event from `first` to `last`: the links that tie
    /// a slice of the chain together.
    pub async fn event_links(
        &self,
        first: i64,
        last: i64,
    ) -> Result<Vec<(i64, String, String)>, sqlx::Error> {
        sqlx::query_as::<_, (i64, String, String)>(
            "SELECT seq, prev_hash, hash FROM events WHERE seq >= $1 AND seq <= $2 ORDER BY seq",
        )
        .bind(first)
        .bind(last)
        .fetch_all(&self.pool)
        .await
    }

    /// The public keys (hex) registered under `key_ids`, with their devices.
    pub async fn device_public_keys(
        &self,
        key_ids: &[String],
    ) -> Result<Vec<(String, String, String)>, sqlx::Error> {
        if key_ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT key_id, device_id, public_key FROM device_keys WHERE key_id IN ({}) \
             ORDER BY key_id",
            super::placeholders(1, key_ids.len())
        );
        let mut query = sqlx::query_as::<_, (String, String, String)>(AssertSqlSafe(sql));
        for id in key_ids {
            query = query.bind(id);
        }
        query.fetch_all(&self.pool).await
    }

    /// Walks the whole chain from the first event and checks every inspection and finding
    /// against its latest event.
    pub async fn verify_log(&self) -> Result<LogReport, sqlx::Error> {
        let mut last = (0_i64, GENESIS.to_owned());
        let mut broken = None;
        let mut clock_flagged = 0;
        let mut events = 0;
        loop {
            let page: Vec<Event> = sqlx::query_as::<_, EventRow>(AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT {PAGE}"
            )))
            .bind(last.0)
            .fetch_all(&self.pool)
            .await?
            .into_iter()
            .map(Event::from)
            .collect();
            let Some(tail) = page.last() else { break };
            let tail = (tail.seq, tail.hash.clone());
            events += i64::try_from(page.len()).unwrap_or(0);
            clock_flagged +=
                i64::try_from(page.iter().filter(|e| e.clock_flagged()).count()).unwrap_or(0);
            match evidence::verify_chain((last.0, &last.1), &page) {
                Ok(end) => last = end,
                Err(error) => {
                    broken = Some(error);
                    break;
                }
            }
            debug_assert_eq!(last, tail);
        }
        let altered = self.altered_records().await?;
        Ok(LogReport {
            events,
            head: last.1,
            broken,
            altered,
            clock_flagged,
        })
    }

    /// Inspections and findings whose stored data does not hash to their latest event's state.
    async fn altered_records(&self) -> Result<Vec<AlteredRecord>, sqlx::Error> {
        #[derive(FromRow)]
        struct Row {
            id: String,
            data: String,
            seq: i64,
            state_hash: Option<String>,
        }
        let mut altered = Vec::new();
        for (entity, table) in [("inspection", "inspections"), ("finding", "findings")] {
            // The latest event of each record that has one.
            let sql = format!(
                "SELECT t.id, t.data, e.seq, e.state_hash FROM {table} t \
                 JOIN events e ON e.entity_id = t.id AND e.entity = '{entity}' \
                 WHERE e.seq = (SELECT MAX(seq) FROM events x WHERE x.entity_id = t.id \
                 AND x.entity = '{entity}') ORDER BY e.seq"
            );
            let rows = sqlx::query_as::<_, Row>(AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?;
            for row in rows {
                if row.state_hash.as_deref() != Some(sha256_hex(row.data.as_bytes()).as_str()) {
                    altered.push(AlteredRecord {
                        entity: entity.to_owned(),
                        id: row.id,
                        event_seq: row.seq,
                    });
                }
            }
        }
        Ok(altered)
    }
}

/// True for the bytes of a point on P-256.
fn p256_point_ok(bytes: &[u8]) -> bool {
    // A signature check with an empty message fails as Mismatch for a valid key and BadKey
    // for bytes that are not a point.
    !matches!(
        evidence::verify_signature(bytes, b"", &[1; 64]),
        Err(SignatureError::BadKey)
    )
}
