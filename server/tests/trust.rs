//! Sync you can trust, on SQLite and PostgreSQL: a push is authorised against the stored
//! record, never against the ids its payload claims; a photo hash alone opens nothing; every
//! value is checked the same way for both databases, and a mutation the database still refuses
//! is rejected alone while the rest of its batch is applied; a bureau out of device codes gets
//! a clear answer; and leaders read who changed which fields of a finding, and the conflicts.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use chrono::Utc;
use common::{Backend, Device, TestApp, assert_applied, jpeg, recorded};
use serde_json::{Value, json};
use zhicha_core::documents::DeviceCode;
use zhicha_core::ids::{DeviceId, EnterpriseId, FindingId, PhotoHash};
use zhicha_core::model::{CheckIn, Enterprise, PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::protocol::{Ack, AckStatus, CommentPayload, MutationPayload, PushResponse};
use zhicha_core::revision::{FindingField, FlaggedFindingsPage, RevisionsResponse};

on_both_backends!(
    a_push_cannot_overwrite_another_teams_finding_through_its_own_inspection,
    a_new_finding_takes_team_and_enterprise_from_its_stored_inspection,
    a_photo_hash_learned_elsewhere_cannot_be_referenced_or_downloaded,
    a_hash_referenced_before_its_upload_opens_nothing_to_another_team,
    photos_referenced_before_upload_then_uploaded_reach_the_team,
    over_long_indexed_values_and_nul_are_rejected_with_a_field_error,
    a_mutation_the_database_refuses_is_rejected_alone_and_the_batch_applied,
    a_bureau_out_of_device_codes_answers_503_not_500,
    leaders_see_who_changed_which_fields_and_the_conflicts,
    an_inspection_names_only_an_enterprise_of_its_authors_directory,
);

fn error_code(ack: &Ack) -> &str {
    ack.error.as_ref().map_or("", |e| e.code.as_str())
}

fn error_field(ack: &Ack) -> &str {
    ack.error
        .as_ref()
        .and_then(|e| e.field.as_deref())
        .unwrap_or("")
}

async fn put_photo(t: &TestApp, token: &str, hash: &PhotoHash, bytes: Vec<u8>) -> StatusCode {
    let request = Request::put(format!("/api/v1/photos/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .body(Body::from(bytes))
        .unwrap();
    t.send(request).await.status
}

async fn download(t: &TestApp, token: &str, hash: &PhotoHash) -> StatusCode {
    t.get(&format!("/api/v1/photos/{hash}"), token).await.status
}

fn attach(device: &Device, hash: &PhotoHash, owner: FindingId) -> zhicha_core::protocol::Mutation {
    let meta = PhotoMeta {
        hash: hash.clone(),
        owner: PhotoOwner::Finding(owner),
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
    device.mutation(owner.0, None, &MutationPayload::PhotoAttach(Box::new(meta)))
}

/// Regression: an inspector of team 2 pushed `finding.save` with the id of team 1's finding,
/// his own inspection and his own team, and the server overwrote team 1's finding.
async fn a_push_cannot_overwrite_another_teams_finding_through_its_own_inspection(
    backend: Backend,
) {
    let t = TestApp::start(backend).await;
    let owner = t.login("inspector1").await;
    let intruder = t.login("inspector3").await;
    let (inspection, finding) = recorded(&t, &owner).await;
    let (own_inspection, _) = recorded(&t, &intruder).await;

    let mut forged = finding.clone();
    forged.inspection_id = own_inspection.id;
    forged.org_id = own_inspection.org_id;
    forged.enterprise_id = own_inspection.enterprise_id;
    forged.description = "已被篡改".to_owned();
    forged.created_by = intruder.user.id;
    let mut moved = inspection.clone();
    moved.org_id = intruder.user.org_id;
    moved.summary = "改到二中队".to_owned();
    let mut new_in_foreign = intruder.finding(&inspection);
    new_in_foreign.org_id = intruder.user.org_id;
    let response = t
        .push(
            &intruder,
            &[
                intruder.save_finding(&forged, Some(1)),
                intruder.save_finding(&forged, None),
                // The other team's inspection, claimed for his own team.
                intruder.save_inspection(&moved, Some(1)),
                // A new finding under the other team's inspection.
                intruder.save_finding(&new_in_foreign, None),
                intruder.mutation(
                    finding.id.0,
                    Some(1),
                    &MutationPayload::FindingSubmit(CommentPayload::default()),
                ),
            ],
        )
        .await;
    for ack in &response.acks {
        assert_eq!(ack.status, AckStatus::Rejected, "{response:?}");
        assert_eq!(error_code(ack), "forbidden", "{response:?}");
    }

    let (rev, stored) = t
        .state
        .store
        .finding(&finding.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rev, 1);
    assert_eq!(stored.description, finding.description);
    assert_eq!(stored.inspection_id, inspection.id);
    assert_eq!(stored.org_id, owner.user.org_id);
    let (rev, stored) = t
        .state
        .store
        .inspection(&inspection.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(rev, 1);
    assert_eq!(stored.org_id, owner.user.org_id);
    assert!(
        t.state
            .store
            .finding(&new_in_foreign.id.to_string())
            .await
            .unwrap()
            .is_none()
    );
    let revisions = t
        .state
        .store
        .revision_count(
            zhicha_core::protocol::EntityKind::Finding,
            &finding.id.to_string(),
        )
        .await
        .unwrap();
    assert_eq!(revisions, 0, "a rejected write kept a revision");
    // The owner's own edit still goes through.
    let mut edit = finding.clone();
    edit.place = "三层仓库".to_owned();
    assert_applied(&t.push(&owner, &[owner.save_finding(&edit, Some(1))]).await);
    t.finish().await;
}

/// A new finding's team and enterprise are its stored inspection's, whatever the payload says.
async fn a_new_finding_takes_team_and_enterprise_from_its_stored_inspection(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let other = t.login("inspector3").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let mut finding = device.finding(&inspection);
    finding.org_id = other.user.org_id;
    finding.enterprise_id = EnterpriseId::new();
    let response = t
        .push(
            &device,
            &[
                device.save_inspection(&inspection, None),
                device.save_finding(&finding, None),
            ],
        )
        .await;
    assert_applied(&response);
    let (_, stored) = t
        .state
        .store
        .finding(&finding.id.to_string())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.org_id, inspection.org_id);
    assert_eq!(stored.enterprise_id, inspection.enterprise_id);
    // So the other team does not receive it.
    let pulled = t.pull_all(&other, 1000).await;
    assert!(pulled.iter().all(|c| c["id"] != json!(finding.id)));
    t.finish().await;
}

/// Regression: anyone who learned a photo's hash could list it in his own finding (or attach
/// it, or use it as a gate photo) and then download the other team's photo.
async fn a_photo_hash_learned_elsewhere_cannot_be_referenced_or_downloaded(backend: Backend) {
    let t = TestApp::start(backend).await;
    let owner = t.login("inspector1").await;
    let stranger = t.login("inspector3").await;
    let bytes = jpeg(20_000, 11);
    let hash = PhotoHash::of_bytes(&bytes);
    let inspection = owner.inspection(t.some_enterprise(&owner).await);
    let mut finding = owner.finding(&inspection);
    finding.photos = vec![hash.clone()];
    let response = t
        .push(
            &owner,
            &[
                owner.save_inspection(&inspection, None),
                owner.save_finding(&finding, None),
                attach(&owner, &hash, finding.id),
            ],
        )
        .await;
    assert_applied(&response);
    assert_eq!(
        put_photo(&t, &owner.token, &hash, bytes.clone()).await,
        StatusCode::CREATED
    );

    let (mut own_inspection, own_finding) = recorded(&t, &stranger).await;
    let mut stolen = stranger.finding(&own_inspection);
    stolen.photos = vec![hash.clone()];
    let mut stolen_after = own_finding.clone();
    stolen_after.after_photos = vec![hash.clone()];
    own_inspection.check_in = Some(CheckIn {
        at: Utc::now(),
        location: None,
        gate_photo: Some(hash.clone()),
        note: "井下无信号".to_owned(),
    });
    let response = t
        .push(
            &stranger,
            &[
                stranger.save_finding(&stolen, None),
                stranger.save_finding(&stolen_after, Some(1)),
                stranger.save_inspection(&own_inspection, Some(1)),
                attach(&stranger, &hash, own_finding.id),
            ],
        )
        .await;
    let fields: Vec<&str> = response.acks.iter().map(error_field).collect();
    for ack in &response.acks {
        assert_eq!(ack.status, AckStatus::Rejected, "{response:?}");
        assert_eq!(error_code(ack), "forbidden", "{response:?}");
        let message = &ack.error.as_ref().unwrap().message;
        assert!(message.contains("照片"), "{message}");
    }
    assert_eq!(
        fields,
        ["photos", "after_photos", "check_in.gate_photo", "hash"]
    );
    assert!(matches!(
        download(&t, &stranger.token, &hash).await,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND
    ));
    // The owner's team still sees it.
    let teammate = t.login("inspector2").await;
    assert_eq!(download(&t, &teammate.token, &hash).await, StatusCode::OK);
    t.finish().await;
}

/// A hash put in a record before the server holds the bytes is accepted (text travels first),
/// but when the photo's own team uploads it, that early reference opens nothing to the other
/// team.
async fn a_hash_referenced_before_its_upload_opens_nothing_to_another_team(backend: Backend) {
    let t = TestApp::start(backend).await;
    let owner = t.login("inspector1").await;
    let stranger = t.login("inspector3").await;
    let bytes = jpeg(20_000, 12);
    let hash = PhotoHash::of_bytes(&bytes);

    let (own_inspection, _) = recorded(&t, &stranger).await;
    let mut early = stranger.finding(&own_inspection);
    early.photos = vec![hash.clone()];
    assert_applied(
        &t.push(&stranger, &[stranger.save_finding(&early, None)])
            .await,
    );

    let inspection = owner.inspection(t.some_enterprise(&owner).await);
    let mut finding = owner.finding(&inspection);
    finding.photos = vec![hash.clone()];
    let response = t
        .push(
            &owner,
            &[
                owner.save_inspection(&inspection, None),
                owner.save_finding(&finding, None),
            ],
        )
        .await;
    assert_applied(&response);
    assert_eq!(
        put_photo(&t, &owner.token, &hash, bytes).await,
        StatusCode::CREATED
    );

    assert_eq!(
        download(&t, &stranger.token, &hash).await,
        StatusCode::FORBIDDEN
    );
    for user in ["inspector1", "inspector2", "leader1", "admin"] {
        let device = t.login(user).await;
        assert_eq!(
            download(&t, &device.token, &hash).await,
            StatusCode::OK,
            "{user}"
        );
    }
    // Re-saving his finding, which already lists the hash, changes nothing about that.
    let mut again = early.clone();
    again.place = "别处".to_owned();
    assert_applied(
        &t.push(&stranger, &[stranger.save_finding(&again, Some(1))])
            .await,
    );
    assert_eq!(
        download(&t, &stranger.token, &hash).await,
        StatusCode::FORBIDDEN
    );
    t.finish().await;
}

/// The normal flow: a finding lists a photo, the photo is uploaded later, the team and the
/// leader download it; a colleague may reference it in his own finding; someone who uploaded
/// the same bytes may use them too.
async fn photos_referenced_before_upload_then_uploaded_reach_the_team(backend: Backend) {
    let t = TestApp::start(backend).await;
    let owner = t.login("inspector1").await;
    let colleague = t.login("inspector2").await;
    let leader = t.login("leader1").await;
    let other = t.login("inspector3").await;
    let bytes = jpeg(30_000, 13);
    let hash = PhotoHash::of_bytes(&bytes);
    let inspection = owner.inspection(t.some_enterprise(&owner).await);
    let mut finding = owner.finding(&inspection);
    finding.photos = vec![hash.clone()];
    let response = t
        .push(
            &owner,
            &[
                owner.save_inspection(&inspection, None),
                owner.save_finding(&finding, None),
                attach(&owner, &hash, finding.id),
            ],
        )
        .await;
    assert_applied(&response);
    // Not uploaded yet.
    assert_eq!(
        download(&t, &owner.token, &hash).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put_photo(&t, &owner.token, &hash, bytes.clone()).await,
        StatusCode::CREATED
    );
    for device in [&owner, &colleague, &leader] {
        let reply = t
            .get(&format!("/api/v1/photos/{hash}"), &device.token)
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(reply.body.as_ref(), bytes.as_slice());
    }
    let receipt = t
        .get(
            &format!("/api/v1/sync/receipt?inspection={}", inspection.id),
            &owner.token,
        )
        .await
        .json();
    assert_eq!(receipt["complete"], true, "{receipt}");

    // A colleague of the team may use the photo in his own finding, and edit the owner's.
    let (colleague_inspection, _) = recorded(&t, &colleague).await;
    let mut reused = colleague.finding(&colleague_inspection);
    reused.photos = vec![hash.clone()];
    let mut edited = finding.clone();
    edited.description = "安全出口堵塞，已拍照".to_owned();
    let response = t
        .push(
            &colleague,
            &[
                colleague.save_finding(&reused, None),
                colleague.save_finding(&edited, Some(1)),
                attach(&colleague, &hash, reused.id),
            ],
        )
        .await;
    assert_applied(&response);
    assert_eq!(download(&t, &colleague.token, &hash).await, StatusCode::OK);

    // Another team's inspector who uploads the same bytes has proved he holds them.
    assert_eq!(
        download(&t, &other.token, &hash).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        put_photo(&t, &other.token, &hash, bytes.clone()).await,
        StatusCode::OK
    );
    let (other_inspection, _) = recorded(&t, &other).await;
    let mut his = other.finding(&other_inspection);
    his.photos = vec![hash.clone()];
    assert_applied(&t.push(&other, &[other.save_finding(&his, None)]).await);
    assert_eq!(download(&t, &other.token, &hash).await, StatusCode::OK);
    t.finish().await;
}

/// An ad-hoc enterprise of `device`'s team with `township`.
fn ad_hoc(device: &Device, name: &str, township: &str) -> Enterprise {
    Enterprise {
        key: false,
        grade: None,
        id: EnterpriseId::new(),
        org_id: device.user.org_id,
        name: name.to_owned(),
        credit_code: None,
        address: String::new(),
        county: "达拉特旗".to_owned(),
        township: township.to_owned(),
        sectors: vec![zhicha_core::model::Sector::IndustryTrade],
        subsectors: vec![],
        legal_representative: String::new(),
        contact_phone: String::new(),
        location: None,
        ad_hoc: true,
        merged_into: None,
    }
}

fn save_enterprise(device: &Device, enterprise: &Enterprise) -> zhicha_core::protocol::Mutation {
    device.mutation(
        enterprise.id.0,
        None,
        &MutationPayload::EnterpriseSave(Box::new(enterprise.clone())),
    )
}

/// Regression: a township of 1,000 characters (an index entry PostgreSQL refuses) or a NUL in
/// an inspector's name made the whole push a 500 on PostgreSQL, and was stored on SQLite.
async fn over_long_indexed_values_and_nul_are_rejected_with_a_field_error(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    let good_enterprise = ad_hoc(&device, "路边修理铺（现场发现）", "树林召镇");
    let long_enterprise = ad_hoc(&device, "长地名作坊", &"镇".repeat(1_000));
    let nul_enterprise = ad_hoc(&device, "零\0字节", "树林召镇");
    // Names the good enterprise: an inspection of one that was refused is refused as well.
    let long_inspection = device.inspection(good_enterprise.id);
    let long_finding = device.finding(&long_inspection);
    let mut nul_inspection = device.inspection(good_enterprise.id);
    nul_inspection.inspectors[1].name = "同组\0执法人员".to_owned();
    let good_inspection = device.inspection(good_enterprise.id);
    let good_finding = device.finding(&good_inspection);
    let mut long_name = device.finding(&good_inspection);
    long_name.item_id = Some("i".repeat(500));
    let response = t
        .push(
            &device,
            &[
                save_enterprise(&device, &good_enterprise),
                save_enterprise(&device, &long_enterprise),
                save_enterprise(&device, &nul_enterprise),
                device.save_inspection(&long_inspection, None),
                device.save_finding(&long_finding, None),
                device.save_inspection(&nul_inspection, None),
                device.save_inspection(&good_inspection, None),
                device.save_finding(&good_finding, None),
                device.save_finding(&long_name, None),
            ],
        )
        .await;
    let statuses: Vec<AckStatus> = response.acks.iter().map(|a| a.status).collect();
    use AckStatus::{Applied, Rejected};
    assert_eq!(
        statuses,
        [
            Applied, Rejected, Rejected, Applied, Applied, Rejected, Applied, Applied, Rejected
        ],
        "{response:?}"
    );
    let rejected: Vec<(&str, &str)> = response
        .acks
        .iter()
        .filter(|a| a.status == Rejected)
        .map(|a| (error_code(a), error_field(a)))
        .collect();
    assert_eq!(
        rejected,
        [
            ("validation", "township"),
            ("validation", "name"),
            ("validation", "inspectors[1].name"),
            ("validation", "item_id"),
        ]
    );
    for ack in response.acks.iter().filter(|a| a.status == Rejected) {
        let message = &ack.error.as_ref().unwrap().message;
        assert!(
            message.contains("过长") || message.contains("无效字符"),
            "{message}"
        );
    }
    // The good records are stored and reach the ledger.
    let leader = t.login("leader1").await;
    let page = t.get("/api/v1/findings?status=draft", &leader.token).await;
    assert_eq!(page.status, StatusCode::OK);
    let ids: Vec<Value> = page.json()["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].clone())
        .collect();
    assert!(ids.contains(&json!(good_finding.id)));
    assert!(ids.contains(&json!(long_finding.id)));
    t.finish().await;
}

/// Makes the database refuse a finding whose description contains `marker`, the way it refuses
/// a value it cannot store: the rules let it through, the database does not.
async fn refuse_findings_marked(t: &TestApp, marker: &str) {
    let mut db = t.database().await;
    let sql = if t.backend.is_postgres() {
        format!(
            "CREATE FUNCTION refuse_marked() RETURNS trigger AS $$ BEGIN \
             IF NEW.search_text LIKE '%{marker}%' THEN \
             RAISE EXCEPTION 'refused by the test' USING ERRCODE = '22000'; END IF; \
             RETURN NEW; END $$ LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_marked BEFORE INSERT OR UPDATE ON findings \
             FOR EACH ROW EXECUTE FUNCTION refuse_marked();"
        )
    } else {
        format!(
            "CREATE TRIGGER refuse_marked BEFORE INSERT ON findings \
             WHEN NEW.search_text LIKE '%{marker}%' \
             BEGIN SELECT RAISE(ABORT, 'refused by the test'); END;"
        )
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(&mut db)
        .await
        .unwrap();
}

/// Regression: one mutation the database refused made the whole push a 500, so the device
/// resent the batch forever and nothing after it ever arrived.
async fn a_mutation_the_database_refuses_is_rejected_alone_and_the_batch_applied(backend: Backend) {
    let t = TestApp::start(backend).await;
    let device = t.login("inspector1").await;
    refuse_findings_marked(&t, "数据库拒收").await;
    let inspection = device.inspection(t.some_enterprise(&device).await);
    let first = device.finding(&inspection);
    let mut refused = device.finding(&inspection);
    refused.description = "数据库拒收的隐患".to_owned();
    let last = device.finding(&inspection);
    let batch = [
        device.save_inspection(&inspection, None),
        device.save_finding(&first, None),
        device.save_finding(&refused, None),
        device.save_finding(&last, None),
    ];
    let reply = t.push_raw(&device, &batch).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let response: PushResponse = serde_json::from_slice(&reply.body).unwrap();
    let statuses: Vec<AckStatus> = response.acks.iter().map(|a| a.status).collect();
    use AckStatus::{Applied, Duplicate, Rejected};
    assert_eq!(statuses, [Applied, Applied, Rejected, Applied]);
    assert_eq!(error_code(&response.acks[2]), "storage_refused");
    let message = &response.acks[2].error.as_ref().unwrap().message;
    assert!(message.contains("服务器无法保存"), "{message}");
    for (finding, stored) in [(&first, true), (&refused, false), (&last, true)] {
        let found = t
            .state
            .store
            .finding(&finding.id.to_string())
            .await
            .unwrap();
        assert_eq!(found.is_some(), stored);
    }
    // The refusal is stored like any rejection: a resend is answered the same, and the seq
    // moved on.
    let response = t.push(&device, &batch).await;
    let statuses: Vec<AckStatus> = response.acks.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [Duplicate, Duplicate, Rejected, Duplicate]);
    assert_eq!(error_code(&response.acks[2]), "storage_refused");
    let next = device.finding(&inspection);
    assert_applied(&t.push(&device, &[device.save_finding(&next, None)]).await);
    t.finish().await;
}

/// Regression: once an authority had issued all 26,640 device codes, `from_index` repeated
/// codes, every insert hit the unique index and the login of a new device was a 500.
/// Every code `DeviceCode::from_index` issues before it repeats: `A0`…`Z999`.
const ALL_DEVICE_CODES: u32 = 26_640;

async fn a_bureau_out_of_device_codes_answers_503_not_500(backend: Backend) {
    let t = TestApp::start(backend).await;
    let known = t.login("inspector1").await;
    let mut db = t.database().await;
    let (doc_code, user_id): (String, String) = sqlx::query_as(
        "SELECT o.doc_code, u.id FROM users u JOIN org_units o ON o.id = u.org_id \
         WHERE u.username = 'inspector1'",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    let issued: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM device_codes WHERE doc_code = $1")
        .bind(&doc_code)
        .fetch_one(&mut db)
        .await
        .unwrap();
    // Every other code of the authority, issued to filler devices, as `from_index` issues them.
    let first = u32::try_from(issued).unwrap();
    let fillers: Vec<(String, String)> = (first..ALL_DEVICE_CODES)
        .map(|n| {
            let code = DeviceCode::from_index(n).as_str().to_owned();
            (format!("filler-{n}"), code)
        })
        .collect();
    for chunk in fillers.chunks(500) {
        let rows = |width: usize| -> String {
            (0..chunk.len())
                .map(|r| {
                    let marks: Vec<String> =
                        (1..=width).map(|c| format!("${}", r * width + c)).collect();
                    format!("({})", marks.join(", "))
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        let sql = format!(
            "INSERT INTO devices (device_id, user_id, created_at) VALUES {}",
            rows(3)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (device, _) in chunk {
            query = query
                .bind(device.clone())
                .bind(user_id.clone())
                .bind("2026-01-01T00:00:00.000Z");
        }
        query.execute(&mut db).await.unwrap();
        let sql = format!(
            "INSERT INTO device_codes (doc_code, device_id, code, created_at) VALUES {}",
            rows(4)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (device, code) in chunk {
            query = query
                .bind(doc_code.clone())
                .bind(device.clone())
                .bind(code.clone())
                .bind("2026-01-01T00:00:00.000Z");
        }
        query.execute(&mut db).await.unwrap();
    }
    let reply = t
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({
                "username": "inspector2",
                "password": zhicha_server::operator::seed::DEMO_PASSWORD,
                "device_id": DeviceId::new(),
            })),
        )
        .await;
    reply.assert_error(StatusCode::SERVICE_UNAVAILABLE, "device_codes_exhausted");
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("设备编号"), "{message}");
    // A device that has its code keeps it.
    let again = t.login_device("inspector1", known.device_id).await;
    assert!(!again.token.is_empty());
    t.finish().await;
}

async fn revisions(t: &TestApp, token: &str, id: FindingId) -> common::Reply {
    t.get(&format!("/api/v1/findings/{id}/revisions"), token)
        .await
}

/// Two devices edit one finding from the same revision (a conflict), then it is submitted: the
/// leader reads every kept version newest first, who replaced it from which device and when,
/// why, and which fields changed; the ledger row is flagged.
async fn leaders_see_who_changed_which_fields_and_the_conflicts(backend: Backend) {
    let t = TestApp::start(backend).await;
    let started = Utc::now();
    let phone = t.login("inspector1").await;
    let tablet = t.login("inspector2").await;
    let leader = t.login("leader1").await;
    let admin = t.login("admin").await;
    let other = t.login("inspector3").await;
    let (_, finding) = recorded(&t, &phone).await;
    let quiet = recorded(&t, &phone).await.1;

    let mut described = finding.clone();
    described.description = "安全出口被货物堵塞（补充：两处）".to_owned();
    assert_applied(
        &t.push(&phone, &[phone.save_finding(&described, Some(1))])
            .await,
    );
    // The tablet still had rev 1: its edit is a conflict, applied, the other version kept.
    let mut placed = finding.clone();
    placed.place = "一层仓库".to_owned();
    assert_applied(
        &t.push(&tablet, &[tablet.save_finding(&placed, Some(1))])
            .await,
    );
    let submit = phone.mutation(
        finding.id.0,
        Some(3),
        &MutationPayload::FindingSubmit(CommentPayload::default()),
    );
    assert_applied(&t.push(&phone, &[submit]).await);

    let reply = revisions(&t, &leader.token, finding.id).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let history: RevisionsResponse = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(history.finding_id, finding.id);
    assert_eq!(history.rev, 4);
    assert!(history.flagged);
    let revs: Vec<u64> = history.revisions.iter().map(|r| r.rev).collect();
    assert_eq!(revs, [3, 2, 1], "newest first");
    let [submitted, conflict, edited] = &history.revisions[..] else {
        panic!("{history:?}");
    };
    assert_eq!(edited.author.user_id, phone.user.id);
    assert_eq!(edited.author.name, phone.user.display_name);
    assert_eq!(edited.device_id, Some(phone.device_id));
    assert_eq!(edited.reason, "edit");
    assert!(!edited.conflict);
    assert_eq!(edited.changed_fields, [FindingField::Description]);
    assert_eq!(edited.finding.description, finding.description);

    assert_eq!(conflict.author.user_id, tablet.user.id);
    assert_eq!(conflict.author.name, tablet.user.display_name);
    assert_eq!(conflict.device_id, Some(tablet.device_id));
    assert_eq!(conflict.reason, "conflict");
    assert!(conflict.conflict);
    // The tablet's stale record replaced the phone's description too: both are named, and the
    // phone's version is kept.
    assert_eq!(
        conflict.changed_fields,
        [FindingField::Description, FindingField::Place]
    );
    assert_eq!(conflict.finding.description, described.description);

    assert_eq!(submitted.reason, "submit");
    assert!(!submitted.conflict);
    assert_eq!(
        submitted.changed_fields,
        [FindingField::Status, FindingField::History]
    );
    for revision in &history.revisions {
        assert!(revision.at >= started - chrono::Duration::seconds(5));
        assert!(revision.at <= Utc::now());
    }

    // Who may read it: the team and those above it; not another team.
    for device in [&phone, &tablet, &admin] {
        assert_eq!(
            revisions(&t, &device.token, finding.id).await.status,
            StatusCode::OK
        );
    }
    revisions(&t, &other.token, finding.id)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    revisions(&t, &leader.token, FindingId::new())
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    t.get("/api/v1/findings/not-an-id/revisions", &leader.token)
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    let untouched: RevisionsResponse =
        serde_json::from_slice(&revisions(&t, &leader.token, quiet.id).await.body).unwrap();
    assert!(!untouched.flagged);
    assert!(untouched.revisions.is_empty());

    // The ledger rows carry the flag.
    let page = t.get("/api/v1/findings?status=draft", &leader.token).await;
    assert_eq!(page.status, StatusCode::OK);
    let page: FlaggedFindingsPage = serde_json::from_slice(&page.body).unwrap();
    assert!(page.rows.iter().any(|r| r.row.id == quiet.id && !r.flagged));
    let page = t
        .get("/api/v1/findings?status=submitted", &leader.token)
        .await;
    let page: FlaggedFindingsPage = serde_json::from_slice(&page.body).unwrap();
    assert!(
        page.rows
            .iter()
            .any(|r| r.row.id == finding.id && r.flagged)
    );

    let doc = t
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json();
    assert!(doc["paths"]["/api/v1/findings/{id}/revisions"]["get"].is_object());
    assert!(doc["components"]["schemas"]["RevisionsResponse"].is_object());
    t.finish().await;
}

/// Regression: a new inspection's enterprise id came from the payload unchecked, so an inspector
/// could name another team's (or no) enterprise, whose name then went into the ledger rows.
async fn an_inspection_names_only_an_enterprise_of_its_authors_directory(backend: Backend) {
    let t = TestApp::start(backend).await;
    let phone = t.login("inspector1").await;
    let other = t.login("inspector3").await;
    // An unlicensed operation another team added on site: in that team's directory only.
    let theirs = ad_hoc(&other, "二中队现场发现的作坊", "树林召镇");
    assert_applied(&t.push(&other, &[save_enterprise(&other, &theirs)]).await);

    let foreign = phone.inspection(theirs.id);
    let unknown = phone.inspection(EnterpriseId::new());
    let response = t
        .push(
            &phone,
            &[
                phone.save_inspection(&foreign, None),
                phone.save_inspection(&unknown, None),
            ],
        )
        .await;
    assert_eq!(error_code(&response.acks[0]), "forbidden", "{response:?}");
    assert_eq!(error_field(&response.acks[0]), "enterprise_id");
    assert_eq!(
        error_code(&response.acks[1]),
        "enterprise_missing",
        "{response:?}"
    );

    // An existing inspection cannot be moved to such an enterprise either.
    let (mut mine, _) = recorded(&t, &phone).await;
    mine.enterprise_id = theirs.id;
    let moved = t
        .push(&phone, &[phone.save_inspection(&mine, Some(1))])
        .await;
    assert_eq!(error_code(&moved.acks[0]), "forbidden", "{moved:?}");
    // The other team's own inspection of it is fine.
    let visit = other.inspection(theirs.id);
    assert_applied(&t.push(&other, &[other.save_inspection(&visit, None)]).await);
    t.finish().await;
}
