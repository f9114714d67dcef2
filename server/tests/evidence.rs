//! The hash-chained event log and the device signatures (core `evidence`), on SQLite and
//! PostgreSQL: after a realistic day of sync the chain verifies; an edited event, a deleted one,
//! a reordered pair and a record changed behind the server's back are each found and located;
//! a phone's signed mutation is taken, a tampered or unsigned one refused alone; the phone's
//! clock is recorded and flagged.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Utc;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde_json::json;
use sqlx::Executor as _;
use zhicha_core::evidence::{self, ChainBreak, MutationSignature};
use zhicha_core::ids::{DeviceId, PhotoHash};
use zhicha_core::model::{PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::protocol::{
    AckStatus, CommentPayload, Mutation, MutationPayload, PushResponse, SupervisePayload,
};
use zhicha_server::operator::seed;

use common::{Backend, Device, TestApp, assert_applied, jpeg};

on_both_backends!(
    the_chain_holds_after_a_day_of_sync_and_names_each_kind_of_tampering,
    a_record_changed_behind_the_servers_back_is_named,
    signed_mutations_are_taken_and_tampered_or_unsigned_ones_refused_alone,
    the_phones_clock_is_recorded_and_flagged,
    verify_log_on_the_command_line_exits_non_zero_on_a_break,
    a_recorded_announcement_and_the_recorder_travel_with_the_inspection,
);

/// A phone's key: fixed bytes per test, as WebCrypto would hold it.
fn phone_key(n: u8) -> (SigningKey, String) {
    let key = SigningKey::from_slice(&[n; 32]).unwrap();
    let public = evidence::hex(key.verifying_key().to_encoded_point(false).as_bytes());
    (key, public)
}

/// Logs `username` in from a new device registering `public_key`, its next seq being 1.
async fn login_with_key(t: &TestApp, username: &str, public_key: &str) -> Device {
    let device_id = DeviceId::new();
    let reply = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(
                json!({ "username": username, "password": seed::DEMO_PASSWORD,
                "device_id": device_id, "next_seq": 1, "public_key": public_key }),
            ),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let body = reply.json();
    assert_eq!(
        body["key_id"].as_str(),
        Some(evidence::key_id(&evidence::unhex(public_key).unwrap()).as_str())
    );
    Device {
        token: body["token"].as_str().unwrap().to_owned(),
        device_id,
        user: serde_json::from_value(body["user"].clone()).unwrap(),
        seq: std::sync::atomic::AtomicU64::new(0),
    }
}

fn sign(key: &SigningKey, device: &Device, mut mutation: Mutation) -> Mutation {
    let at = Utc::now();
    let message = evidence::signing_message(&device.device_id.to_string(), &mutation, at);
    let signature: Signature = key.sign(&message);
    mutation.signature = Some(MutationSignature {
        key_id: evidence::key_id(
            &evidence::unhex(&evidence::hex(
                key.verifying_key().to_encoded_point(false).as_bytes(),
            ))
            .unwrap(),
        ),
        signed_at: at,
        value: evidence::hex(&signature.to_bytes()),
    });
    mutation
}

async fn push_at(
    t: &TestApp,
    device: &Device,
    mutations: &[Mutation],
    device_time: chrono::DateTime<Utc>,
) -> PushResponse {
    let reply = t
        .call(
            Method::POST,
            "/api/v1/sync/push",
            Some(&device.token),
            Some(
                json!({ "device_id": device.device_id, "mutations": mutations,
                "device_time": device_time }),
            ),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    serde_json::from_slice(&reply.body).unwrap()
}

async fn upload(t: &TestApp, device: &Device, bytes: Vec<u8>) -> PhotoHash {
    let hash = PhotoHash::of_bytes(&bytes);
    let request = Request::put(format!("/api/v1/photos/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {}", device.token))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .body(Body::from(bytes))
        .unwrap();
    assert!(t.send(request).await.status.is_success());
    hash
}

fn attach(device: &Device, hash: &PhotoHash, owner: PhotoOwner, id: uuid::Uuid) -> Mutation {
    let meta = PhotoMeta {
        hash: hash.clone(),
        owner,
        role: PhotoRole::Evidence,
        bytes: 20_000,
        width: 1600,
        height: 1200,
        mime: "image/jpeg".into(),
        captured_at: Utc::now(),
        offset_from_start_s: Some(10),
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    device.mutation(id, None, &MutationPayload::PhotoAttach(Box::new(meta)))
}

/// Two inspectors' inspections with findings and photos, each signed by its phone; findings
/// submitted; the leader confirms and supervises one, returns another; an edit after review.
async fn a_day_of_sync(t: &TestApp) {
    let leader = t.login("leader1").await;
    for (n, username) in [(1, "inspector1"), (2, "inspector2")] {
        let (key, public) = phone_key(n);
        let device = login_with_key(t, username, &public).await;
        let enterprise = t.some_enterprise(&device).await;
        let inspection = device.inspection(enterprise);
        let mut findings: Vec<_> = (0..3).map(|_| device.finding(&inspection)).collect();
        findings[0].level = zhicha_core::model::Level::Major;
        let mut hashes = Vec::new();
        for (i, f) in findings.iter_mut().enumerate() {
            let hash = upload(
                t,
                &device,
                jpeg(3000 + i, n * 10 + u8::try_from(i).unwrap()),
            )
            .await;
            f.photos = vec![hash.clone()];
            hashes.push(hash);
        }
        let mut batch = vec![sign(
            &key,
            &device,
            device.save_inspection(&inspection, None),
        )];
        for (f, hash) in findings.iter().zip(&hashes) {
            batch.push(sign(&key, &device, device.save_finding(f, None)));
            let attach = attach(&device, hash, PhotoOwner::Finding(f.id), f.id.0);
            batch.push(sign(&key, &device, attach));
        }
        assert_applied(&t.push(&device, &batch).await);
        for f in &findings {
            let submit = device.mutation(
                f.id.0,
                Some(1),
                &MutationPayload::FindingSubmit(CommentPayload::default()),
            );
            assert_applied(&t.push(&device, &[sign(&key, &device, submit)]).await);
        }
        let confirm = leader.mutation(
            findings[0].id.0,
            None,
            &MutationPayload::FindingConfirm(CommentPayload::default()),
        );
        let supervise = leader.mutation(
            findings[0].id.0,
            None,
            &MutationPayload::FindingSupervise(SupervisePayload {
                supervised: true,
                comment: "挂牌督办".into(),
            }),
        );
        assert_applied(&t.push(&leader, &[confirm, supervise]).await);
    }
}

async fn execute(t: &TestApp, sql: &str) {
    let mut db = t.database().await;
    db.execute(sqlx::AssertSqlSafe(sql.to_owned()))
        .await
        .unwrap();
}

async fn the_chain_holds_after_a_day_of_sync_and_names_each_kind_of_tampering(backend: Backend) {
    let t = TestApp::start(backend).await;
    a_day_of_sync(&t).await;
    let report = t.state.store.verify_log().await.unwrap();
    assert!(report.holds(), "{report:?}");
    // The demo directory, 2 × (inspection + 3 findings + 3 photos + 3 submits) + 2 × 2 reviews.
    assert!(report.events > 24, "{report:?}");
    let events: i64 = report.events;

    // An edited event: the payload of a finding's save.
    let victim = events - 5;
    execute(
        &t,
        &format!("UPDATE events SET payload = '{{\"description\":\"无\"}}' WHERE seq = {victim}"),
    )
    .await;
    let broken = t.state.store.verify_log().await.unwrap().broken;
    assert_eq!(broken, Some(ChainBreak::Edited { seq: victim }));
    let t = restart(t).await;

    // A deleted event: the next one is where the chain breaks.
    let victim = events - 8;
    execute(&t, &format!("DELETE FROM events WHERE seq = {victim}")).await;
    let broken = t.state.store.verify_log().await.unwrap().broken.unwrap();
    assert_eq!(broken.seq(), victim + 1, "{broken}");
    let t = restart(t).await;

    // A reordered pair: two events swap places (their numbers exchanged).
    let (a, b) = (events - 12, events - 11);
    execute(&t, &format!("UPDATE events SET seq = -1 WHERE seq = {a}")).await;
    execute(&t, &format!("UPDATE events SET seq = {a} WHERE seq = {b}")).await;
    execute(&t, &format!("UPDATE events SET seq = {b} WHERE seq = -1")).await;
    let broken = t.state.store.verify_log().await.unwrap().broken.unwrap();
    assert_eq!(broken.seq(), a, "{broken}");
    t.finish().await;
}

/// A fresh server with the same day of sync, for the next kind of tampering.
async fn restart(t: TestApp) -> TestApp {
    let backend = t.backend.clone();
    t.finish().await;
    let t = TestApp::start(backend).await;
    a_day_of_sync(&t).await;
    assert!(t.state.store.verify_log().await.unwrap().holds());
    t
}

async fn a_record_changed_behind_the_servers_back_is_named(backend: Backend) {
    let t = TestApp::start(backend).await;
    a_day_of_sync(&t).await;
    let mut db = t.database().await;
    let (id,): (String,) = sqlx::query_as("SELECT id FROM findings ORDER BY id LIMIT 1")
        .fetch_one(&mut db)
        .await
        .unwrap();
    sqlx::query("UPDATE findings SET data = REPLACE(data, '二层仓库', '一层仓库') WHERE id = $1")
        .bind(&id)
        .execute(&mut db)
        .await
        .unwrap();
    let report = t.state.store.verify_log().await.unwrap();
    assert!(report.broken.is_none(), "{report:?}");
    assert_eq!(report.altered.len(), 1, "{report:?}");
    assert_eq!(
        (
            report.altered[0].entity.as_str(),
            report.altered[0].id.as_str()
        ),
        ("finding", id.as_str())
    );
    t.finish().await;
}

async fn signed_mutations_are_taken_and_tampered_or_unsigned_ones_refused_alone(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (key, public) = phone_key(3);
    let device = login_with_key(&t, "inspector1", &public).await;
    let enterprise = t.some_enterprise(&device).await;
    let inspection = device.inspection(enterprise);
    let good = sign(&key, &device, device.save_inspection(&inspection, None));
    // Changed after it was signed: the description of a finding.
    let finding = device.finding(&inspection);
    let mut tampered = sign(&key, &device, device.save_finding(&finding, None));
    tampered.payload["description"] = json!("已整改完毕");
    // Unsigned, from a device that registered a key before this seq.
    let unsigned = device.save_finding(&device.finding(&inspection), None);
    // Signed by a key this device never registered.
    let (stranger, _) = phone_key(4);
    let foreign = sign(
        &stranger,
        &device,
        device.save_finding(&device.finding(&inspection), None),
    );
    let last = sign(
        &key,
        &device,
        device.save_finding(&device.finding(&inspection), None),
    );
    let response = t
        .push(&device, &[good, tampered, unsigned, foreign, last])
        .await;
    let statuses: Vec<_> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(
        statuses,
        [
            AckStatus::Applied,
            AckStatus::Rejected,
            AckStatus::Rejected,
            AckStatus::Rejected,
            AckStatus::Applied
        ],
        "{response:?}"
    );
    for ack in &response.acks[1..4] {
        let error = ack.error.as_ref().unwrap();
        assert_eq!(error.code, "signature_invalid");
        assert!(error.message.contains("签名"), "{}", error.message);
    }
    assert!(
        response.acks[1]
            .error
            .as_ref()
            .unwrap()
            .message
            .contains("内容与签名不符")
    );
    // The signature is kept on the event, and checks out from the event alone.
    let events = t
        .state
        .store
        .events_of(&[inspection.id.to_string()])
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].verify_signature(&public), Ok(true));
    let (_, other) = phone_key(5);
    assert!(events[0].verify_signature(&other).is_err());

    // A mutation queued before the key was registered (seq below the login's) is taken unsigned.
    let older = t.login("inspector2").await;
    let (key2, public2) = phone_key(6);
    let reply = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(
                json!({ "username": "inspector2", "password": seed::DEMO_PASSWORD,
                "device_id": older.device_id, "next_seq": 2, "public_key": public2 }),
            ),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let older = Device {
        token: reply.json()["token"].as_str().unwrap().to_owned(),
        ..older
    };
    let e2 = t.some_enterprise(&older).await;
    let queued = older.save_inspection(&older.inspection(e2), None);
    let after = sign(
        &key2,
        &older,
        older.save_inspection(&older.inspection(e2), None),
    );
    assert_applied(&t.push(&older, &[queued, after]).await);

    // A key that is not a P-256 point is refused at login, with nothing registered.
    let reply = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(
                json!({ "username": "inspector1", "password": seed::DEMO_PASSWORD,
                "device_id": DeviceId::new(), "next_seq": 1, "public_key": "04abcd" }),
            ),
        )
        .await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid_public_key");
    assert!(t.state.store.verify_log().await.unwrap().holds());
    t.finish().await;
}

