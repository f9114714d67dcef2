//! The only code that touches IndexedDB (through rexie). Callers get typed values, never `JsValue`.
//!
//! Every user edit is one transaction that writes the entity and its outbox entry together, so a
//! crash, a closed tab or a dead battery never leaves a change that will not sync.

mod access;
mod bulk;
mod cases;
mod directory;
mod drafts;
mod fieldwork;
mod leader;
mod outbox;
mod photo_cache;
mod photos;
mod pull;
mod runner_state;
pub mod schema;
mod session;
mod tasks;

use rexie::{Rexie, Transaction, TransactionMode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

pub use directory::EnterpriseSearch;
pub use drafts::{
    Draft, DraftKey, EntryDraft, FinishDraft, ReinspectDraft, SignatureDraft, StartDraft,
};
pub use fieldwork::DocumentRecord;
pub use outbox::{OutboxRecord, SwitchError, SyncErrorRecord, UnsyncedCounts};
pub use photo_cache::{PhotoSpace, PhotoView, PruneReport};
pub use photos::{NewPhoto, StoredPhoto};
pub use runner_state::RunnerPlace;
pub use schema::META;
pub use session::Session;
pub use tasks::{PlanData, TaskProgress};
pub use zhicha_core::outbox::{RecordSync, UnsyncedEntities};

/// Name of the app's database.
pub const DB_NAME: &str = "zhicha";

/// Why a storage call failed, in words an inspector can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("本机存储不可用：{0}")]
    Unavailable(String),
    #[error("本机存储空间不足，请先同步并清理已上传的照片")]
    QuotaExceeded,
    #[error("保存未完成，数据未写入：{0}")]
    Aborted(String),
    #[error("本机数据格式错误：{0}")]
    Format(String),
    #[error("记录已存在：{0}")]
    AlreadyExists(String),
    #[error("找不到记录：{0}")]
    NotFound(String),
}

impl From<rexie::Error> for StorageError {
    fn from(error: rexie::Error) -> Self {
        // rexie's own message is just "idb error": the DOMException inside says what happened.
        let text = match &error {
            rexie::Error::IdbError(inner) => inner.to_string(),
            other => other.to_string(),
        };
        if text.contains("QuotaExceeded") {
            Self::QuotaExceeded
        } else if text.contains("ConstraintError") {
            Self::AlreadyExists(text)
        } else {
            Self::Unavailable(text)
        }
    }
}

/// An open database.
pub struct Db {
    rexie: Rexie,
}

impl Db {
    /// Opens (creating or upgrading) the database called `name` at the current schema.
    pub async fn open(name: &str) -> Result<Self, StorageError> {
        Self::open_at(name, schema::CURRENT_VERSION).await
    }

    /// Opens at an older schema version. Exists so the upgrade path can be tested.
    #[doc(hidden)]
    pub async fn open_at(name: &str, version: u32) -> Result<Self, StorageError> {
        let rexie = schema::open_version(name, version).await?;
        let db = Self { rexie };
        db.migrate_data(version).await?;
        Ok(db)
    }

    /// Data steps between schema versions; the schema itself is declared in `schema`.
    async fn migrate_data(&self, version: u32) -> Result<(), StorageError> {
        let stored: Option<u32> = self.get_meta(session::SCHEMA_VERSION_KEY).await?;
        if stored.unwrap_or(0) < version {
            // v1 → v2 adds an index and a store only; IndexedDB builds the index over old rows.
            self.put_meta(session::SCHEMA_VERSION_KEY, &version).await?;
        }
        Ok(())
    }

    /// The schema version the data was last migrated to.
    pub async fn schema_version(&self) -> Result<u32, StorageError> {
        Ok(self
            .get_meta(session::SCHEMA_VERSION_KEY)
            .await?
            .unwrap_or(0))
    }

    /// Names of the object stores the database has.
    pub fn store_names(&self) -> Vec<String> {
        self.rexie.store_names()
    }

    /// Writes one value in `meta`.
    pub async fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StorageError> {
        let value = to_js(value)?;
        let tx = self.write(&[META])?;
        tx.store(META)?
            .put(&value, Some(&JsValue::from_str(key)))
            .await?;
        finish(tx).await
    }

    /// Reads one value from `meta`.
    pub async fn get_meta<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, StorageError> {
        let tx = self.read(&[META])?;
        let value = tx.store(META)?.get(JsValue::from_str(key)).await?;
        value.map(from_js).transpose()
    }

    /// Writes one value in `meta` as it is, for values only the browser can copy (a `CryptoKey`).
    pub async fn put_meta_raw(&self, key: &str, value: &JsValue) -> Result<(), StorageError> {
        let tx = self.write(&[META])?;
        tx.store(META)?
            .put(value, Some(&JsValue::from_str(key)))
            .await?;
        finish(tx).await
    }

    /// Reads one value from `meta` as it is stored.
    pub async fn get_meta_raw(&self, key: &str) -> Result<Option<JsValue>, StorageError> {
        let tx = self.read(&[META])?;
        Ok(tx.store(META)?.get(JsValue::from_str(key)).await?)
    }

    /// Closes the connection (needed before the database can be deleted).
    pub fn close(self) {
        self.rexie.close();
    }

    /// Deletes the database called `name`.
    pub async fn delete(name: &str) -> Result<(), StorageError> {
        Rexie::delete(name).await?;
        Ok(())
    }

    fn read(&self, stores: &[&str]) -> Result<Transaction, StorageError> {
        Ok(self.rexie.transaction(stores, TransactionMode::ReadOnly)?)
    }

    fn write(&self, stores: &[&str]) -> Result<Transaction, StorageError> {
        Ok(self.rexie.transaction(stores, TransactionMode::ReadWrite)?)
    }
}

/// Waits for a write transaction and reports an abort as an error, not as success.
async fn finish(tx: Transaction) -> Result<(), StorageError> {
    let result = tx.done().await?;
    if result.is_committed() {
        Ok(())
    } else {
        Err(StorageError::Aborted("事务被中止".to_owned()))
    }
}

/// Runs a write; on failure the transaction is aborted so nothing of it is kept.
async fn write_all<F>(tx: Transaction, work: F) -> Result<(), StorageError>
where
    F: AsyncFnOnce(&Transaction) -> Result<(), StorageError>,
{
    match work(&tx).await {
        Ok(()) => finish(tx).await,
        Err(error) => {
            let _ = tx.abort().await;
            Err(error)
        }
    }
}

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, StorageError> {
    // Plain objects (not Maps), so key paths and indexes can see the fields.
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| StorageError::Format(e.to_string()))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, StorageError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| StorageError::Format(e.to_string()))
}
