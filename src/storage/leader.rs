//! Writes of the re-inspection and review screens that the generic record API does not cover.

use zhicha_core::model::Finding;
use zhicha_core::protocol::MutationPayload;

use super::outbox::enqueue;
use super::photos::{photo_row, uuid_of};
use super::schema::{FINDINGS, META, OUTBOX, PHOTOS};
use super::{Db, NewPhoto, StorageError, to_js, write_all};

impl Db {
    /// A lifecycle step that brings photos with it (a re-inspection's after-photos): the photos,
    /// the updated finding, the step's mutation and one `photo.attach` per photo, all or nothing.
    /// `save_finding` would queue a content edit instead, which sends a reviewed finding back to
    /// review. Compress and hash photos before calling.
    pub async fn record_finding_action_with_photos(
        &self,
        finding: &Finding,
        action: &MutationPayload,
        photos: &[NewPhoto],
    ) -> Result<(), StorageError> {
        let value = to_js(finding)?;
        let photo_rows = photos
            .iter()
            .map(photo_row)
            .collect::<Result<Vec<_>, _>>()?;
        let tx = self.write(&[FINDINGS, PHOTOS, OUTBOX, META])?;
        write_all(tx, async |tx| {
            let store = tx.store(PHOTOS)?;
            for row in &photo_rows {
                store.put(row, None).await?;
            }
            tx.store(FINDINGS)?.put(&value, None).await?;
            enqueue(tx, finding.id.0, action).await?;
            for photo in photos {
                let attach = MutationPayload::PhotoAttach(Box::new(photo.meta.clone()));
                enqueue(tx, uuid_of(&photo.meta.owner), &attach).await?;
            }
            Ok(())
        })
        .await
    }
}