async fn the_phones_clock_is_recorded_and_flagged(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let enterprise = t.some_enterprise(&device).await;
    let slow = device.inspection(enterprise);
    let fine = device.inspection(enterprise);
    let ten_minutes_behind = Utc::now() - chrono::Duration::minutes(10);
    assert_applied(
        &push_at(
            &t,
            &device,
            &[device.save_inspection(&slow, None)],
            ten_minutes_behind,
        )
        .await,
    );
    assert_applied(
        &push_at(
            &t,
            &device,
            &[device.save_inspection(&fine, None)],
            Utc::now(),
        )
        .await,
    );
    let events = t
        .state
        .store
        .events_of(&[slow.id.to_string(), fine.id.to_string()])
        .await
        .unwrap();
    let skew = |id: &str| {
        events
            .iter()
            .find(|e| e.entity_id == id)
            .unwrap()
            .clock_skew_ms
            .unwrap()
    };
    let slow_skew = skew(&slow.id.to_string());
    assert!((600_000..610_000).contains(&slow_skew), "{slow_skew}");
    assert!(skew(&fine.id.to_string()).abs() < 10_000);
    let report = t.state.store.verify_log().await.unwrap();
    assert_eq!(report.clock_flagged, 1, "{report:?}");
    assert!(report.holds());

    // A finding written from the slow phone: the leader reading its history is told.
    let finding = device.finding(&slow);
    let on_time = device.finding(&fine);
    assert_applied(
        &push_at(
            &t,
            &device,
            &[device.save_finding(&finding, None)],
            ten_minutes_behind,
        )
        .await,
    );
    assert_applied(
        &push_at(
            &t,
            &device,
            &[device.save_finding(&on_time, None)],
            Utc::now(),
        )
        .await,
    );
    let leader = t.login("leader1").await;
    let history: zhicha_core::revision::RevisionsResponse = serde_json::from_value(
        t.get(
            &format!("/api/v1/findings/{}/revisions", finding.id),
            &leader.token,
        )
        .await
        .json(),
    )
    .unwrap();
    assert_eq!(history.clock_warnings.len(), 1, "{history:?}");
    assert!(
        history.clock_warnings[0].text_zh().contains("慢 10 分钟"),
        "{}",
        history.clock_warnings[0].text_zh()
    );
    let history: zhicha_core::revision::RevisionsResponse = serde_json::from_value(
        t.get(
            &format!("/api/v1/findings/{}/revisions", on_time.id),
            &leader.token,
        )
        .await
        .json(),
    )
    .unwrap();
    assert!(history.clock_warnings.is_empty());
    t.finish().await;
}

