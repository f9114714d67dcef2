//! The 案卷 of one inspection: a zip that anyone can check offline (core `evidence::archive`,
//! protocol.md § "案卷 archive").
//!
//! The zip holds `manifest.json`, `manifest.sig`, `inspection.json` and `findings/<id>.json`
//! exactly as stored (their `data` text, which their latest events hash), the photos the events
//! attached (`photos/<sha256>.jpg`) and the documents issued on the inspection, rendered as PDF
//! from the records as the phone renders them (`documents/<nn>-<title>.pdf`). Entries are stored
//! without compression, so a byte changed in the zip is a byte changed in a file.
//!
//! The manifest is signed with the server's P-256 key, made on first use and kept in the
//! database (`server_keys`), so every replica signs with the same key.

use std::collections::BTreeMap;
use std::io::{Cursor, Read as _, Write as _};
use std::str::FromStr as _;

use anyhow::Context as _;
use chrono::Utc;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use zhicha_core::documents::pdf::{self, PdfSheet};
use zhicha_core::documents::{self, DocumentNumber, DocumentSource, FilledDocument, Rights};
use zhicha_core::evidence::archive::{
    self, ArchiveReport, DeviceKey, Failure, FileEntry, Manifest,
};
use zhicha_core::evidence::{self, hex};
use zhicha_core::ids::{InspectionId, PhotoHash};
use zhicha_core::model::{Enterprise, Finding, Inspection, OrgUnit};

use crate::db::archive::StoredInspection;
use crate::photos::PhotoStore;
use crate::{ApiError, Store};

/// The purpose the archive signing key is stored under.
const KEY_PURPOSE: &str = "archive";

/// An exported 案卷.
#[derive(Debug, Clone)]
pub struct Archive {
    pub bytes: Vec<u8>,
    /// `{enterprise}-{day}-案卷.zip`.
    pub file_name: String,
    /// The server's public key that signed it (hex), to pin when checking.
    pub server_key: String,
}

/// The server's archive signing key, made and stored on first use.
pub async fn signing_key(store: &Store) -> Result<(SigningKey, String), ApiError> {
    let stored = store.server_key(KEY_PURPOSE, new_key).await?;
    let key = evidence::unhex(&stored.secret_key)
        .and_then(|secret| SigningKey::from_slice(&secret).ok())
        .context("the stored archive signing key is not a P-256 key")?;
    Ok((key, stored.public_key))
}

/// A fresh key pair as `(secret, public)` hex.
fn new_key() -> (String, String) {
    loop {
        let mut secret = [0_u8; 32];
        rand::fill(&mut secret);
        // Fails only for zero or a value past the curve order: practically never.
        if let Ok(key) = SigningKey::from_slice(&secret) {
            return (hex(&secret), public_hex(&key));
        }
    }
}

/// Uncompressed SEC1 of `key`'s public key, hex.
pub fn public_hex(key: &SigningKey) -> String {
    hex(key.verifying_key().to_encoded_point(false).as_bytes())
}

/// The ECDSA P-256 / SHA-256 signature `r‖s` of `bytes`, hex.
pub fn sign(key: &SigningKey, bytes: &[u8]) -> String {
    let signature: Signature = key.sign(bytes);
    hex(&signature.to_bytes())
}

/// The 案卷 of the inspection `id`; None when there is no such inspection.
pub async fn export_by_id(
    store: &Store,
    photos: &PhotoStore,
    id: InspectionId,
) -> Result<Option<Archive>, ApiError> {
    match store.stored_inspection(&id.to_string()).await? {
        Some(stored) => Ok(Some(export(store, photos, &stored).await?)),
        None => Ok(None),
    }
}

