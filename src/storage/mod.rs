//! The only code that touches IndexedDB (through rexie). Callers get typed values, never `JsValue`.

use rexie::{ObjectStore, Rexie, TransactionMode};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// Name of the app's database.
pub const DB_NAME: &str = "zhicha";
/// Current schema version.
pub const DB_VERSION: u32 = 1;
/// Key/value store for device id, pull cursor, session.
pub const META: &str = "meta";

/// Why a storage call failed, in words an inspector can act on.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("本机存储不可用：{0}")]
    Unavailable(String),
    #[error("本机数据格式错误：{0}")]
    Format(String),
}

impl From<rexie::Error> for StorageError {
    fn from(error: rexie::Error) -> Self {
        Self::Unavailable(error.to_string())
    }
}

/// An open database.
pub struct Db {
    rexie: Rexie,
}

impl Db {
    /// Opens (creating or upgrading) the database called `name`.
    pub async fn open(name: &str) -> Result<Self, StorageError> {
        let rexie = Rexie::builder(name)
            .version(DB_VERSION)
            .add_object_store(ObjectStore::new(META))
            .build()
            .await?;
        Ok(Self { rexie })
    }

    /// Names of the object stores the database has.
    pub fn store_names(&self) -> Vec<String> {
        self.rexie.store_names()
    }

    /// Writes one value in `meta`.
    pub async fn put_meta<T: Serialize>(&self, key: &str, value: &T) -> Result<(), StorageError> {
        let value = to_js(value)?;
        let tx = self.rexie.transaction(&[META], TransactionMode::ReadWrite)?;
        tx.store(META)?.put(&value, Some(&JsValue::from_str(key))).await?;
        tx.done().await?;
        Ok(())
    }

    /// Reads one value from `meta`.
    pub async fn get_meta<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, StorageError> {
        let tx = self.rexie.transaction(&[META], TransactionMode::ReadOnly)?;
        let value = tx.store(META)?.get(JsValue::from_str(key)).await?;
        tx.done().await?;
        value.map(from_js).transpose()
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
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, StorageError> {
    serde_wasm_bindgen::to_value(value).map_err(|e| StorageError::Format(e.to_string()))
}

fn from_js<T: DeserializeOwned>(value: JsValue) -> Result<T, StorageError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| StorageError::Format(e.to_string()))
}
