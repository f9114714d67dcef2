use std::collections::BTreeMap;

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};

use super::*;
use crate::evidence::{GENESIS, SignedParts, hex, sha256_hex};

const INSPECTION_ID: &str = "0190a1b2-0000-7000-8000-000000000001";
const FINDING_ID: &str = "0190a1b2-0000-7000-8000-000000000002";
const DEVICE: &str = "0190a1b2-0000-7000-8000-0000000000d1";

fn key(byte: u8) -> SigningKey {
    SigningKey::from_slice(&[byte; 32]).unwrap()
}

fn public_hex(key: &SigningKey) -> String {
    hex(key.verifying_key().to_encoded_point(false).as_bytes())
}

fn sign(key: &SigningKey, message: &[u8]) -> String {
    let signature: Signature = key.sign(message);
    hex(&signature.to_bytes())
}

fn event(seq: i64, entity: &str, entity_id: &str) -> Event {
    Event {
        seq,
        at: "2026-07-01T08:00:00.000Z".to_owned(),
        user_id: Some("u1".to_owned()),
        device_id: None,
        action: format!("{entity}.save"),
        entity: entity.to_owned(),
        entity_id: entity_id.to_owned(),
        rev: 1,
        detail: None,
        mutation_id: None,
        mutation_seq: None,
        base_rev: None,
        payload: None,
        state_hash: None,
        key_id: None,
        signed_at: None,
        signature: None,
        clock_skew_ms: None,
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// Signs `event` as the device would have signed its mutation.
fn signed_by(mut event: Event, device: &SigningKey, payload: &str) -> Event {
    let public = device.verifying_key().to_encoded_point(false);
    event.device_id = Some(DEVICE.to_owned());
    event.mutation_id = Some(format!("m-{}", event.seq));
    event.mutation_seq = Some(event.seq);
    event.payload = Some(payload.to_owned());
    event.key_id = Some(crate::evidence::key_id(public.as_bytes()));
    event.signed_at = Some("2026-07-01T07:59:00.000Z".to_owned());
    let payload_hash = sha256_hex(payload.as_bytes());
    let message = SignedParts {
        device_id: DEVICE,
        mutation_id: event.mutation_id.as_deref().unwrap(),
        seq: event.seq,
        kind: &event.action,
        entity_id: &event.entity_id,
        base_rev: None,
        payload_hash: &payload_hash,
        signed_at: event.signed_at.as_deref().unwrap(),
    }
    .message();
    event.signature = Some(sign(device, &message));
    event
}

struct Built {
    files: BTreeMap<String, Vec<u8>>,
    manifest: Manifest,
    server: SigningKey,
}

impl Built {
    /// Writes the manifest and signs it again (what a forger holding the key could do).
    fn seal(&mut self) {
        let bytes = serde_json::to_vec_pretty(&self.manifest).unwrap();
        self.files.insert(
            SIGNATURE.to_owned(),
            sign(&self.server, &bytes).into_bytes(),
        );
        self.files.insert(MANIFEST.to_owned(), bytes);
    }

    fn verify(&self) -> ArchiveReport {
        verify(&self.files, None)
    }
}

/// An inspection with one finding and one photo, its events between others of the chain,
/// two of them signed by the device.
fn built() -> Built {
    let server = key(7);
    let device = key(9);
    let inspection = format!(r#"{{"id":"{INSPECTION_ID}","summary":"检查情况"}}"#).into_bytes();
    let finding =
        format!(r#"{{"id":"{FINDING_ID}","inspection_id":"{INSPECTION_ID}","level":"general"}}"#)
            .into_bytes();
    let photo = b"\xFF\xD8\xFF\xE0 a photo".to_vec();
    let photo_hash = sha256_hex(&photo);
    let pdf = b"%PDF-1.4 documents".to_vec();

    let mut inspection_event = event(2, "inspection", INSPECTION_ID);
    inspection_event.state_hash = Some(sha256_hex(&inspection));
    let inspection_event = signed_by(inspection_event, &device, r#"{"inspection":1}"#);
    let mut finding_event = event(4, "finding", FINDING_ID);
    finding_event.state_hash = Some(sha256_hex(&finding));
    let finding_event = signed_by(finding_event, &device, r#"{"finding":1}"#);
    let mut photo_event = event(5, "photo", FINDING_ID);
    photo_event.action = "photo.attach".to_owned();
    photo_event.detail = Some(photo_hash.clone());
    let mut chain = vec![
        event(1, "enterprise", "e-other"),
        inspection_event,
        event(3, "inspection", "another-inspection"),
        finding_event,
        photo_event,
    ];
    let mut prev = GENESIS.to_owned();
    for e in &mut chain {
        e.seal(&prev);
        prev.clone_from(&e.hash);
    }
    let links = chain[1..]
        .iter()
        .map(|e| (e.seq, e.prev_hash.clone(), e.hash.clone()))
        .collect();
    let events = vec![chain[1].clone(), chain[3].clone(), chain[4].clone()];
    let device_public = public_hex(&device);
    let mut files = BTreeMap::new();
    files.insert(INSPECTION.to_owned(), inspection);
    files.insert(finding_path(FINDING_ID), finding);
    files.insert(photo_path(&photo_hash, "image/jpeg"), photo);
    files.insert("documents/现场检查记录.pdf".to_owned(), pdf);
    let manifest = Manifest {
        format: FORMAT.to_owned(),
        version: VERSION,
        inspection: INSPECTION_ID.to_owned(),
        exported_at: "2026-07-02T00:00:00.000Z".to_owned(),
        files: files.iter().map(|(p, b)| FileEntry::of(p, b)).collect(),
        events,
        links,
        device_keys: vec![DeviceKey {
            key_id: chain[1].key_id.clone().unwrap(),
            device_id: DEVICE.to_owned(),
            public_key: device_public,
        }],
        missing_photos: vec![],
        server_key: public_hex(&server),
    };
    let mut built = Built {
        files,
        manifest,
        server,
    };
    built.seal();
    built
}

#[test]
fn an_untouched_archive_holds_with_and_without_its_pinned_key() {
    let b = built();
    let report = b.verify();
    assert!(report.holds(), "{}", report_text(&report));
    assert_eq!(report.inspection.as_deref(), Some(INSPECTION_ID));
    assert!(report.passed.len() >= 5, "{report:?}");
    let pinned = verify(&b.files, Some(&public_hex(&b.server).to_uppercase()));
    assert!(pinned.holds(), "{}", report_text(&pinned));
}

#[test]
fn a_byte_changed_in_any_file_is_named() {
    let b = built();
    for path in b.files.keys() {
        for at in [0, b.files[path].len() / 2, b.files[path].len() - 1] {
            let mut files = b.files.clone();
            files.get_mut(path).unwrap()[at] ^= 0x01;
            let report = verify(&files, None);
            assert!(!report.holds(), "{path}@{at} changed, yet it holds");
            assert!(report.names(path), "{path}@{at}: {}", report_text(&report));
        }
    }
    // The signature in upper case is the same number, yet not the bytes that were written.
    let mut files = b.files.clone();
    files.get_mut(SIGNATURE).unwrap().make_ascii_uppercase();
    assert!(verify(&files, None).names(SIGNATURE));
}

#[test]
fn a_wrong_pinned_key_fails_and_a_resigned_manifest_does_not_pass_it() {
    let mut b = built();
    let other = public_hex(&key(8));
    let report = verify(&b.files, Some(&other));
    assert!(!report.holds());
    assert!(report.names(MANIFEST), "{}", report_text(&report));
    // Someone with another key rewrites the manifest and signs it: it holds on its own
    // terms, but not against the server's key.
    let genuine = public_hex(&b.server);
    b.server = key(8);
    b.manifest.server_key = other;
    b.seal();
    assert!(b.verify().holds());
    let report = verify(&b.files, Some(&genuine));
    assert!(
        report.names(MANIFEST) && report.names(SIGNATURE),
        "{}",
        report_text(&report)
    );
}

#[test]
fn added_and_removed_files_are_named() {
    let b = built();
    let mut files = b.files.clone();
    files.insert("photos/extra.jpg".to_owned(), b"extra".to_vec());
    let report = verify(&files, None);
    assert!(report.names("photos/extra.jpg"), "{}", report_text(&report));
    let mut files = b.files.clone();
    files.remove(&finding_path(FINDING_ID));
    let report = verify(&files, None);
    assert!(
        report.names(&finding_path(FINDING_ID)),
        "{}",
        report_text(&report)
    );
    let mut files = b.files.clone();
    files.remove(SIGNATURE);
    assert!(verify(&files, None).names(SIGNATURE));
    let mut files = b.files;
    files.remove(MANIFEST);
    assert!(verify(&files, None).names(MANIFEST));
}

#[test]
fn an_edited_event_is_named_even_in_a_resigned_manifest() {
    let mut b = built();
    b.manifest.events[1].payload = Some(r#"{"finding":2}"#.to_owned());
    b.seal();
    let report = b.verify();
    assert!(report.names(EVENTS), "{}", report_text(&report));
    assert!(
        report
            .failures
            .iter()
            .any(|f| f.message.contains("第 4 号")),
        "{}",
        report_text(&report)
    );
}

#[test]
fn an_event_resealed_after_an_edit_fails_its_device_signature_and_links() {
    let mut b = built();
    let event = &mut b.manifest.events[0];
    event.payload = Some(r#"{"inspection":2}"#.to_owned());
    let prev = event.prev_hash.clone();
    event.seal(&prev);
    b.seal();
    let report = b.verify();
    let text = report_text(&report);
    assert!(report.names(EVENTS), "{text}");
    assert!(text.contains("设备签名无效"), "{text}");
    assert!(text.contains("链接不符"), "{text}");
}

#[test]
fn a_gap_in_the_links_is_named() {
    let mut b = built();
    b.manifest.links.remove(1);
    b.seal();
    let report = b.verify();
    assert!(report.names(EVENTS), "{}", report_text(&report));
}

#[test]
fn a_record_changed_with_its_manifest_entry_fails_its_latest_event() {
    let mut b = built();
    let changed = format!(r#"{{"id":"{INSPECTION_ID}","summary":"改过的"}}"#).into_bytes();
    b.manifest
        .files
        .iter_mut()
        .find(|f| f.path == INSPECTION)
        .unwrap()
        .clone_from(&FileEntry::of(INSPECTION, &changed));
    b.files.insert(INSPECTION.to_owned(), changed);
    b.seal();
    let report = b.verify();
    assert_eq!(report.failures.len(), 1, "{}", report_text(&report));
    assert!(report.names(INSPECTION));
}

#[test]
fn a_photo_without_its_attach_event_and_an_attached_photo_missing_are_named() {
    let mut b = built();
    let photo = b"\xFF\xD8\xFF\xE0 another".to_vec();
    let path = photo_path(&sha256_hex(&photo), "image/jpeg");
    b.manifest.files.push(FileEntry::of(&path, &photo));
    b.files.insert(path.clone(), photo);
    b.seal();
    let report = b.verify();
    assert!(report.names(&path), "{}", report_text(&report));

    let mut b = built();
    let attached = b.manifest.events[2].detail.clone().unwrap();
    let path = photo_path(&attached, "image/jpeg");
    b.manifest.files.retain(|f| f.path != path);
    b.files.remove(&path);
    b.seal();
    assert!(b.verify().names(&format!("photos/{attached}")));
    // Named as not held by the server at export, it is reported as such, not as a failure.
    b.manifest.missing_photos.push(attached);
    b.seal();
    let report = b.verify();
    assert!(report.holds(), "{}", report_text(&report));
    assert!(report_text(&report).contains("尚未收到的照片 1 张"));
}

#[test]
fn a_manifest_that_is_not_json_or_not_an_archive_is_named() {
    let b = built();
    let mut files = b.files.clone();
    files.insert(MANIFEST.to_owned(), b"{".to_vec());
    assert!(verify(&files, None).names(MANIFEST));
    assert!(verify(&files, Some(&b.manifest.server_key)).names(SIGNATURE));
    let mut b = built();
    b.manifest.format = "something-else".to_owned();
    b.seal();
    assert!(b.verify().names(MANIFEST));
}
