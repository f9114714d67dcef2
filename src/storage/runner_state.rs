//! Where the inspector was in an inspection's checklist: the group last answered, jumped to or
//! scrolled to, and the 只看未检查 choice. Kept in `meta` on this device only (never synced), so a
//! reload or a trip to the finding editor brings the runner back to the same place.

use serde::{Deserialize, Serialize};
use zhicha_core::ids::InspectionId;

use super::{Db, StorageError};

/// The runner's place in one inspection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerPlace {
    /// The key of the group (`fieldwork::group_key`), None at the top of the list.
    #[serde(default)]
    pub group: Option<String>,
    /// 只看未检查: answered items hidden.
    #[serde(default)]
    pub only_unanswered: bool,
}

fn place_key(id: InspectionId) -> String {
    format!("runner_place/{id}")
}

impl Db {
    /// The runner's place in inspection `id` (the default before the first visit).
    pub async fn runner_place(&self, id: InspectionId) -> Result<RunnerPlace, StorageError> {
        Ok(self.get_meta(&place_key(id)).await?.unwrap_or_default())
    }

    /// Keeps the runner's place in inspection `id`.
    pub async fn put_runner_place(
        &self,
        id: InspectionId,
        place: &RunnerPlace,
    ) -> Result<(), StorageError> {
        self.put_meta(&place_key(id), place).await
    }
}
