//! What comes back from the server: pulled pages applied with their cursor, and each entity's known
//! revision.

use zhicha_core::outbox;
use zhicha_core::protocol::{Change, EntityKind};

use super::access::key;
use super::outbox::{OutboxRecord, PULL_CURSOR_KEY};
use super::schema::{CASES, ENTERPRISES, FINDINGS, INSPECTIONS, META, OUTBOX};
use super::{Db, StorageError, from_js, to_js, write_all};

pub(super) fn rev_key(id: uuid::Uuid) -> String {
    format!("rev/{id}")
}

impl Db {
    /// Applies one pulled page and stores the new cursor in the same transaction. A change to an
    /// entity with a pending local mutation is not applied over it (the local edit wins on the
    /// device and reaches the server next); its revision is still recorded.
    pub async fn apply_pulled(
        &self,
        changes: &[Change],
        cursor: &str,
    ) -> Result<usize, StorageError> {
        let tx = self.write(&[FINDINGS, INSPECTIONS, ENTERPRISES, CASES, OUTBOX, META])?;
        let mut applied = 0;
        write_all(tx, async |tx| {
            let pending: Vec<OutboxRecord> = tx
                .store(OUTBOX)?
                .get_all(None, None)
                .await?
                .into_iter()
                .map(from_js)
                .collect::<Result<_, _>>()?;
            let meta = tx.store(META)?;
            for change in changes {
                let store = match change.entity {
                    EntityKind::Finding => FINDINGS,
                    EntityKind::Inspection => INSPECTIONS,
                    EntityKind::Enterprise => ENTERPRISES,
                    EntityKind::Case => CASES,
                    _ => continue,
                };
                meta.put(&to_js(&change.rev)?, Some(&key(rev_key(change.id))))
                    .await?;
                if !outbox::applies_pulled(change.id, &pending) {
                    continue;
                }
                let target = tx.store(store)?;
                match (&change.data, change.deleted) {
                    (_, true) => target.delete(key(change.id)).await?,
                    (Some(data), false) => {
                        target.put(&to_js(data)?, None).await?;
                    }
                    (None, false) => continue,
                }
                applied += 1;
            }
            meta.put(&to_js(cursor)?, Some(&key(PULL_CURSOR_KEY)))
                .await?;
            Ok(())
        })
        .await?;
        Ok(applied)
    }

    /// Where the last pull stopped.
    pub async fn pull_cursor(&self) -> Result<Option<String>, StorageError> {
        self.get_meta(PULL_CURSOR_KEY).await
    }

    /// The server revision last seen of an entity.
    pub async fn known_rev(&self, id: uuid::Uuid) -> Result<Option<i64>, StorageError> {
        self.get_meta(&rev_key(id)).await
    }
}
