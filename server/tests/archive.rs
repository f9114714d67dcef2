//! The 案卷 of an inspection, on SQLite and PostgreSQL: exported by the server (HTTP and the
//! command line) with the records as stored, the photo, the documents as PDF and the signed
//! events, it verifies offline; a byte changed in any file, in the manifest or inside the zip
//! itself, or a wrong server key, fails naming the file. Served only within the caller's scope.

mod common;

use std::sync::atomic::AtomicU64;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Utc;
use common::{Backend, Device, TestApp, assert_applied, jpeg};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::json;
use zhicha_core::evidence::archive::{self as core_archive, EVENTS, MANIFEST, Manifest, SIGNATURE};
use zhicha_core::evidence::{self, MutationSignature, hex};
use zhicha_core::ids::{DeviceId, PhotoHash};
use zhicha_core::model::{
    DocumentKind, Inspection, IssuedDocument, PhotoMeta, PhotoOwner, PhotoRole, Service, User,
};
use zhicha_core::protocol::{Mutation, MutationPayload};
use zhicha_server::operator::archive::{read_zip, signing_key, verify_zip, zip_files};
use zhicha_server::operator::seed;

on_both_backends!(
    an_exported_archive_holds_and_any_changed_byte_is_named_by_file,
    the_archive_is_served_within_the_callers_scope_only,
    replicas_sign_with_the_one_key_kept_in_the_database,
    the_command_line_exports_and_verifies_an_archive,
);

const BIN: &str = env!("CARGO_BIN_EXE_zhicha-server");

/// A phone with a registered signing key: every mutation it pushes is signed.
struct SigningDevice {
    device: Device,
    key: SigningKey,
}

impl SigningDevice {
    async fn login(t: &TestApp, username: &str) -> Self {
        let mut secret = [0_u8; 32];
        rand::fill(&mut secret);
        let key = SigningKey::from_slice(&secret).unwrap();
        let public = hex(key.verifying_key().to_encoded_point(false).as_bytes());
        let device_id = DeviceId::new();
        let reply = t
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({
                    "username": username,
                    "password": seed::DEMO_PASSWORD,
                    "device_id": device_id,
                    "next_seq": 1,
                    "public_key": public,
                })),
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
        let body = reply.json();
        assert!(body["key_id"].is_string(), "{body}");
        let user: User = serde_json::from_value(body["user"].clone()).unwrap();
        Self {
            device: Device {
                token: body["token"].as_str().unwrap().to_owned(),
                device_id,
                user,
                seq: AtomicU64::new(0),
            },
            key,
        }
    }

    fn sign(&self, mut mutation: Mutation) -> Mutation {
        let signed_at = Utc::now();
        let message =
            evidence::signing_message(&self.device.device_id.to_string(), &mutation, signed_at);
        let signature: Signature = self.key.sign(&message);
        let public = self.key.verifying_key().to_encoded_point(false);
        mutation.signature = Some(MutationSignature {
            key_id: evidence::key_id(public.as_bytes()),
            signed_at,
            value: hex(&signature.to_bytes()),
        });
        mutation
    }
}

