//! The working state of one push transaction: the records its mutations read, loaded in a few
//! queries up front and kept in memory with every change the batch makes, and the rows it
//! writes, sent at the end as multi-row statements. A mutation sees the records as the earlier
//! mutations of its batch left them, as if each had been written on its own.
//!
//! Enterprises are the exception: they are written as each mutation is applied (they are rare
//! in a push, and a credit code moving between two of them must be written in mutation order to
//! satisfy the unique index), so the batch only remembers them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{AssertSqlSafe, FromRow};
use uuid::Uuid;
use zhicha_core::ids::{InspectionId, OrgId, PhotoHash};
use zhicha_core::model::{Enterprise, Finding, Inspection, PhotoOwner};
use zhicha_core::protocol::{Ack, EntityKind, Mutation, MutationPayload};
use zhicha_core::push::LastWrite;
use zhicha_core::time::china_date;
use zhicha_core::wire::WireName;

use super::{Author, ChangeRow, Tx, from_json, to_json};

mod photo_refs;
mod rows;

use crate::db::ledger_columns::{self, FindingContext};
use crate::db::photos::PhotoUse;
use crate::db::{Backend, now};
pub(super) use photo_refs::{
    finding_photo_fields, finding_photos, inspection_photo_fields, inspection_photos,
};
use rows::MAX_BINDS;
pub(in crate::db) use rows::{Rows, Value};

/// A record as the batch sees it.
pub(super) struct Record<T> {
    pub rev: i64,
    pub value: Arc<T>,
    /// The row is in the database already, so it is written with an upsert; a new one gets a
    /// plain `INSERT`, and a concurrent creation of the same id then fails (the batch runs
    /// again) instead of being overwritten.
    in_db: bool,
    /// The batch changed it, so it is written at the end.
    written: bool,
    /// The device that wrote this version (None: unknown, written before it was recorded).
    device: Option<String>,
}

impl<T> Record<T> {
    fn loaded(rev: i64, value: T, device: Option<String>) -> Self {
        Self {
            rev,
            value: Arc::new(value),
            in_db: true,
            written: false,
            device,
        }
    }
}

/// A finding with the columns kept beside its JSON that are not derived from it alone.
pub(super) struct FindingRecord {
    pub finding: Finding,
    /// Set by a write that was a conflict, and never cleared.
    pub flagged: bool,
    /// Recomputed when the finding is saved; a review action keeps it.
    pub context: FindingContext,
}

/// The records of one table the batch has looked up or written.
struct Table<T> {
    /// `None`: looked up and not there.
    rows: HashMap<String, Option<Record<T>>>,
    /// Ids the batch wrote, in the order of their first write.
    written: Vec<String>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Self {
            rows: HashMap::new(),
            written: Vec::new(),
        }
    }
}

impl<T> Table<T> {
    fn get(&self, id: &str) -> Option<(i64, Arc<T>)> {
        self.rows
            .get(id)
            .and_then(Option::as_ref)
            .map(|r| (r.rev, Arc::clone(&r.value)))
    }

    /// The revision of the stored record and the device that wrote it.
    fn last_write(&self, id: &str) -> Option<LastWrite> {
        self.rows
            .get(id)
            .and_then(Option::as_ref)
            .map(|r| LastWrite {
                rev: r.rev,
                device: r.device.as_deref().and_then(|d| d.parse().ok()),
            })
    }

    /// Of `ids`, those not looked up yet, each once.
    fn unknown<'a>(&self, ids: impl IntoIterator<Item = &'a String>) -> Vec<String> {
        let mut seen = HashSet::new();
        ids.into_iter()
            .filter(|id| !self.rows.contains_key(*id) && seen.insert(*id))
            .cloned()
            .collect()
    }

    /// Notes what a lookup of `ids` found (`found`) and did not.
    fn fill(&mut self, ids: Vec<String>, found: Vec<(String, Record<T>)>) {
        for id in ids {
            self.rows.entry(id).or_insert(None);
        }
        for (id, record) in found {
            self.rows.insert(id, Some(record));
        }
    }

    fn put(&mut self, id: String, rev: i64, value: T, in_db_now: bool, device: &str) {
        let (in_db, written) = self
            .rows
            .get(&id)
            .and_then(Option::as_ref)
            .map_or((false, false), |r| (r.in_db, r.written));
        if !written && !in_db_now {
            self.written.push(id.clone());
        }
        let record = Record {
            rev,
            value: Arc::new(value),
            in_db: in_db || in_db_now,
            written: true,
            device: Some(device.to_owned()),
        };
        self.rows.insert(id, Some(record));
    }

    /// True when the record was in the database before this batch.
    fn was_stored(&self, id: &str) -> bool {
        self.rows
            .get(id)
            .and_then(Option::as_ref)
            .is_some_and(|r| r.in_db)
    }

    /// The written records, in the order of their first write: (new ones, existing ones).
    fn split_written(&self) -> (Written<'_, T>, Written<'_, T>) {
        self.written
            .iter()
            .filter_map(|id| Some((id.as_str(), self.rows.get(id)?.as_ref()?)))
            .partition(|(_, r)| !r.in_db)
    }
}