async fn verify_log_on_the_command_line_exits_non_zero_on_a_break(backend: Backend) {
    let t = TestApp::start(backend).await;
    a_day_of_sync(&t).await;
    let run = || {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_zhicha-server"));
        command
            .arg("verify-log")
            .arg("--data")
            .arg(t.dir.path().join("data"));
        if let Some(url) = &t.state.config.database_url {
            command.env("DATABASE_URL", url);
        } else {
            command.env_remove("DATABASE_URL");
        }
        command.output().unwrap()
    };
    let good = run();
    let text = String::from_utf8_lossy(&good.stdout).into_owned();
    assert!(
        good.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&good.stderr)
    );
    assert!(text.contains("事件日志校验通过"), "{text}");
    execute(&t, "DELETE FROM events WHERE seq = 3").await;
    let bad = run();
    let text = String::from_utf8_lossy(&bad.stdout).into_owned();
    assert!(!bad.status.success(), "{text}");
    assert!(text.contains("event 4"), "{text}");
    t.finish().await;
}

/// 全过程记录: an audio clip of the 告知 is taken like a photo (by its bytes, not its name) and
/// referenced from the inspection's recording; a clip that ends before it starts is refused.
async fn a_recorded_announcement_and_the_recorder_travel_with_the_inspection(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let mut inspection = device.inspection(t.some_enterprise(&device).await);
    // The first bytes of a WebM file, as Chromium's MediaRecorder writes it.
    let mut clip = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01];
    clip.extend(std::iter::repeat_n(7u8, 4000));
    let hash = upload(&t, &device, clip.clone()).await;
    let started = Utc::now() - chrono::Duration::minutes(30);
    inspection.recording = Some(zhicha_core::model::Recording {
        recorder: "DSJ-150621-07".into(),
        started_at: Some(started),
        ended_at: Some(Utc::now()),
        announcement: Some(hash.clone()),
    });
    let meta = PhotoMeta {
        hash: hash.clone(),
        owner: PhotoOwner::Inspection(inspection.id),
        role: PhotoRole::Announcement,
        bytes: clip.len() as u64,
        width: 0,
        height: 0,
        mime: "audio/webm".into(),
        captured_at: started,
        offset_from_start_s: Some(5),
        location: None,
        no_fix: Some("无法定位（井下或室内无信号）".into()),
        clock_offset_ms: None,
    };
    let save = device.save_inspection(&inspection, None);
    let attach = device.mutation(
        inspection.id.0,
        None,
        &MutationPayload::PhotoAttach(Box::new(meta)),
    );
    let response = t.push(&device, &[save, attach]).await;
    assert_eq!(response.acks.len(), 2, "{response:?}");
    assert_applied(&response);
    let reply = t
        .get(&format!("/api/v1/photos/{hash}"), &device.token)
        .await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert_eq!(reply.headers[header::CONTENT_TYPE], "audio/webm");
    assert_eq!(reply.body.as_ref(), clip.as_slice());

    // A clip that ends before it starts is refused, with the field named.
    let mut backwards = inspection.clone();
    if let Some(r) = backwards.recording.as_mut() {
        r.ended_at = Some(started - chrono::Duration::minutes(1));
    }
    let response = t
        .push(&device, &[device.save_inspection(&backwards, Some(1))])
        .await;
    let error = response.acks[0].error.as_ref().expect("refused");
    assert_eq!(
        error.field.as_deref(),
        Some("recording.ended_at"),
        "{error:?}"
    );
    assert!(t.state.store.verify_log().await.unwrap().holds());
    t.finish().await;
}