/// The 案卷 of a stored inspection.
pub async fn export(
    store: &Store,
    photos: &PhotoStore,
    stored: &StoredInspection,
) -> Result<Archive, ApiError> {
    let inspection: Inspection =
        serde_json::from_str(&stored.data).context("reading the stored inspection")?;
    let mut findings = Vec::with_capacity(stored.findings.len());
    for (id, data) in &stored.findings {
        let finding: Finding = serde_json::from_str(data)
            .with_context(|| format!("reading the stored finding {id}"))?;
        findings.push(finding);
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    files.insert(
        archive::INSPECTION.to_owned(),
        stored.data.clone().into_bytes(),
    );
    for (id, data) in &stored.findings {
        files.insert(archive::finding_path(id), data.clone().into_bytes());
    }

    // The events of the inspection, its findings and their photos (a photo's event names its
    // owner), and the links that tie them into the chain.
    let ids: Vec<String> = std::iter::once(stored.id.clone())
        .chain(stored.findings.iter().map(|(id, _)| id.clone()))
        .collect();
    let events = store.events_of(&ids).await?;
    let links = match (events.first(), events.last()) {
        (Some(first), Some(last)) => store.event_links(first.seq, last.seq).await?,
        _ => Vec::new(),
    };
    let mut key_ids: Vec<String> = events.iter().filter_map(|e| e.key_id.clone()).collect();
    key_ids.sort();
    key_ids.dedup();
    let device_keys = store
        .device_public_keys(&key_ids)
        .await?
        .into_iter()
        .map(|(key_id, device_id, public_key)| DeviceKey {
            key_id,
            device_id,
            public_key,
        })
        .collect();

    let mut missing_photos = Vec::new();
    let mut attached: Vec<&str> = events
        .iter()
        .filter(|e| e.entity == "photo")
        .filter_map(|e| e.detail.as_deref())
        .collect();
    attached.sort_unstable();
    attached.dedup();
    for hash in attached {
        let Ok(parsed) = PhotoHash::from_str(hash) else {
            missing_photos.push(hash.to_owned());
            continue;
        };
        match photos.get(&parsed).await? {
            Some(bytes) => {
                let mime = crate::photos::evidence_type(&bytes).unwrap_or("image/jpeg");
                files.insert(archive::photo_path(hash, mime), bytes.to_vec());
            }
            None => missing_photos.push(hash.to_owned()),
        }
    }

    for (name, bytes) in document_pdfs(store, &inspection, &findings).await? {
        files.insert(name, bytes);
    }

    let (key, server_key) = signing_key(store).await?;
    let manifest = Manifest {
        format: archive::FORMAT.to_owned(),
        version: archive::VERSION,
        inspection: stored.id.clone(),
        exported_at: evidence::time_text(Utc::now()),
        files: files.iter().map(|(p, b)| FileEntry::of(p, b)).collect(),
        events,
        links,
        device_keys,
        missing_photos,
        server_key: server_key.clone(),
    };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).context("writing the archive manifest")?;
    let signature = sign(&key, &manifest_bytes);
    let mut entries = vec![
        (archive::MANIFEST.to_owned(), manifest_bytes),
        (archive::SIGNATURE.to_owned(), signature.into_bytes()),
    ];
    // The records first, then photos and documents.
    let rank = |path: &str| match path.split('/').next() {
        Some("inspection.json") => 0,
        Some("findings") => 1,
        Some("photos") => 2,
        _ => 3,
    };
    let mut rest: Vec<(String, Vec<u8>)> = files.into_iter().collect();
    rest.sort_by(|a, b| (rank(&a.0), &a.0).cmp(&(rank(&b.0), &b.0)));
    entries.extend(rest);
    let bytes = zip_files(&entries).context("writing the archive zip")?;

    let enterprise = store.enterprise(inspection.enterprise_id).await?;
    let name = enterprise.as_ref().map_or("检查", |e| e.name.as_str());
    let day =
        zhicha_core::time::compact_date(inspection.finished_at.unwrap_or(inspection.started_at));
    Ok(Archive {
        bytes,
        file_name: format!("{}-{day}-案卷.zip", file_safe(name)),
        server_key,
    })
}

/// `name` with the characters a file name cannot hold replaced.
fn file_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect()
}