/// Written records with their ids.
type Written<'a, T> = Vec<(&'a str, &'a Record<T>)>;

/// A replaced version, kept in `revisions` with the replacing write's author, device and time.
struct Revision {
    entity: EntityKind,
    id: String,
    rev: i64,
    data: String,
    reason: &'static str,
    /// The replacing write was based on an older rev.
    conflict: bool,
}

/// A `photo.attach`: the photo's metadata on its owner.
struct Attachment {
    hash: PhotoHash,
    owner: Uuid,
    inspection: InspectionId,
    org: OrgId,
    data: String,
}

/// An ack to store.
struct AckRow {
    mutation_id: String,
    seq: i64,
    kind: &'static str,
    entity_id: String,
    status: &'static str,
    rev: Option<i64>,
    error: Option<String>,
}

/// What one push transaction has read and is about to write.
pub(super) struct Batch {
    backend: Backend,
    /// The device pushing the batch: the last writer of every record it writes.
    device: String,
    inspections: Table<Inspection>,
    findings: Table<FindingRecord>,
    enterprises: Table<Enterprise>,
    revisions: Vec<Revision>,
    attachments: Vec<Attachment>,
    /// Index into `attachments` by (hash, owner): a repeat replaces the metadata in place.
    attached: HashMap<(PhotoHash, Uuid), usize>,
    /// Enterprises written, whose columns in their findings are refreshed at the end.
    refreshed: Vec<String>,
    /// What the author may do with the photos the batch references (see `db::photos`).
    photo_uses: HashMap<PhotoHash, PhotoUse>,
    acks: Vec<AckRow>,
    pub changes: Vec<ChangeRow>,
}

impl Batch {
    /// A batch pushed by `device`.
    pub fn new(backend: Backend, device: &str) -> Self {
        Self {
            backend,
            device: device.to_owned(),
            inspections: Table::default(),
            findings: Table::default(),
            enterprises: Table::default(),
            revisions: Vec::new(),
            attachments: Vec::new(),
            attached: HashMap::new(),
            refreshed: Vec::new(),
            photo_uses: HashMap::new(),
            acks: Vec::new(),
            changes: Vec::new(),
        }
    }
}

/// The ids one mutation reads, and those it may rewrite (locked when loaded).
#[derive(Default)]
struct Wanted {
    read: Vec<String>,
    write: Vec<String>,
}