/// A finished-looking inspection of inspector1's team: two findings, a photo uploaded and
/// attached to the first, then the inspection saved again with its documents issued, one of
/// them served. Every mutation signed by the phone.
async fn recorded_inspection(t: &TestApp) -> (SigningDevice, Inspection, Vec<u8>) {
    let phone = SigningDevice::login(t, "inspector1").await;
    let d = &phone.device;
    let mut inspection = d.inspection(t.some_enterprise(d).await);
    let photo = jpeg(40_000, 29);
    let hash = PhotoHash::of_bytes(&photo);
    let mut first = d.finding(&inspection);
    first.photos = vec![hash.clone()];
    let mut second = d.finding(&inspection);
    second.description = "配电箱前堆放杂物".to_owned();
    let meta = PhotoMeta {
        hash: hash.clone(),
        owner: PhotoOwner::Finding(first.id),
        role: PhotoRole::Evidence,
        bytes: photo.len() as u64,
        width: 1600,
        height: 1200,
        mime: "image/jpeg".into(),
        captured_at: Utc::now(),
        offset_from_start_s: Some(30),
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    let response = t
        .push(
            d,
            &[
                phone.sign(d.save_inspection(&inspection, None)),
                phone.sign(d.save_finding(&first, None)),
                phone.sign(d.save_finding(&second, None)),
                phone.sign(d.mutation(
                    first.id.0,
                    None,
                    &MutationPayload::PhotoAttach(Box::new(meta)),
                )),
            ],
        )
        .await;
    assert_applied(&response);
    let put = Request::put(format!("/api/v1/photos/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", d.token))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .body(Body::from(photo.clone()))
        .unwrap();
    assert_eq!(t.send(put).await.status, StatusCode::CREATED);

    let now = Utc::now();
    inspection.summary = "现场检查发现隐患两项，已责令限期整改。".to_owned();
    inspection.documents = vec![
        IssuedDocument {
            kind: DocumentKind::InspectionRecord,
            number: "达旗应急检记〔2026〕A7-0003号".to_owned(),
            issued_at: now,
            service: None,
        },
        IssuedDocument {
            kind: DocumentKind::RectificationOrder,
            number: "达旗应急责改〔2026〕A7-0003号".to_owned(),
            issued_at: now,
            service: Some(Service::Left {
                recipient: "张三".to_owned(),
                witness: "周六（村委会主任）".to_owned(),
                note: "拒绝签收，留置于门卫室".to_owned(),
                at: now,
            }),
        },
    ];
    let response = t
        .push(d, &[phone.sign(d.save_inspection(&inspection, Some(1)))])
        .await;
    assert_applied(&response);
    (phone, inspection, photo)
}

async fn download(t: &TestApp, token: &str, inspection: &Inspection) -> common::Reply {
    t.get(
        &format!("/api/v1/inspections/{}/archive", inspection.id),
        token,
    )
    .await
}

fn manifest_of(zip: &[u8]) -> Manifest {
    let contents = read_zip(zip).unwrap();
    assert!(contents.damaged.is_empty());
    serde_json::from_slice(&contents.files[MANIFEST]).unwrap()
}

/// The zip's entries in their order, to write again after a change.
fn entries(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let files = read_zip(zip).unwrap().files;
    let manifest = manifest_of(zip);
    let mut order = vec![MANIFEST.to_owned(), SIGNATURE.to_owned()];
    order.extend(manifest.files.iter().map(|f| f.path.clone()));
    order
        .into_iter()
        .map(|path| {
            let bytes = files[&path].clone();
            (path, bytes)
        })
        .collect()
}

async fn an_exported_archive_holds_and_any_changed_byte_is_named_by_file(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (phone, inspection, photo) = recorded_inspection(&t).await;
    let reply = download(&t, &phone.device.token, &inspection).await;
    assert_eq!(reply.status, StatusCode::OK, "{:?}", reply.body);
    assert_eq!(reply.headers[header::CONTENT_TYPE], "application/zip");
    let disposition = reply.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    let enterprise = t
        .state
        .store
        .enterprise(inspection.enterprise_id)
        .await
        .unwrap()
        .unwrap();
    let day = zhicha_core::time::compact_date(inspection.started_at);
    let expected_name = format!("{}-{day}-案卷.zip", enterprise.name);
    assert!(
        disposition.contains(&zhicha_core::ledger::percent_encode(&expected_name)),
        "{disposition}"
    );
    let zip = reply.body.to_vec();
    let server_key = signing_key(&t.state.store).await.unwrap().1;

    // The untouched archive holds, pinned to the server's key.
    let report = verify_zip(&zip, Some(&server_key), "案卷.zip");
    assert!(report.holds(), "{}", core_archive::report_text(&report));

    // What it holds: the records exactly as stored, the photo, the documents, signed events.
    let files = read_zip(&zip).unwrap().files;
    let manifest = manifest_of(&zip);
    assert_eq!(manifest.inspection, inspection.id.to_string());
    let mut db = t.database().await;
    let stored: String = sqlx::query_scalar("SELECT data FROM inspections WHERE id = $1")
        .bind(inspection.id.to_string())
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(files[core_archive::INSPECTION], stored.into_bytes());
    let findings: Vec<&String> = files
        .keys()
        .filter(|p| p.starts_with("findings/"))
        .collect();
    assert_eq!(findings.len(), 2, "{:?}", files.keys());
    let photo_path =
        core_archive::photo_path(&PhotoHash::of_bytes(&photo).to_string(), "image/jpeg");
    assert_eq!(files[&photo_path], photo);
    let documents: Vec<(&String, String)> = files
        .iter()
        .filter(|(p, _)| p.starts_with("documents/"))
        .map(|(p, b)| (p, zhicha_core::documents::pdf::text_of(b)))
        .collect();
    assert_eq!(
        documents.len(),
        3,
        "record, order and receipt: {:?}",
        files.keys()
    );
    assert!(
        documents.iter().any(|(p, text)| p.contains("现场检查记录")
            && text.contains("达旗应急检记〔2026〕A7-0003号"))
    );
    assert!(
        documents
            .iter()
            .any(|(p, text)| p.contains("文书送达回执") && text.contains("周六"))
    );
    // 4 mutations, the inspection saved again: 5 events, each signed by the phone.
    assert_eq!(manifest.events.len(), 5, "{:?}", manifest.events);
    assert!(manifest.events.iter().all(|e| e.signature.is_some()));
    assert_eq!(manifest.device_keys.len(), 1);
    assert!(manifest.missing_photos.is_empty());

    // A byte changed in any one file, zipped again: that file is named.
    let original = entries(&zip);
    for (n, (path, bytes)) in original.iter().enumerate() {
        let mut changed = original.clone();
        changed[n].1[bytes.len() / 2] ^= 0x20;
        let rezipped = zip_files(&changed).unwrap();
        let report = verify_zip(&rezipped, None, "案卷.zip");
        assert!(!report.holds(), "{path} changed, yet it holds");
        assert!(
            report.names(path),
            "{path}: {}",
            core_archive::report_text(&report)
        );
    }

    // A digit of the manifest changed, still valid JSON: its signature fails.
    let mut changed = original.clone();
    let manifest_text = &mut changed[0].1;
    let at = manifest_text
        .windows(11)
        .position(|w| w == b"exported_at")
        .unwrap()
        + 16;
    manifest_text[at] = if manifest_text[at] == b'1' {
        b'2'
    } else {
        b'1'
    };
    let report = verify_zip(&zip_files(&changed).unwrap(), None, "案卷.zip");
    assert!(
        report.names(MANIFEST) && report.failures.iter().any(|f| f.message.contains("签名")),
        "{}",
        core_archive::report_text(&report)
    );

    // A byte flipped inside the zip file itself (the entries are stored, not compressed).
    for path in [core_archive::INSPECTION, photo_path.as_str()] {
        let content = &files[path];
        let offset = zip
            .windows(content.len())
            .position(|w| w == content.as_slice())
            .unwrap();
        let mut raw = zip.clone();
        raw[offset + content.len() / 2] ^= 0x01;
        let report = verify_zip(&raw, None, "案卷.zip");
        assert!(
            !report.holds() && report.names(path),
            "{path}: {}",
            core_archive::report_text(&report)
        );
    }

    // Pinned to another key, the genuine archive fails.
    let other = SigningKey::from_slice(&[3; 32]).unwrap();
    let other = hex(other.verifying_key().to_encoded_point(false).as_bytes());
    let report = verify_zip(&zip, Some(&other), "案卷.zip");
    assert!(
        report.names(MANIFEST),
        "{}",
        core_archive::report_text(&report)
    );

    // A forged event, re-signed with another key: holds alone, fails against the server's.
    let mut forged = manifest.clone();
    forged.events[0].action = "finding.delete".to_owned();
    let report = verify_zip(
        &zip_files(&original).unwrap(),
        Some(&server_key),
        "案卷.zip",
    );
    assert!(report.holds());
    let mut files_forged = original.clone();
    files_forged[0].1 = serde_json::to_vec_pretty(&forged).unwrap();
    let report = verify_zip(
        &zip_files(&files_forged).unwrap(),
        Some(&server_key),
        "案卷.zip",
    );
    assert!(report.names(EVENTS) && report.names(MANIFEST));
    t.finish().await;
}

async fn the_archive_is_served_within_the_callers_scope_only(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (_, inspection, _) = recorded_inspection(&t).await;
    for (user, status) in [
        ("inspector2", StatusCode::OK),
        ("leader1", StatusCode::OK),
        ("admin", StatusCode::OK),
        ("inspector3", StatusCode::FORBIDDEN),
    ] {
        let device = t.login(user).await;
        let reply = download(&t, &device.token, &inspection).await;
        if status == StatusCode::OK {
            assert_eq!(reply.status, status, "{user}");
            assert!(verify_zip(&reply.body, None, "案卷.zip").holds(), "{user}");
        } else {
            reply.assert_error(status, "forbidden");
        }
    }
    let leader = t.login("leader1").await;
    t.get(
        &format!(
            "/api/v1/inspections/{}/archive",
            zhicha_core::ids::InspectionId::new()
        ),
        &leader.token,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/inspections/nonsense/archive", &leader.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    let reply = t
        .call(
            Method::GET,
            &format!("/api/v1/inspections/{}/archive", inspection.id),
            None,
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    t.finish().await;
}

async fn replicas_sign_with_the_one_key_kept_in_the_database(backend: Backend) {
    let t = TestApp::start(backend).await;
    let replica = zhicha_server::Store::open(&t.state.config).await.unwrap();
    let (a, b) = tokio::join!(signing_key(&t.state.store), signing_key(&replica));
    let (a, b) = (a.unwrap().1, b.unwrap().1);
    assert_eq!(a, b);
    assert_eq!(signing_key(&replica).await.unwrap().1, a);
    replica.close().await;
    t.finish().await;
}

async fn the_command_line_exports_and_verifies_an_archive(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (_, inspection, _) = recorded_inspection(&t).await;
    let out = t.dir.path().join("案卷.zip");
    let mut export = std::process::Command::new(BIN);
    export
        .args(["export-archive", "--inspection"])
        .arg(inspection.id.to_string())
        .arg(&out)
        .env("ZHICHA_DATA", t.dir.path().join("data"))
        .env("ZHICHA_DIST", t.dir.path().join("dist"))
        .env_remove("ZHICHA_S3_BUCKET");
    match &t.state.config.database_url {
        Some(url) => export.env("DATABASE_URL", url),
        None => export.env_remove("DATABASE_URL"),
    };
    let output = export.output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let server_key = signing_key(&t.state.store).await.unwrap().1;
    assert!(stdout.contains(&server_key), "{stdout}");

    let verify = |file: &std::path::Path, key: Option<&str>| {
        let mut command = std::process::Command::new(BIN);
        command.arg("verify-archive").arg(file);
        if let Some(key) = key {
            command.args(["--server-key", key]);
        }
        // No database: the check is offline.
        let output = command
            .env_remove("DATABASE_URL")
            .env("ZHICHA_DATA", "/nonexistent/zhicha")
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned()
                + &String::from_utf8_lossy(&output.stderr),
        )
    };
    let (code, text) = verify(&out, Some(&server_key));
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("案卷校验通过"), "{text}");

    let zip = std::fs::read(&out).unwrap();
    let mut changed = entries(&zip);
    let finding = changed
        .iter_mut()
        .find(|(p, _)| p.starts_with("findings/"))
        .unwrap();
    let name = finding.0.clone();
    finding.1[10] ^= 0x01;
    let tampered = t.dir.path().join("tampered.zip");
    std::fs::write(&tampered, zip_files(&changed).unwrap()).unwrap();
    let (code, text) = verify(&tampered, None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains(&format!("✗ {name}")), "{text}");
    t.finish().await;
}
