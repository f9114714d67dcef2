//! Reference data from the server: checklist packs, the enterprise directory (and enterprises added
//! on site), the roster and the org units.

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use zhicha_core::model::{Enterprise, Finding, OrgUnit, User};
use zhicha_core::outbox;
use zhicha_core::packs::ChecklistPack;
use zhicha_core::protocol::{BootstrapResponse, MutationPayload};

use super::access::key;
use super::outbox::enqueue;
use super::schema::{ENTERPRISES, FINDINGS, META, OUTBOX, PACKS, ROSTER};
use super::{Db, StorageError, from_js, to_js, write_all};

/// A filter over the offline enterprise directory.
#[derive(Debug, Clone, Default)]
pub struct EnterpriseSearch {
    /// Matches the name, the 统一社会信用代码, the address or the township.
    pub text: String,
}

impl EnterpriseSearch {
    pub fn matches(&self, enterprise: &Enterprise) -> bool {
        let text = self.text.trim();
        text.is_empty()
            || enterprise.name.contains(text)
            || enterprise
                .credit_code
                .as_deref()
                .is_some_and(|c| c.contains(&text.to_uppercase()))
            || enterprise.address.contains(text)
            || enterprise.township.contains(text)
            || enterprise.county.contains(text)
    }
}

#[derive(Serialize, Deserialize)]
pub(super) struct PackRow {
    key: String,
    pack: ChecklistPack,
}

pub(super) fn pack_key(id: &str, version: u32) -> String {
    format!("{id}@{version}")
}

impl Db {
    pub async fn put_packs(&self, packs: &[ChecklistPack]) -> Result<(), StorageError> {
        let rows: Vec<JsValue> = packs
            .iter()
            .map(|pack| {
                to_js(&PackRow {
                    key: pack_key(pack.id.as_str(), pack.version),
                    pack: pack.clone(),
                })
            })
            .collect::<Result<_, _>>()?;
        let tx = self.write(&[PACKS])?;
        write_all(tx, async |tx| {
            let store = tx.store(PACKS)?;
            for row in &rows {
                store.put(row, None).await?;
            }
            Ok(())
        })
        .await
    }

    pub async fn pack(
        &self,
        id: &str,
        version: u32,
    ) -> Result<Option<ChecklistPack>, StorageError> {
        let tx = self.read(&[PACKS])?;
        let row = tx.store(PACKS)?.get(key(pack_key(id, version))).await?;
        Ok(row.map(from_js::<PackRow>).transpose()?.map(|row| row.pack))
    }

    pub async fn packs(&self) -> Result<Vec<ChecklistPack>, StorageError> {
        let rows: Vec<PackRow> = self.all(PACKS).await?;
        Ok(rows.into_iter().map(|row| row.pack).collect())
    }

    pub async fn put_enterprises(&self, enterprises: &[Enterprise]) -> Result<(), StorageError> {
        self.put_many(ENTERPRISES, enterprises).await
    }

    pub async fn enterprise(&self, id: &str) -> Result<Option<Enterprise>, StorageError> {
        self.get_one(ENTERPRISES, id).await
    }

    /// The offline directory, filtered, sorted by name.
    pub async fn search_enterprises(
        &self,
        search: &EnterpriseSearch,
    ) -> Result<Vec<Enterprise>, StorageError> {
        let mut list: Vec<Enterprise> = self.all(ENTERPRISES).await?;
        list.retain(|e| search.matches(e));
        list.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(list)
    }

    pub async fn put_roster(&self, users: &[User]) -> Result<(), StorageError> {
        self.put_many(ROSTER, users).await
    }

    pub async fn roster(&self) -> Result<Vec<User>, StorageError> {
        self.all(ROSTER).await
    }

    /// Saves an enterprise made on site and queues `enterprise.save`.
    pub async fn save_enterprise(&self, enterprise: &Enterprise) -> Result<(), StorageError> {
        let value = to_js(enterprise)?;
        let payload = MutationPayload::EnterpriseSave(Box::new(enterprise.clone()));
        let tx = self.write(&[ENTERPRISES, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(ENTERPRISES)?.put(&value, None).await?;
            enqueue(tx, enterprise.id.0, &payload).await
        })
        .await
    }

    /// The org units the server listed at bootstrap (names and document codes).
    pub async fn orgs(&self) -> Result<Vec<OrgUnit>, StorageError> {
        Ok(self.get_meta("orgs").await?.unwrap_or_default())
    }

    /// Stores what the server sends a device for a day offline (with the plans' tasks, caps and
    /// visit counts). Open findings with pending local mutations keep the local version.
    pub async fn put_bootstrap(&self, bootstrap: &BootstrapResponse) -> Result<(), StorageError> {
        // Core's pull rule holds here too: nothing from the server replaces a record with a
        // queued local write (an enterprise added on site, a finding being reworked).
        let queued = self.outbox(u32::MAX).await?;
        self.put_roster(&bootstrap.roster).await?;
        let enterprises: Vec<&Enterprise> = bootstrap
            .enterprises
            .iter()
            .filter(|e| outbox::applies_pulled(e.id.0, &queued))
            .collect();
        self.put_many(ENTERPRISES, &enterprises).await?;
        let findings: Vec<&Finding> = bootstrap
            .open_findings
            .iter()
            .filter(|f| outbox::applies_pulled(f.id.0, &queued))
            .collect();
        self.put_many(FINDINGS, &findings).await?;
        self.put_plan_data(bootstrap).await?;
        self.put_meta("orgs", &bootstrap.orgs).await
    }
}
