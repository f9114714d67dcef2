//! The photo references a batch writes: the photo lists of its saved records (replaced whole)
//! and the attached photos' metadata, with who may use which photo.

use std::collections::HashMap;

use zhicha_core::ids::PhotoHash;
use zhicha_core::model::{EnterpriseSignature, Finding, Inspection};

use sqlx::{AssertSqlSafe, FromRow};

use super::super::{Author, Tx};
use super::{Batch, MAX_BINDS, Rows, delete_in};
use crate::db::Backend;
use crate::db::photos::{self, PhotoUse};

impl Batch {
    /// The photo references of the saved records (their photo lists, replaced whole) and the
    /// attached photos' metadata. A reference a record keeps keeps its writer and `checked`; a
    /// new one is the author's, checked when the author was allowed to use the photo (see
    /// `db::photos`).
    pub(super) async fn write_photo_refs(
        &mut self,
        tx: &mut Tx,
        author: &Author<'_>,
        stamp: &str,
    ) -> Result<(), sqlx::Error> {
        /// One reference a written record holds: hash, owner, inspection, org.
        type Wanted = (PhotoHash, String, String, String);
        // Owners whose earlier references are replaced (a new record has none).
        let mut owners: Vec<String> = Vec::new();
        let mut wanted: Vec<Wanted> = Vec::new();
        for id in &self.inspections.written {
            let Some((_, inspection)) = self.inspections.get(id) else {
                continue;
            };
            if self.inspections.was_stored(id) {
                owners.push(id.clone());
            }
            for hash in inspection_photos(&inspection) {
                wanted.push((
                    hash.clone(),
                    id.clone(),
                    inspection.id.to_string(),
                    inspection.org_id.to_string(),
                ));
            }
        }
        for id in &self.findings.written {
            let Some((_, record)) = self.findings.get(id) else {
                continue;
            };
            if self.findings.was_stored(id) {
                owners.push(id.clone());
            }
            let f = &record.finding;
            for hash in finding_photos(f) {
                wanted.push((
                    hash.clone(),
                    id.clone(),
                    f.inspection_id.to_string(),
                    f.org_id.to_string(),
                ));
            }
        }
        let owner_ids: Vec<&str> = owners.iter().map(String::as_str).collect();
        let kept = record_refs(tx, self.backend, &owner_ids).await?;
        let new_hashes: Vec<PhotoHash> = wanted
            .iter()
            .filter(|(hash, owner, _, _)| !kept.contains_key(&(hash.to_string(), owner.clone())))
            .map(|(hash, _, _, _)| hash.clone())
            .chain(self.attachments.iter().map(|a| a.hash.clone()))
            .collect();
        self.load_photo_uses(tx, author, &new_hashes).await?;
        let author_id = author.user.id.to_string();

        let mut rows = Rows::new(9);
        for (hash, owner, inspection, org) in &wanted {
            let (by, checked) = match kept.get(&(hash.to_string(), owner.clone())) {
                Some((by, checked)) => (by.clone(), *checked),
                None => (Some(author_id.clone()), self.checked(hash)),
            };
            rows.push([
                hash.as_str().into(),
                owner.as_str().into(),
                inspection.as_str().into(),
                org.as_str().into(),
                stamp.into(),
                "record".into(),
                None::<String>.into(),
                by.into(),
                checked.into(),
            ]);
        }
        delete_in(
            tx,
            self.backend,
            "DELETE FROM photo_refs WHERE source = 'record' AND owner_id IN",
            &owner_ids,
        )
        .await?;
        // DO NOTHING: an inspection and a finding could share an id, and so a reference.
        rows.insert(
            tx,
            self.backend,
            "INSERT INTO photo_refs (hash, owner_id, inspection_id, org_id, created_at, source, \
             data, referenced_by, checked)",
            " ON CONFLICT (hash, owner_id, source) DO NOTHING",
        )
        .await?;

        let mut rows = Rows::new(9);
        for a in &self.attachments {
            rows.push([
                a.hash.as_str().into(),
                a.owner.to_string().into(),
                a.inspection.to_string().into(),
                a.org.to_string().into(),
                stamp.into(),
                "attach".into(),
                Some(a.data.clone()).into(),
                author_id.as_str().into(),
                self.checked(&a.hash).into(),
            ]);
        }
        // A repeated attachment replaces only the metadata: who referenced it first stays.
        rows.insert(
            tx,
            self.backend,
            "INSERT INTO photo_refs (hash, owner_id, inspection_id, org_id, created_at, source, \
             data, referenced_by, checked)",
            " ON CONFLICT (hash, owner_id, source) DO UPDATE SET data = excluded.data",
        )
        .await
    }