impl Batch {
    /// Loads every record the `payloads` will read or rewrite, a query or two per table; those
    /// to be rewritten with the author's row lock (`FOR UPDATE` on PostgreSQL, in id order so
    /// two batches lock shared rows in the same order); and what the author may do with every
    /// photo they reference.
    pub async fn preload(
        &mut self,
        tx: &mut Tx,
        payloads: impl Iterator<Item = (Uuid, &MutationPayload)>,
        author: &Author<'_>,
    ) -> Result<(), sqlx::Error> {
        let lock = author.row_lock;
        let (mut inspections, mut findings, mut enterprises) =
            (Wanted::default(), Wanted::default(), Wanted::default());
        let mut hashes: Vec<PhotoHash> = Vec::new();
        for (entity_id, payload) in payloads {
            match payload {
                MutationPayload::InspectionSave(i) => {
                    inspections.write.push(i.id.to_string());
                    hashes.extend(inspection_photos(i).into_iter().cloned());
                }
                MutationPayload::FindingSave(f) => {
                    inspections.read.push(f.inspection_id.to_string());
                    findings.write.push(f.id.to_string());
                    enterprises.read.push(f.enterprise_id.to_string());
                    hashes.extend(finding_photos(f).into_iter().cloned());
                }
                MutationPayload::EnterpriseSave(e) => enterprises.write.push(e.id.to_string()),
                MutationPayload::PhotoAttach(meta) => {
                    match &meta.owner {
                        PhotoOwner::Finding(id) => findings.read.push(id.to_string()),
                        PhotoOwner::Inspection(id) => inspections.read.push(id.to_string()),
                    }
                    hashes.push(meta.hash.clone());
                }
                MutationPayload::FindingReinspect(r) => {
                    findings.write.push(entity_id.to_string());
                    hashes.extend(r.after_photos.iter().cloned());
                }
                MutationPayload::FindingSubmit(_)
                | MutationPayload::FindingConfirm(_)
                | MutationPayload::FindingReturn(_)
                | MutationPayload::FindingSupervise(_)
                | MutationPayload::FindingClose(_) => findings.write.push(entity_id.to_string()),
                MutationPayload::CaseSave(c) => {
                    if let Some(inspection) = c.inspection_id {
                        inspections.read.push(inspection.to_string());
                    }
                    findings
                        .read
                        .extend(c.finding_ids.iter().map(|f| f.to_string()));
                    hashes.extend(c.interviews.iter().filter_map(|i| i.signature.clone()));
                }
                // Read with its row lock when applied (`sync::cases`).
                MutationPayload::CaseAct(_) => {}
            }
        }
        self.load_inspections(tx, &inspections, lock).await?;
        self.load_findings(tx, &findings, lock).await?;
        self.load_enterprises(tx, &enterprises, lock).await?;
        self.load_photo_uses(tx, author, &hashes).await
    }

    async fn load_inspections(
        &mut self,
        tx: &mut Tx,
        wanted: &Wanted,
        lock: &str,
    ) -> Result<(), sqlx::Error> {
        for (ids, lock) in split(&self.inspections, wanted, lock) {
            let rows = load_records(tx, self.backend, "inspections", &ids, lock).await?;
            self.inspections.fill(ids, rows);
        }
        Ok(())
    }

    async fn load_enterprises(
        &mut self,
        tx: &mut Tx,
        wanted: &Wanted,
        lock: &str,
    ) -> Result<(), sqlx::Error> {
        for (ids, lock) in split(&self.enterprises, wanted, lock) {
            let rows = load_records(tx, self.backend, "enterprises", &ids, lock).await?;
            self.enterprises.fill(ids, rows);
        }
        Ok(())
    }

    async fn load_findings(
        &mut self,
        tx: &mut Tx,
        wanted: &Wanted,
        lock: &str,
    ) -> Result<(), sqlx::Error> {
        #[derive(FromRow)]
        struct Row {
            id: String,
            rev: i64,
            data: String,
            flagged: i64,
            last_device: Option<String>,
            enterprise_name: String,
            county: String,
            township: String,
            sector: Option<String>,
        }
        for (ids, lock) in split(&self.findings, wanted, lock) {
            let sql = format!(
                "SELECT id, rev, data, flagged, last_device, enterprise_name, county, \
                 township, sector FROM findings WHERE id IN ({}){}",
                self.backend.markers(1, ids.len()),
                order_lock(lock)
            );
            let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
            for id in &ids {
                query = query.bind(id.clone());
            }
            let mut found = Vec::new();
            for row in query.fetch_all(&mut **tx).await? {
                let record = FindingRecord {
                    finding: from_json(&row.data)?,
                    flagged: row.flagged != 0,
                    context: FindingContext {
                        enterprise_name: row.enterprise_name,
                        county: row.county,
                        township: row.township,
                        sector: row.sector,
                    },
                };
                found.push((row.id, Record::loaded(row.rev, record, row.last_device)));
            }
            self.findings.fill(ids, found);
        }
        Ok(())
    }

    /// An inspection as the batch sees it (loaded now if the preload did not).
    pub async fn inspection(
        &mut self,
        tx: &mut Tx,
        id: &str,
        lock: &str,
    ) -> Result<Option<(i64, Arc<Inspection>)>, sqlx::Error> {
        let wanted = one(id, lock);
        self.load_inspections(tx, &wanted, lock).await?;
        Ok(self.inspections.get(id))
    }

