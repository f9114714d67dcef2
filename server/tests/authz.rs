//! The authorization matrix: every endpoint × role × org relation against an expected status
//! table, and crafted pushes against the outcome each caller must get, on SQLite and PostgreSQL. The records belong to team 1 (执法一中队, made by
//! `inspector1`); the callers are nobody, a forged token, the owner, a teammate, the team's
//! leader, an inspector of team 2 and the bureau's admin. The web admin's routes answer the
//! admin only. The 案卷 archive of an inspection answers whoever may see the inspection.

mod common;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, Device, TestApp, jpeg};
use serde_json::{Value, json};
use zhicha_core::ids::{DeviceId, PhotoHash};
use zhicha_core::model::{PhotoMeta, PhotoOwner, PhotoRole};
use zhicha_core::protocol::{AckStatus, MutationPayload};

on_both_backends!(every_endpoint_answers_every_caller_as_the_table_says);

/// The callers, in the order of the table's columns.
const CALLERS: [&str; 7] = [
    "anonymous",
    "forged",
    "inspector1",
    "inspector2",
    "leader1",
    "inspector3",
    "admin",
];

/// Expected statuses: anonymous, forged token, owner, teammate, team leader, other team, admin.
const MATRIX: &[(&str, [u16; 7])] = &[
    ("GET /api/v1/health", [200, 200, 200, 200, 200, 200, 200]),
    (
        "GET /api/v1/openapi.json",
        [200, 200, 200, 200, 200, 200, 200],
    ),
    ("GET /api/v1/bootstrap", [401, 401, 200, 200, 200, 200, 200]),
    (
        "GET /api/v1/checklists/{pack}",
        [401, 401, 200, 200, 200, 200, 200],
    ),
    ("GET /api/v1/sync/pull", [401, 401, 200, 200, 200, 200, 200]),
    (
        "POST /api/v1/sync/push (own device)",
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "POST /api/v1/sync/push (inspector1's device)",
        [401, 401, 200, 403, 403, 403, 403],
    ),
    (
        "GET /api/v1/sync/receipt (team 1)",
        [401, 401, 200, 200, 200, 403, 200],
    ),
    (
        "GET /api/v1/sync/receipt (unknown)",
        [401, 401, 404, 404, 404, 404, 404],
    ),
    (
        "HEAD /api/v1/photos/{team 1 photo}",
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "GET /api/v1/photos/{team 1 photo}",
        [401, 401, 200, 200, 200, 403, 200],
    ),
    (
        "GET /api/v1/photos/{unreferenced photo}",
        [401, 401, 403, 403, 403, 403, 403],
    ),
    (
        "PUT /api/v1/photos/{team 1 photo}",
        [401, 401, 200, 200, 200, 200, 200],
    ),
    (
        "GET /api/v1/findings/{team 1 finding}/revisions",
        [401, 401, 200, 200, 200, 403, 200],
    ),
    (
        "GET /api/v1/inspections/{team 1 inspection}/archive",
        [401, 401, 200, 200, 200, 403, 200],
    ),
    ("GET /healthz", [200, 200, 200, 200, 200, 200, 200]),
    ("GET /readyz", [200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/findings", [401, 401, 403, 403, 200, 403, 200]),
    (
        "GET /api/v1/findings?team={team 2}",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    ("GET /api/v1/stats", [401, 401, 403, 403, 200, 403, 200]),
    (
        "GET /api/v1/stats?team={team 2}",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/v1/ledger.csv",
        [401, 401, 403, 403, 200, 403, 200],
    ),
    (
        "GET /api/v1/ledger.xlsx",
        [401, 401, 403, 403, 200, 403, 200],
    ),
    (
        "GET /api/v1/ledger.csv?team={team 2}",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    // The web admin: the admin only, within his bureau; the account changed is a spare one of
    // team 2 (not a caller, so every caller's session lives on).
    (
        "GET /api/v1/admin/users",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/v1/admin/users",
        [401, 401, 403, 403, 403, 403, 201],
    ),
    (
        "PATCH /api/v1/admin/users/{spare}",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/v1/admin/users/{spare}/password",
        [401, 401, 403, 403, 403, 403, 204],
    ),
    (
        "GET /api/v1/admin/users/{spare}/sessions",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/v1/admin/users/{spare}/revoke",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/v1/admin/orgs",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/v1/admin/orgs",
        [401, 401, 403, 403, 403, 403, 201],
    ),
    (
        "PATCH /api/v1/admin/orgs/{team 2}",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "GET /api/v1/admin/enterprises",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    (
        "POST /api/v1/admin/enterprises/import (preview)",
        [401, 401, 403, 403, 403, 403, 200],
    ),
    // A directory entry is no on-site enterprise: the admin's merge is refused as invalid.
    (
        "POST /api/v1/admin/enterprises/{directory entry}/merge",
        [401, 401, 403, 403, 403, 403, 400],
    ),
    // Five wrong passwords for one name from one address, then the limit.
    (
        "POST /api/v1/auth/login (inspector1, wrong password)",
        [401, 401, 401, 401, 401, 429, 429],
    ),
    (
        "POST /api/v1/auth/password (wrong current password)",
        [401, 401, 401, 401, 401, 401, 401],
    ),
    (
        "POST /api/v1/auth/logout",
        [401, 401, 204, 204, 204, 204, 204],
    ),
];

/// Crafted pushes, as each signed-in caller (owner, teammate, team leader, other team, admin):
/// what the server does with the one mutation (`applied`, or the rejection's code).
const CRAFTED: &[(&str, [&str; 5])] = &[
    // A leader reviews findings but does not write the inspector's fields.
    (
        "finding.save of team 1's finding, text changed",
        ["applied", "applied", "forbidden", "forbidden", "applied"],
    ),
    // The team in a payload is never taken: the finding stays where it is stored.
    (
        "finding.save of team 1's finding, moved to team 2",
        [
            "applied, still in team 1",
            "applied, still in team 1",
            "forbidden",
            "forbidden",
            "applied, still in team 1",
        ],
    ),
    // Scope does not stop the admin; an inspection needs its inspectors' 执法证号, which the
    // demo admin lacks.
    (
        "inspection.save of a new inspection in team 2",
        [
            "forbidden",
            "forbidden",
            "forbidden",
            "applied",
            "validation",
        ],
    ),
];

/// What a caller may pull of team 1's records: owner, teammate, leader and admin see them.
const SEES_TEAM_1: [bool; 7] = [false, false, true, true, true, false, true];

struct Fixture {
    inspection: String,
    finding: String,
    photo: PhotoHash,
    photo_bytes: Vec<u8>,
    unreferenced: PhotoHash,
    pack: String,
    owner_device: DeviceId,
    finding_record: zhicha_core::model::Finding,
    other_team: String,
    enterprise: zhicha_core::ids::EnterpriseId,
    /// An account of team 2 that is none of the callers.
    spare: String,
}

/// Team 1's inspection with a finding and an uploaded evidence photo, plus a photo uploaded by
/// inspector3 that no record references.
async fn fixture(t: &TestApp, owner: &Device, stranger: &Device) -> Fixture {
    let enterprise = t.some_enterprise(owner).await;
    let inspection = owner.inspection(enterprise);
    let photo_bytes = jpeg(20_000, 7);
    let photo = PhotoHash::of_bytes(&photo_bytes);
    let mut finding = owner.finding(&inspection);
    finding.photos = vec![photo.clone()];
    let meta = PhotoMeta {
        hash: photo.clone(),
        owner: PhotoOwner::Finding(finding.id),
        role: PhotoRole::Evidence,
        bytes: photo_bytes.len() as u64,
        width: 1600,
        height: 1200,
        mime: "image/jpeg".into(),
        captured_at: chrono::Utc::now(),
        offset_from_start_s: Some(30),
        location: None,
        no_fix: None,
        clock_offset_ms: None,
    };
    let response = t
        .push(
            owner,
            &[
                owner.save_inspection(&inspection, None),
                owner.save_finding(&finding, None),
                owner.mutation(
                    finding.id.0,
                    None,
                    &MutationPayload::PhotoAttach(Box::new(meta)),
                ),
            ],
        )
        .await;
    assert!(
        response.acks.iter().all(|a| a.status == AckStatus::Applied),
        "{response:?}"
    );
    assert_eq!(
        put(t, &owner.token, &photo, photo_bytes.clone()).await,
        StatusCode::CREATED
    );
    let unreferenced_bytes = jpeg(1_000, 9);
    let unreferenced = PhotoHash::of_bytes(&unreferenced_bytes);
    assert_eq!(
        put(t, &stranger.token, &unreferenced, unreferenced_bytes).await,
        StatusCode::CREATED
    );
    let bootstrap = t.get("/api/v1/bootstrap", &owner.token).await.json();
    let pack = format!(
        "{}/{}",
        bootstrap["packs"][0]["id"].as_str().unwrap(),
        bootstrap["packs"][0]["version"]
    );
    let spare = zhicha_core::model::User {
        id: zhicha_core::ids::UserId::new(),
        username: "inspector8".into(),
        display_name: "备用账号".into(),
        role: zhicha_core::model::Role::Inspector,
        org_id: stranger.user.org_id,
        certificate_no: None,
    };
    assert!(t.state.store.insert_user(&spare, "x").await.unwrap());
    Fixture {
        spare: spare.id.to_string(),
        inspection: inspection.id.to_string(),
        finding: finding.id.to_string(),
        photo,
        photo_bytes,
        unreferenced,
        pack,
        owner_device: owner.device_id,
        finding_record: finding,
        other_team: stranger.user.org_id.to_string(),
        enterprise,
    }
}

async fn put(t: &TestApp, token: &str, hash: &PhotoHash, bytes: Vec<u8>) -> StatusCode {
    let request = Request::put(format!("/api/v1/photos/{hash}"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "image/jpeg")
        .body(Body::from(bytes))
        .unwrap();
    t.send(request).await.status
}

/// Sends the row's request as the caller (`token` None: no Authorization header) and checks the
/// answer: a protocol error body for every 4xx, the photo's bytes for a 200 download.
async fn check(t: &TestApp, f: &Fixture, row: &str, token: Option<&str>, device: DeviceId) -> u16 {
    let (method, path, body): (Method, String, Option<Vec<u8>>) = match row {
        "GET /api/v1/health" => (Method::GET, "/api/v1/health".into(), None),
        "GET /api/v1/openapi.json" => (Method::GET, "/api/v1/openapi.json".into(), None),
        "GET /api/v1/bootstrap" => (Method::GET, "/api/v1/bootstrap".into(), None),
        "GET /api/v1/checklists/{pack}" => {
            (Method::GET, format!("/api/v1/checklists/{}", f.pack), None)
        }
        "GET /api/v1/sync/pull" => (Method::GET, "/api/v1/sync/pull?limit=1000".into(), None),
        "POST /api/v1/sync/push (own device)" => (
            Method::POST,
            "/api/v1/sync/push".into(),
            Some(
                json!({"device_id": device, "mutations": []})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        "POST /api/v1/sync/push (inspector1's device)" => (
            Method::POST,
            "/api/v1/sync/push".into(),
            Some(
                json!({"device_id": f.owner_device, "mutations": []})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        "GET /api/v1/sync/receipt (team 1)" => (
            Method::GET,
            format!("/api/v1/sync/receipt?inspection={}", f.inspection),
            None,
        ),
        "GET /api/v1/sync/receipt (unknown)" => (
            Method::GET,
            format!("/api/v1/sync/receipt?inspection={}", uuid::Uuid::now_v7()),
            None,
        ),
        "HEAD /api/v1/photos/{team 1 photo}" => {
            (Method::HEAD, format!("/api/v1/photos/{}", f.photo), None)
        }
        "GET /api/v1/photos/{team 1 photo}" => {
            (Method::GET, format!("/api/v1/photos/{}", f.photo), None)
        }
        "GET /api/v1/photos/{unreferenced photo}" => (
            Method::GET,
            format!("/api/v1/photos/{}", f.unreferenced),
            None,
        ),
        "PUT /api/v1/photos/{team 1 photo}" => (
            Method::PUT,
            format!("/api/v1/photos/{}", f.photo),
            Some(f.photo_bytes.clone()),
        ),
        "GET /api/v1/findings/{team 1 finding}/revisions" => (
            Method::GET,
            format!("/api/v1/findings/{}/revisions", f.finding),
            None,
        ),
        "GET /api/v1/inspections/{team 1 inspection}/archive" => (
            Method::GET,
            format!("/api/v1/inspections/{}/archive", f.inspection),
            None,
        ),
        "POST /api/v1/auth/logout" => (Method::POST, "/api/v1/auth/logout".into(), None),
        "GET /healthz" => (Method::GET, "/healthz".into(), None),
        "GET /readyz" => (Method::GET, "/readyz".into(), None),
        "GET /api/v1/findings" => (Method::GET, "/api/v1/findings".into(), None),
        "GET /api/v1/findings?team={team 2}" => (
            Method::GET,
            format!("/api/v1/findings?team={}", f.other_team),
            None,
        ),
        "GET /api/v1/stats" => (Method::GET, "/api/v1/stats".into(), None),
        "GET /api/v1/stats?team={team 2}" => (
            Method::GET,
            format!("/api/v1/stats?team={}", f.other_team),
            None,
        ),
        "GET /api/v1/ledger.csv" => (Method::GET, "/api/v1/ledger.csv".into(), None),
        "GET /api/v1/ledger.xlsx" => (Method::GET, "/api/v1/ledger.xlsx".into(), None),
        "GET /api/v1/ledger.csv?team={team 2}" => (
            Method::GET,
            format!("/api/v1/ledger.csv?team={}", f.other_team),
            None,
        ),
        "GET /api/v1/admin/users" => (Method::GET, "/api/v1/admin/users".into(), None),
        "POST /api/v1/admin/users" => (
            Method::POST,
            "/api/v1/admin/users".into(),
            Some(
                json!({"username": "new-inspector", "role": "inspector", "org_id": f.other_team, "password": "a-new-password-1"})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        "PATCH /api/v1/admin/users/{spare}" => (
            Method::PATCH,
            format!("/api/v1/admin/users/{}", f.spare),
            Some(json!({"display_name": "改名"}).to_string().into_bytes()),
        ),
        "POST /api/v1/admin/users/{spare}/password" => (
            Method::POST,
            format!("/api/v1/admin/users/{}/password", f.spare),
            Some(
                json!({"password": "a-new-password-1"})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        "GET /api/v1/admin/users/{spare}/sessions" => (
            Method::GET,
            format!("/api/v1/admin/users/{}/sessions", f.spare),
            None,
        ),
        "POST /api/v1/admin/users/{spare}/revoke" => (
            Method::POST,
            format!("/api/v1/admin/users/{}/revoke", f.spare),
            Some(b"{}".to_vec()),
        ),
        "GET /api/v1/admin/orgs" => (Method::GET, "/api/v1/admin/orgs".into(), None),
        "POST /api/v1/admin/orgs" => (
            Method::POST,
            "/api/v1/admin/orgs".into(),
            Some(
                json!({"parent_id": f.other_team, "name": "新建小组"})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        "PATCH /api/v1/admin/orgs/{team 2}" => (
            Method::PATCH,
            format!("/api/v1/admin/orgs/{}", f.other_team),
            Some(json!({"region": "达拉特旗"}).to_string().into_bytes()),
        ),
        "GET /api/v1/admin/enterprises" => {
            (Method::GET, "/api/v1/admin/enterprises".into(), None)
        }
        "POST /api/v1/admin/enterprises/import (preview)" => (
            Method::POST,
            format!("/api/v1/admin/enterprises/import?org_id={}", f.other_team),
            Some("单位名称,苏木镇,行业领域\n某公司,树林召镇,工贸\n".as_bytes().to_vec()),
        ),
        "POST /api/v1/admin/enterprises/{directory entry}/merge" => (
            Method::POST,
            format!("/api/v1/admin/enterprises/{}/merge", f.enterprise),
            Some(json!({"into": f.enterprise}).to_string().into_bytes()),
        ),
        "POST /api/v1/auth/login (inspector1, wrong password)" => (
            Method::POST,
            "/api/v1/auth/login".into(),
            Some(
                json!({"username": "inspector1", "password": "guess", "device_id": device})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        "POST /api/v1/auth/password (wrong current password)" => (
            Method::POST,
            "/api/v1/auth/password".into(),
            Some(
                json!({"current_password": "guess", "new_password": "a-new-password-1"})
                    .to_string()
                    .into_bytes(),
            ),
        ),
        other => panic!("no request for row {other}"),
    };
    let mut request = Request::builder().method(method.clone()).uri(&path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    if body.is_some() {
        let content_type = if method == Method::PUT {
            "image/jpeg"
        } else {
            "application/json"
        };
        request = request.header(header::CONTENT_TYPE, content_type);
    }
    let reply = t
        .send(
            request
                .body(body.map_or_else(Body::empty, Body::from))
                .unwrap(),
        )
        .await;
    let status = reply.status;
    if status.is_client_error() && method != Method::HEAD {
        let json: Value = reply.json();
        assert!(json["error"]["code"].is_string(), "{row}: {json}");
    }
    if status == StatusCode::OK && row.starts_with("GET /api/v1/photos") {
        assert_eq!(reply.body.as_ref(), f.photo_bytes.as_slice(), "{row}");
    }
    status.as_u16()
}

/// Pushes the row's crafted mutation from `device` and returns `applied` or the rejection code.
async fn crafted(t: &TestApp, f: &Fixture, row: &str, device: &Device) -> String {
    let stored_rev = || async {
        let mut db = t.database().await;
        let rev: i64 = sqlx::query_scalar("SELECT rev FROM findings WHERE id = $1")
            .bind(&f.finding)
            .fetch_one(&mut db)
            .await
            .unwrap();
        rev
    };
    let mutation = match row {
        "finding.save of team 1's finding, text changed" => {
            let mut finding = f.finding_record.clone();
            finding.description =
                format!("{} 由 {} 修改", finding.description, device.user.username);
            device.save_finding(&finding, Some(stored_rev().await))
        }
        "finding.save of team 1's finding, moved to team 2" => {
            let mut finding = f.finding_record.clone();
            finding.org_id = f.other_team.parse().unwrap();
            device.save_finding(&finding, Some(stored_rev().await))
        }
        "inspection.save of a new inspection in team 2" => {
            let mut inspection = device.inspection(f.enterprise);
            inspection.org_id = f.other_team.parse().unwrap();
            device.save_inspection(&inspection, None)
        }
        other => panic!("no mutation for row {other}"),
    };
    let reply = t.push_raw(device, &[mutation]).await;
    assert_eq!(reply.status, StatusCode::OK, "{row}: {}", reply.json());
    let ack = &reply.json()["acks"][0];
    match ack["status"].as_str() {
        Some("applied") if row.contains("moved to team 2") => {
            let mut db = t.database().await;
            let org: String = sqlx::query_scalar("SELECT org_id FROM findings WHERE id = $1")
                .bind(&f.finding)
                .fetch_one(&mut db)
                .await
                .unwrap();
            if org == f.other_team {
                "applied, moved".to_owned()
            } else {
                "applied, still in team 1".to_owned()
            }
        }
        Some("applied") => "applied".to_owned(),
        _ => ack["error"]["code"].as_str().unwrap_or("?").to_owned(),
    }
}

async fn every_endpoint_answers_every_caller_as_the_table_says(backend: Backend) {
    let t = TestApp::start(backend).await;
    let mut devices = Vec::new();
    for user in &CALLERS[2..] {
        devices.push(t.login(user).await);
    }
    let f = fixture(&t, &devices[0], &devices[3]).await;
    let forged = "0".repeat(64);
    let mut mismatches = Vec::new();
    // Crafted pushes first: the table ends with every caller logging out.
    for (row, expected) in CRAFTED {
        for (column, device) in devices.iter().enumerate() {
            let got = crafted(&t, &f, row, device).await;
            if got != expected[column] {
                mismatches.push(format!(
                    "crafted {row} as {}: expected {}, got {got}",
                    CALLERS[column + 2],
                    expected[column]
                ));
            }
        }
    }
    for (row, expected) in MATRIX {
        for (column, caller) in CALLERS.iter().enumerate() {
            let (token, device) = match column {
                0 => (None, DeviceId::new()),
                1 => (Some(forged.as_str()), DeviceId::new()),
                n => (
                    Some(devices[n - 2].token.as_str()),
                    devices[n - 2].device_id,
                ),
            };
            let got = check(&t, &f, row, token, device).await;
            if got != expected[column] {
                mismatches.push(format!(
                    "{row} as {caller}: expected {}, got {got}",
                    expected[column]
                ));
            }
        }
        if *row == "GET /api/v1/sync/pull" {
            for (column, device) in devices.iter().enumerate() {
                let pulled = t.pull_all(device, 1000).await;
                let sees = [&f.inspection, &f.finding]
                    .iter()
                    .map(|id| pulled.iter().any(|c| c["id"] == json!(id)))
                    .collect::<Vec<_>>();
                let expected = SEES_TEAM_1[column + 2];
                if sees != [expected, expected] {
                    mismatches.push(format!(
                        "pull as {}: sees team 1 {sees:?}, expected {expected}",
                        CALLERS[column + 2]
                    ));
                }
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "authorization matrix:\n{}",
        mismatches.join("\n")
    );
    // After logout every token is dead.
    for device in &devices {
        t.get("/api/v1/bootstrap", &device.token)
            .await
            .assert_error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    t.finish().await;
}
