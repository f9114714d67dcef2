//! The IndexedDB schema: every store and index, by version, and the data steps between versions.
//!
//! rexie deletes any store or index the builder stops declaring, so every version's builder
//! declares everything earlier versions had; data changes run after opening (`migrate_data`).

use rexie::{Index, ObjectStore, Rexie, RexieBuilder};

/// The schema the app opens today.
pub const CURRENT_VERSION: u32 = 4;

pub const PACKS: &str = "packs";
pub const ENTERPRISES: &str = "enterprises";
pub const ROSTER: &str = "roster";
pub const INSPECTIONS: &str = "inspections";
pub const ITEM_RESULTS: &str = "item_results";
pub const FINDINGS: &str = "findings";
pub const PHOTOS: &str = "photos";
pub const OUTBOX: &str = "outbox";
pub const SYNC_ERRORS: &str = "sync_errors";
pub const META: &str = "meta";
/// Added in v2: issued documents (numbers, rendered fields) per inspection.
pub const DOCUMENTS: &str = "documents";
/// Added in v3: acknowledged mutations, kept for a while so that a server restored from an
/// older copy gets them again (`outbox::GapPlan::Replay`).
pub const SENT: &str = "sent";
/// Added in v4: cases (案件), the device's 预立案 and those pulled from the server.
pub const CASES: &str = "cases";

pub const BY_INSPECTION: &str = "by_inspection";
pub const BY_STATUS: &str = "by_status";
pub const BY_OWNER: &str = "by_owner";
pub const BY_MUTATION: &str = "by_mutation";
/// Photos not yet held by the server (a sparse index: only pending records carry the field).
pub const BY_PENDING: &str = "by_pending";
/// Added in v2: findings by enterprise, for the enterprise dossier.
pub const BY_ENTERPRISE: &str = "by_enterprise";
/// Added in v3: outbox entries by entity, so an edit finds the entity's latest entry to merge
/// into without reading the whole queue.
pub const BY_ENTITY: &str = "by_entity";

/// Every store of version 1.
pub const V1_STORES: [&str; 10] = [
    PACKS,
    ENTERPRISES,
    ROSTER,
    INSPECTIONS,
    ITEM_RESULTS,
    FINDINGS,
    PHOTOS,
    OUTBOX,
    SYNC_ERRORS,
    META,
];

fn v1(builder: RexieBuilder) -> RexieBuilder {
    builder
        .add_object_store(ObjectStore::new(PACKS).key_path("key"))
        .add_object_store(ObjectStore::new(ENTERPRISES).key_path("id"))
        .add_object_store(ObjectStore::new(ROSTER).key_path("id"))
        .add_object_store(ObjectStore::new(INSPECTIONS).key_path("id"))
        .add_object_store(
            ObjectStore::new(ITEM_RESULTS)
                .key_path("key")
                .add_index(Index::new(BY_INSPECTION, "inspection_id")),
        )
        .add_object_store(
            ObjectStore::new(PHOTOS)
                .key_path("hash")
                .add_index(Index::new(BY_OWNER, "owner_id"))
                .add_index(Index::new(BY_PENDING, "pending")),
        )
        .add_object_store(ObjectStore::new(SYNC_ERRORS).key_path("mutation_id"))
        .add_object_store(ObjectStore::new(META))
}

fn findings_v1() -> ObjectStore {
    ObjectStore::new(FINDINGS)
        .key_path("id")
        .add_index(Index::new(BY_INSPECTION, "inspection_id"))
        .add_index(Index::new(BY_STATUS, "status"))
}

/// Opens `name` at `version` with that version's stores and indexes.
pub async fn open_version(name: &str, version: u32) -> Result<Rexie, rexie::Error> {
    let builder = v1(Rexie::builder(name).version(version));
    let outbox = ObjectStore::new(OUTBOX)
        .key_path("seq")
        .add_index(Index::new(BY_MUTATION, "mutation.mutation_id").unique(true));
    let builder = if version >= 3 {
        builder
            .add_object_store(outbox.add_index(Index::new(BY_ENTITY, "mutation.entity_id")))
            .add_object_store(ObjectStore::new(SENT).key_path("seq"))
    } else {
        builder.add_object_store(outbox)
    };
    let builder = if version >= 4 {
        builder.add_object_store(
            ObjectStore::new(CASES)
                .key_path("id")
                .add_index(Index::new(BY_INSPECTION, "inspection_id")),
        )
    } else {
        builder
    };
    let builder = match version {
        1 => builder.add_object_store(findings_v1()),
        _ => builder
            .add_object_store(findings_v1().add_index(Index::new(BY_ENTERPRISE, "enterprise_id")))
            .add_object_store(
                ObjectStore::new(DOCUMENTS)
                    .key_path("number")
                    .add_index(Index::new(BY_INSPECTION, "inspection_id")),
            ),
    };
    builder.build().await
}