    pub async fn finding(
        &mut self,
        tx: &mut Tx,
        id: &str,
        lock: &str,
    ) -> Result<Option<(i64, Arc<FindingRecord>)>, sqlx::Error> {
        let wanted = one(id, lock);
        self.load_findings(tx, &wanted, lock).await?;
        Ok(self.findings.get(id))
    }

    pub async fn enterprise(
        &mut self,
        tx: &mut Tx,
        id: &str,
        lock: &str,
    ) -> Result<Option<(i64, Arc<Enterprise>)>, sqlx::Error> {
        let wanted = one(id, lock);
        self.load_enterprises(tx, &wanted, lock).await?;
        Ok(self.enterprises.get(id))
    }

    pub fn put_inspection(&mut self, rev: i64, inspection: Inspection) {
        let id = inspection.id.to_string();
        self.inspections
            .put(id, rev, inspection, false, &self.device);
    }

    pub fn put_finding(&mut self, rev: i64, record: FindingRecord) {
        let id = record.finding.id.to_string();
        self.findings.put(id, rev, record, false, &self.device);
    }

    /// The stored revision of an inspection the batch has looked up, and who wrote it.
    pub fn inspection_written(&self, id: &str) -> Option<LastWrite> {
        self.inspections.last_write(id)
    }

    /// The stored revision of a finding the batch has looked up, and who wrote it.
    pub fn finding_written(&self, id: &str) -> Option<LastWrite> {
        self.findings.last_write(id)
    }

    /// The device pushing this batch.
    pub fn device(&self) -> &str {
        &self.device
    }

    /// An enterprise the mutation has just written to the database.
    pub fn enterprise_written(&mut self, rev: i64, enterprise: Enterprise) {
        let id = enterprise.id.to_string();
        if !self.refreshed.contains(&id) {
            self.refreshed.push(id.clone());
        }
        self.enterprises
            .put(id, rev, enterprise, true, &self.device);
    }

    /// Keeps the version being replaced: nothing is ever silently overwritten. `conflict`: the
    /// replacing write was based on an older rev than `rev`.
    pub fn keep_revision<T: Serialize>(
        &mut self,
        entity: EntityKind,
        id: &str,
        rev: i64,
        old: &T,
        reason: &'static str,
        conflict: bool,
    ) -> Result<(), sqlx::Error> {
        self.revisions.push(Revision {
            entity,
            id: id.to_owned(),
            rev,
            data: to_json(old)?,
            reason,
            conflict,
        });
        Ok(())
    }

    pub fn attach(
        &mut self,
        hash: PhotoHash,
        owner: Uuid,
        inspection: InspectionId,
        org: OrgId,
        data: String,
    ) {
        let key = (hash.clone(), owner);
        if let Some(&n) = self.attached.get(&key) {
            self.attachments[n].data = data;
            return;
        }
        self.attached.insert(key, self.attachments.len());
        self.attachments.push(Attachment {
            hash,
            owner,
            inspection,
            org,
            data,
        });
    }

    pub fn ack(&mut self, mutation: &Mutation, ack: &Ack) -> Result<(), sqlx::Error> {
        self.acks.push(AckRow {
            mutation_id: mutation.mutation_id.to_string(),
            seq: i64::try_from(mutation.seq).unwrap_or(i64::MAX),
            kind: mutation.kind.as_str(),
            entity_id: mutation.entity_id.to_string(),
            status: ack.status.wire_name(),
            rev: ack.rev,
            error: ack.error.as_ref().map(to_json).transpose()?,
        });
        Ok(())
    }

