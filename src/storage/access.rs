//! Typed access shared by the stores: keys, key ranges, bulk puts and reads by key or index.

use rexie::KeyRange;
use serde::Serialize;
use wasm_bindgen::JsValue;

use super::outbox::only;
use super::{Db, StorageError, from_js, to_js, write_all};

pub(super) fn key(value: impl ToString) -> JsValue {
    JsValue::from_str(&value.to_string())
}

pub(super) fn range(value: JsValue) -> Result<KeyRange, StorageError> {
    only(value)
}

impl Db {
    pub(super) async fn put_many<T: Serialize>(
        &self,
        store: &str,
        items: &[T],
    ) -> Result<(), StorageError> {
        let values = items.iter().map(to_js).collect::<Result<Vec<_>, _>>()?;
        let tx = self.write(&[store])?;
        write_all(tx, async |tx| {
            let store = tx.store(store)?;
            for value in &values {
                store.put(value, None).await?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn get_one<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
        id: impl ToString,
    ) -> Result<Option<T>, StorageError> {
        let tx = self.read(&[store])?;
        let value = tx.store(store)?.get(key(id)).await?;
        value.map(from_js).transpose()
    }

    pub(super) async fn all<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
    ) -> Result<Vec<T>, StorageError> {
        let tx = self.read(&[store])?;
        let values = tx.store(store)?.get_all(None, None).await?;
        values.into_iter().map(from_js).collect()
    }

    pub(super) async fn by_index<T: serde::de::DeserializeOwned>(
        &self,
        store: &str,
        index: &str,
        value: JsValue,
    ) -> Result<Vec<T>, StorageError> {
        let tx = self.read(&[store])?;
        let values = tx
            .store(store)?
            .index(index)?
            .get_all(Some(range(value)?), None)
            .await?;
        values.into_iter().map(from_js).collect()
    }
}
