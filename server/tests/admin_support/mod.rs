//! Helpers of the web admin's API tests (`admin_api`, `admin_directory`).

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};
use zhicha_core::ids::{DeviceId, EnterpriseId, OrgId, UserId};
use zhicha_core::model::{Enterprise, OrgUnit, Role, Sector, User};
use zhicha_server::operator::seed::DEMO_PASSWORD;

use crate::common::{Device, Reply, TestApp};

pub const PASSWORD: &str = "a-good-password-1";

pub async fn call(
    t: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> Reply {
    t.call(method, path, Some(token), body).await
}

pub fn assert_status(reply: &Reply, status: StatusCode) {
    assert_eq!(
        reply.status,
        status,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

pub async fn login_reply(t: &TestApp, username: &str, password: &str, device: DeviceId) -> Reply {
    t.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({ "username": username, "password": password, "device_id": device })),
    )
    .await
}

/// Logs in with `password`; the token.
pub async fn login(t: &TestApp, username: &str, password: &str, device: DeviceId) -> String {
    let reply = login_reply(t, username, password, device).await;
    assert_status(&reply, StatusCode::OK);
    reply.json()["token"].as_str().unwrap().to_owned()
}

pub async fn token_works(t: &TestApp, token: &str) -> bool {
    t.get("/api/v1/bootstrap", token).await.status == StatusCode::OK
}

pub async fn org_named(t: &TestApp, name: &str) -> OrgUnit {
    t.state
        .store
        .orgs()
        .await
        .unwrap()
        .into_iter()
        .find(|o| o.name == name)
        .unwrap()
}

/// Creates an inspector of team 1 over the API; his id.
pub async fn new_inspector(t: &TestApp, admin: &Device, username: &str) -> UserId {
    let team = org_named(t, "综合行政执法一中队").await;
    let reply = call(
        t,
        Method::POST,
        "/api/v1/admin/users",
        &admin.token,
        Some(json!({"username": username, "role": "inspector", "org_id": team.id, "password": PASSWORD})),
    )
    .await;
    assert_status(&reply, StatusCode::CREATED);
    serde_json::from_value(reply.json()["id"].clone()).unwrap()
}

/// A second bureau at the root with one team, an admin (`hangjin-admin`) and a directory entry;
/// (bureau, team, enterprise).
pub async fn second_bureau(t: &TestApp) -> (OrgUnit, OrgUnit, Enterprise) {
    let bureau = OrgUnit {
        id: OrgId::new(),
        parent_id: None,
        name: "杭锦旗应急管理局".into(),
        doc_code: "杭旗应急".into(),
        region: "杭锦旗".into(),
        review_authority: String::new(),
        court: String::new(),
    };
    let team = OrgUnit {
        id: OrgId::new(),
        parent_id: Some(bureau.id),
        name: "杭锦旗执法一中队".into(),
        doc_code: "杭旗应急".into(),
        region: "杭锦旗".into(),
        review_authority: String::new(),
        court: String::new(),
    };
    t.state.store.insert_org(&bureau).await.unwrap();
    t.state.store.insert_org(&team).await.unwrap();
    let hash = t.state.passwords.hash(DEMO_PASSWORD).await.unwrap();
    let admin = User {
        id: UserId::new(),
        username: "hangjin-admin".into(),
        display_name: "杭锦旗管理员".into(),
        role: Role::Admin,
        org_id: bureau.id,
        certificate_no: None,
    };
    assert!(t.state.store.insert_user(&admin, &hash).await.unwrap());
    let enterprise = Enterprise {
        key: false,
        grade: None,
        id: EnterpriseId::new(),
        org_id: bureau.id,
        name: "杭锦旗某化工有限公司".into(),
        credit_code: Some("91150625MA0HANG001".into()),
        address: String::new(),
        county: "杭锦旗".into(),
        township: "锡尼镇".into(),
        sectors: vec![Sector::HazardousChemicals],
        subsectors: vec![],
        legal_representative: String::new(),
        contact_phone: String::new(),
        location: None,
        ad_hoc: false,
        merged_into: None,
    };
    t.state.store.upsert_enterprise(&enterprise).await.unwrap();
    (bureau, team, enterprise)
}

pub async fn import(t: &TestApp, token: &str, org: OrgId, commit: bool, body: Vec<u8>) -> Reply {
    t.send(
        Request::post(format!(
            "/api/v1/admin/enterprises/import?org_id={org}&commit={commit}"
        ))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(body))
        .unwrap(),
    )
    .await
}