/// A zip of `entries` in order, each stored without compression.
pub fn zip_files(entries: &[(String, Vec<u8>)]) -> zip::result::ZipResult<Vec<u8>> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(entries.iter().any(|(_, b)| b.len() >= u32::MAX as usize));
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in entries {
        writer.start_file(name.as_str(), options)?;
        writer.write_all(bytes)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// What a zip holds.
#[derive(Debug, Clone, Default)]
pub struct ZipContents {
    /// The files by name.
    pub files: BTreeMap<String, Vec<u8>>,
    /// What could not be read, by entry (a CRC that does not match: a byte changed inside the
    /// zip).
    pub damaged: Vec<Failure>,
}

/// The files of a zip, and what could not be read of it. Err when it is not a zip at all.
pub fn read_zip(bytes: &[u8]) -> Result<ZipContents, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("不是可以读取的 zip 文件（{e}）"))?;
    let mut files = BTreeMap::new();
    let mut failures = Vec::new();
    for i in 0..zip.len() {
        let name = match zip.name_for_index(i) {
            Some(Ok(name)) => name.into_owned(),
            _ => format!("（第 {} 个文件）", i + 1),
        };
        let mut entry = match zip.by_index(i) {
            Ok(entry) => entry,
            Err(error) => {
                failures.push(Failure {
                    file: name,
                    message: format!("无法从压缩包中读取（{error}），已损坏"),
                });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        let mut data = Vec::new();
        if let Err(error) = entry.read_to_end(&mut data) {
            failures.push(Failure {
                file: name.clone(),
                message: format!("在压缩包中已损坏（{error}）"),
            });
        }
        if files.insert(name.clone(), data).is_some() {
            failures.push(Failure {
                file: name,
                message: "在压缩包中出现两次".to_owned(),
            });
        }
    }
    Ok(ZipContents {
        files,
        damaged: failures,
    })
}

/// Checks a 案卷 zip (`zip_name` names it in a failure of the zip itself). Needs no database.
pub fn verify_zip(bytes: &[u8], pinned_server_key: Option<&str>, zip_name: &str) -> ArchiveReport {
    match read_zip(bytes) {
        Err(message) => {
            let mut report = ArchiveReport::default();
            report.fail(zip_name, message);
            report
        }
        Ok(ZipContents { files, damaged }) => {
            let mut report = archive::verify(&files, pinned_server_key);
            if damaged.is_empty() {
                report.passed.insert(
                    0,
                    format!("压缩包 {} 个文件均可读取，CRC 相符", files.len()),
                );
            }
            report.failures.splice(0..0, damaged);
            report
        }
    }
}

/// The authority printed above a document's title: the bureau at the top of the inspection's
/// org chain (as the app's documents page prints it).
fn authority(orgs: &[OrgUnit], inspection: &Inspection) -> String {
    let mut at = orgs.iter().find(|o| o.id == inspection.org_id);
    while let Some(org) = at {
        match org.parent_id.and_then(|p| orgs.iter().find(|o| o.id == p)) {
            Some(parent) => at = Some(parent),
            None => return org.name.clone(),
        }
    }
    String::new()
}

/// For a re-inspection: the findings it followed up, and the date and number of the order
/// they came from, as the app fills them.
async fn reinspected(
    store: &Store,
    inspection: &Inspection,
) -> Result<(Vec<Finding>, String), ApiError> {
    let mut findings = Vec::new();
    let mut original_order = String::new();
    for id in &inspection.reinspected_findings {
        let Some((_, finding)) = store.finding(&id.to_string()).await? else {
            continue;
        };
        if original_order.is_empty() {
            let first = store.inspection(&finding.inspection_id.to_string()).await?;
            original_order = documents::original_order(
                first.as_ref().map(|(_, i)| i),
                &finding,
                documents::FilledOn::Server,
            );
        }
        findings.push(finding);
    }
    Ok((findings, original_order))
}

/// The documents issued on `inspection`, each as its own PDF, filled from the records as the
/// phone fills them, then the 文书送达回执 when any was served.
async fn document_pdfs(
    store: &Store,
    inspection: &Inspection,
    findings: &[Finding],
) -> Result<Vec<(String, Vec<u8>)>, ApiError> {
    if inspection.documents.is_empty() {
        return Ok(Vec::new());
    }
    let Some(enterprise): Option<Enterprise> = store.enterprise(inspection.enterprise_id).await?
    else {
        return Ok(Vec::new());
    };
    let (followed, original_order) = reinspected(store, inspection).await?;
    let findings: Vec<Finding> = findings.iter().cloned().chain(followed).collect();
    let orgs = store.orgs().await?;
    let authority = authority(&orgs, inspection);
    let rights = Rights::for_org(inspection.org_id, &orgs);
    let packs = zhicha_core::packs::all();
    let mut sheets: Vec<FilledDocument> = Vec::new();
    for issued in &inspection.documents {
        let number = DocumentNumber::from_str(&issued.number).ok();
        let mut filled = documents::fill(
            issued.kind,
            &DocumentSource {
                inspection,
                enterprise: &enterprise,
                findings: &findings,
                number: number.as_ref(),
                original_order: &original_order,
                packs,
                rights: &rights,
            },
        );
        // A number that does not parse is still the one on paper.
        if number.is_none()
            && let Some(field) = filled.fields.iter_mut().find(|f| f.key == "number")
        {
            field.value.clone_from(&issued.number);
        }
        sheets.push(filled);
    }
    let receipt = documents::service_receipt(&DocumentSource {
        inspection,
        enterprise: &enterprise,
        findings: &findings,
        number: None,
        original_order: "",
        packs,
        rights: &rights,
    });
    sheets.extend(receipt);
    Ok(sheets
        .iter()
        .enumerate()
        .map(|(n, filled)| {
            let bytes = pdf::pdf(&[PdfSheet {
                authority: &authority,
                document: filled,
            }]);
            (
                format!("documents/{:02}-{}.pdf", n + 1, file_safe(&filled.title)),
                bytes,
            )
        })
        .collect())
}