    /// Writes everything the batch did, a statement or two per table, and the device's new
    /// `last_seq`. The change log is left to the caller, to be taken last.
    pub async fn flush(
        &mut self,
        tx: &mut Tx,
        author: &Author<'_>,
        device_id: &str,
        last_seq: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        let stamp = now();
        let user_id = author.user.id.to_string();
        let user_id = user_id.as_str();
        self.write_inspections(tx, &stamp).await?;
        self.write_findings(tx, &stamp).await?;
        self.write_photo_refs(tx, author, &stamp).await?;
        // After the findings: their enterprise columns follow the enterprise's last version.
        for id in &self.refreshed {
            if let Some((_, enterprise)) = self.enterprises.get(id) {
                ledger_columns::refresh_enterprise(tx, &enterprise).await?;
            }
        }

        let mut rows = Rows::new(9);
        for r in &self.revisions {
            rows.push([
                r.entity.wire_name().into(),
                r.id.clone().into(),
                r.rev.into(),
                r.data.clone().into(),
                user_id.into(),
                r.reason.into(),
                stamp.clone().into(),
                device_id.into(),
                i64::from(r.conflict).into(),
            ]);
        }
        rows.insert(
            tx,
            self.backend,
            "INSERT INTO revisions (entity, entity_id, rev, data, replaced_by, reason, \
             created_at, device_id, conflict)",
            "",
        )
        .await?;

        let mut rows = Rows::new(10);
        for a in &self.acks {
            rows.push([
                device_id.into(),
                a.mutation_id.clone().into(),
                a.seq.into(),
                user_id.into(),
                a.kind.into(),
                a.entity_id.clone().into(),
                a.status.into(),
                a.rev.into(),
                a.error.clone().into(),
                stamp.clone().into(),
            ]);
        }
        rows.insert(
            tx,
            self.backend,
            "INSERT INTO acks (device_id, mutation_id, seq, user_id, kind, entity_id, status, \
             rev, error, created_at)",
            "",
        )
        .await?;

        if let Some(seq) = last_seq {
            sqlx::query("UPDATE devices SET last_seq = $1 WHERE device_id = $2")
                .bind(seq)
                .bind(device_id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn write_inspections(&self, tx: &mut Tx, stamp: &str) -> Result<(), sqlx::Error> {
        const INSERT: &str = "INSERT INTO inspections (id, org_id, created_by, enterprise_id, \
             rev, data, updated_at, last_device)";
        const UPSERT: &str = " ON CONFLICT (id) DO UPDATE SET \
             enterprise_id = excluded.enterprise_id, rev = excluded.rev, data = excluded.data, \
             updated_at = excluded.updated_at, last_device = excluded.last_device";
        let (new, old) = self.inspections.split_written();
        for (records, tail) in [(&new, ""), (&old, UPSERT)] {
            let mut rows = Rows::new(8);
            for (id, r) in records {
                let i = &r.value;
                rows.push([
                    (*id).into(),
                    i.org_id.to_string().into(),
                    i.created_by.to_string().into(),
                    i.enterprise_id.to_string().into(),
                    r.rev.into(),
                    to_json(&**i)?.into(),
                    stamp.into(),
                    r.device.clone().into(),
                ]);
            }
            rows.insert(tx, self.backend, INSERT, tail).await?;
        }

        // The 检查人员 rows of each saved inspection.
        let ids: Vec<&str> = new.iter().chain(&old).map(|(id, _)| *id).collect();
        delete_in(
            tx,
            self.backend,
            "DELETE FROM inspection_inspectors WHERE inspection_id IN",
            &ids,
        )
        .await?;
        let mut rows = Rows::new(5);
        for (id, r) in new.iter().chain(&old) {
            let day = china_date(r.value.started_at).to_string();
            for person in &r.value.inspectors {
                rows.push([
                    (*id).into(),
                    person.user_id.to_string().into(),
                    person.name.clone().into(),
                    r.value.org_id.to_string().into(),
                    day.clone().into(),
                ]);
            }
        }
        rows.insert(
            tx,
            self.backend,
            "INSERT INTO inspection_inspectors (inspection_id, user_id, name, org_id, \
             started_day)",
            " ON CONFLICT (inspection_id, user_id) DO NOTHING",
        )
        .await
    }

    async fn write_findings(&self, tx: &mut Tx, stamp: &str) -> Result<(), sqlx::Error> {
        const INSERT: &str = "INSERT INTO findings (id, inspection_id, org_id, created_by, \
             status, level, deadline, flagged, rev, data, updated_at, found_at, found_day, \
             closed_at, closed_day, supervised, search_text, enterprise_id, enterprise_name, \
             county, township, sector, last_device)";
        const UPSERT: &str = " ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             level = excluded.level, deadline = excluded.deadline, \
             flagged = CASE WHEN excluded.flagged = 1 THEN 1 ELSE findings.flagged END, \
             rev = excluded.rev, data = excluded.data, updated_at = excluded.updated_at, \
             found_at = excluded.found_at, found_day = excluded.found_day, \
             closed_at = excluded.closed_at, closed_day = excluded.closed_day, \
             supervised = excluded.supervised, search_text = excluded.search_text, \
             enterprise_id = excluded.enterprise_id, enterprise_name = excluded.enterprise_name, \
             county = excluded.county, township = excluded.township, sector = excluded.sector, \
             last_device = excluded.last_device";
        let (new, old) = self.findings.split_written();
        for (records, tail) in [(&new, ""), (&old, UPSERT)] {
            let mut rows = Rows::new(23);
            for (id, r) in records {
                let f = &r.value.finding;
                let c = ledger_columns::finding_columns(f);
                let context = &r.value.context;
                rows.push([
                    (*id).into(),
                    f.inspection_id.to_string().into(),
                    f.org_id.to_string().into(),
                    f.created_by.to_string().into(),
                    f.status.wire_name().into(),
                    f.level.wire_name().into(),
                    f.deadline.map(|d| d.to_string()).into(),
                    i64::from(r.value.flagged).into(),
                    r.rev.into(),
                    to_json(f)?.into(),
                    stamp.into(),
                    c.found_at.into(),
                    c.found_day.into(),
                    c.closed_at.into(),
                    c.closed_day.into(),
                    c.supervised.into(),
                    c.search_text.into(),
                    f.enterprise_id.to_string().into(),
                    context.enterprise_name.clone().into(),
                    context.county.clone().into(),
                    context.township.clone().into(),
                    context.sector.clone().into(),
                    r.device.clone().into(),
                ]);
            }
            rows.insert(tx, self.backend, INSERT, tail).await?;
        }
        Ok(())
    }
}

/// `wanted` as lookups: the ids to rewrite with `lock`, then the rest without, leaving out what
/// the batch has already looked up. Without a lock clause (SQLite) one lookup.
fn split<T>(table: &Table<T>, wanted: &Wanted, lock: &str) -> Vec<(Vec<String>, &'static str)> {
    let lock: &'static str = if lock.is_empty() { "" } else { " FOR UPDATE" };
    if lock.is_empty() {
        let ids = table.unknown(wanted.write.iter().chain(&wanted.read));
        return [(ids, "")]
            .into_iter()
            .filter(|(ids, _)| !ids.is_empty())
            .collect();
    }
    let write = table.unknown(&wanted.write);
    let read: Vec<String> = table
        .unknown(&wanted.read)
        .into_iter()
        .filter(|id| !write.contains(id))
        .collect();
    [(write, lock), (read, "")]
        .into_iter()
        .filter(|(ids, _)| !ids.is_empty())
        .collect()
}

fn one(id: &str, lock: &str) -> Wanted {
    if lock.is_empty() {
        Wanted {
            read: vec![id.to_owned()],
            write: Vec::new(),
        }
    } else {
        Wanted {
            read: Vec::new(),
            write: vec![id.to_owned()],
        }
    }
}

/// ` ORDER BY id FOR UPDATE` for a locking lookup: rows are locked in id order.
fn order_lock(lock: &str) -> String {
    if lock.is_empty() {
        String::new()
    } else {
        format!(" ORDER BY id{lock}")
    }
}

async fn load_records<T: DeserializeOwned>(
    tx: &mut Tx,
    backend: Backend,
    table: &str,
    ids: &[String],
    lock: &str,
) -> Result<Vec<(String, Record<T>)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        id: String,
        rev: i64,
        data: String,
        last_device: Option<String>,
    }
    let sql = format!(
        "SELECT id, rev, data, last_device FROM {table} WHERE id IN ({}){}",
        backend.markers(1, ids.len()),
        order_lock(lock)
    );
    let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
    for id in ids {
        query = query.bind(id.clone());
    }
    query
        .fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|row| {
            let value = from_json(&row.data)?;
            Ok((row.id, Record::loaded(row.rev, value, row.last_device)))
        })
        .collect()
}

/// Runs `{sql} ($1, …)` over `ids` (nothing for none).
async fn delete_in(
    tx: &mut Tx,
    backend: Backend,
    sql: &str,
    ids: &[&str],
) -> Result<(), sqlx::Error> {
    for chunk in ids.chunks(MAX_BINDS) {
        let sql = format!("{sql} ({})", backend.markers(1, chunk.len()));
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind((*id).to_owned());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}