    /// Loads what the author may do with those of `hashes` not looked up yet.
    pub async fn load_photo_uses(
        &mut self,
        tx: &mut Tx,
        author: &Author<'_>,
        hashes: &[PhotoHash],
    ) -> Result<(), sqlx::Error> {
        let mut unknown: Vec<PhotoHash> = hashes
            .iter()
            .filter(|h| !self.photo_uses.contains_key(*h))
            .cloned()
            .collect();
        unknown.sort();
        unknown.dedup();
        if unknown.is_empty() {
            return Ok(());
        }
        let found =
            photos::photo_uses(tx, self.backend, author.user, author.scope, &unknown).await?;
        self.photo_uses.extend(found);
        Ok(())
    }

    /// What the author may do with a photo (loaded by [`Self::load_photo_uses`]).
    pub fn photo_use(&self, hash: &PhotoHash) -> PhotoUse {
        // Not looked up: treated as refused, so a missed lookup can only refuse, never grant.
        self.photo_uses
            .get(hash)
            .copied()
            .unwrap_or(PhotoUse::Refused)
    }

    /// The `checked` column of a new reference of `hash` by the author.
    fn checked(&self, hash: &PhotoHash) -> i64 {
        i64::from(self.photo_use(hash).checked())
    }
}

/// The stored record references (`source = 'record'`) of `owners`: (hash, owner) → (writer,
/// checked).
async fn record_refs(
    tx: &mut Tx,
    backend: Backend,
    owners: &[&str],
) -> Result<HashMap<(String, String), (Option<String>, i64)>, sqlx::Error> {
    #[derive(FromRow)]
    struct Row {
        hash: String,
        owner_id: String,
        referenced_by: Option<String>,
        checked: i64,
    }
    let mut refs = HashMap::new();
    for chunk in owners.chunks(MAX_BINDS) {
        let sql = format!(
            "SELECT hash, owner_id, referenced_by, checked FROM photo_refs \
             WHERE source = 'record' AND owner_id IN ({})",
            backend.markers(1, chunk.len())
        );
        let mut query = sqlx::query_as::<_, Row>(AssertSqlSafe(sql));
        for owner in chunk {
            query = query.bind((*owner).to_owned());
        }
        for row in query.fetch_all(&mut **tx).await? {
            refs.insert((row.hash, row.owner_id), (row.referenced_by, row.checked));
        }
    }
    Ok(refs)
}

/// The photos an inspection's record lists (gate photo, the enterprise's and the inspectors'
/// signature images).
pub(in crate::db::sync) fn inspection_photos(inspection: &Inspection) -> Vec<&PhotoHash> {
    let mut hashes: Vec<&PhotoHash> = inspection_photo_fields(inspection)
        .into_iter()
        .map(|(_, hash)| hash)
        .collect();
    hashes.sort();
    hashes.dedup();
    hashes
}

/// The photos an inspection's record lists, each with the field that holds it.
pub(in crate::db::sync) fn inspection_photo_fields(
    inspection: &Inspection,
) -> Vec<(&'static str, &PhotoHash)> {
    let gate = inspection
        .check_in
        .as_ref()
        .and_then(|c| c.gate_photo.as_ref())
        .map(|hash| ("check_in.gate_photo", hash));
    let signature = match &inspection.enterprise_signature {
        Some(EnterpriseSignature::Signed { image, .. }) => image.as_ref(),
        _ => None,
    }
    .map(|hash| ("enterprise_signature.image", hash));
    let inspectors = inspection
        .inspector_signatures
        .iter()
        .map(|s| ("inspector_signatures", &s.image));
    // The 告知 recorded on the phone (全过程记录).
    let announcement = inspection
        .recording
        .as_ref()
        .and_then(|r| r.announcement.as_ref())
        .map(|hash| ("recording.announcement", hash));
    // The 签收 drawn when a document was served.
    let receipts = inspection
        .documents
        .iter()
        .filter_map(|d| match &d.service {
            Some(zhicha_core::model::Service::Signed {
                image: Some(hash), ..
            }) => Some(("documents.service.image", hash)),
            _ => None,
        });
    gate.into_iter()
        .chain(signature)
        .chain(inspectors)
        .chain(receipts)
        .chain(announcement)
        .collect()
}

/// The photos a finding's record lists, each with the field that holds it.
pub(in crate::db::sync) fn finding_photo_fields(
    finding: &Finding,
) -> Vec<(&'static str, &PhotoHash)> {
    let before = finding.photos.iter().map(|hash| ("photos", hash));
    let after = finding
        .after_photos
        .iter()
        .map(|hash| ("after_photos", hash));
    before.chain(after).collect()
}

/// The photos a finding's record lists (before and after).
pub(in crate::db::sync) fn finding_photos(finding: &Finding) -> Vec<&PhotoHash> {
    let mut hashes: Vec<&PhotoHash> = finding.photos.iter().chain(&finding.after_photos).collect();
    hashes.sort();
    hashes.dedup();
    hashes
}
