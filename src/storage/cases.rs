//! Cases (案件) on the device: a 预立案 saved with its `case.save`, acts queued as `case.act`, and
//! the cases the server sends back by pull (schema v4, store `cases`).

use zhicha_core::case::{Case, CaseAct};
use zhicha_core::ids::{CaseId, InspectionId};
use zhicha_core::protocol::MutationPayload;

use super::access::key;
use super::outbox::enqueue;
use super::schema::{BY_INSPECTION, CASES, META, OUTBOX};
use super::{Db, StorageError, to_js, write_all};

impl Db {
    /// Saves a case (预立案) and queues `case.save`, together.
    pub async fn save_case(&self, case: &Case) -> Result<(), StorageError> {
        let value = to_js(case)?;
        let payload = MutationPayload::CaseSave(Box::new(case.clone()));
        let tx = self.write(&[CASES, OUTBOX, META])?;
        write_all(tx, async |tx| {
            tx.store(CASES)?.put(&value, None).await?;
            enqueue(tx, case.id.0, &payload).await
        })
        .await
    }

    /// Queues an act on a case (`case.act`): the server applies it and the case comes back by
    /// the next pull.
    pub async fn queue_case_act(&self, id: CaseId, act: &CaseAct) -> Result<(), StorageError> {
        let payload = MutationPayload::CaseAct(Box::new(act.clone()));
        let tx = self.write(&[OUTBOX, META])?;
        write_all(tx, async |tx| enqueue(tx, id.0, &payload).await).await
    }

    pub async fn case(&self, id: CaseId) -> Result<Option<Case>, StorageError> {
        self.get_one(CASES, id).await
    }

    /// The cases of an inspection, oldest first.
    pub async fn cases_of_inspection(&self, id: InspectionId) -> Result<Vec<Case>, StorageError> {
        let mut cases: Vec<Case> = self.by_index(CASES, BY_INSPECTION, key(id)).await?;
        cases.sort_by_key(|c| c.created_at);
        Ok(cases)
    }

    /// Every case on the device, newest first.
    pub async fn cases(&self) -> Result<Vec<Case>, StorageError> {
        let mut cases: Vec<Case> = self.all(CASES).await?;
        cases.sort_by_key(|c| std::cmp::Reverse(c.created_at));
        Ok(cases)
    }
}
