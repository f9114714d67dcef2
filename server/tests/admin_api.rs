//! The web admin's API (`/api/v1/admin/…`) on SQLite and PostgreSQL: accounts, sessions and
//! org units, each only for an admin, within his own bureau (the directory: `admin_directory`).

mod admin_support;
mod common;

use admin_support::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use common::{Backend, TestApp};
use serde_json::{Value, json};
use zhicha_core::ids::{DeviceId, OrgId, UserId};
use zhicha_core::model::OrgUnit;
use zhicha_server::operator::seed::DEMO_PASSWORD;

on_both_backends!(
    accounts_are_managed_over_http,
    sessions_end_when_an_account_is_disabled_reset_or_revoked,
    a_bureau_admin_stays_in_his_bureau,
    inspectors_and_leaders_are_refused_everywhere,
    openapi_describes_the_admin_calls,
);

async fn openapi_describes_the_admin_calls(backend: Backend) {
    let t = TestApp::start(backend).await;
    let doc = t
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json();
    for (path, method) in [
        ("/api/v1/admin/users", "get"),
        ("/api/v1/admin/users", "post"),
        ("/api/v1/admin/users/{id}", "patch"),
        ("/api/v1/admin/users/{id}/password", "post"),
        ("/api/v1/admin/users/{id}/sessions", "get"),
        ("/api/v1/admin/users/{id}/revoke", "post"),
        ("/api/v1/admin/orgs", "get"),
        ("/api/v1/admin/orgs", "post"),
        ("/api/v1/admin/orgs/{id}", "patch"),
        ("/api/v1/admin/enterprises", "get"),
        ("/api/v1/admin/enterprises/import", "post"),
        ("/api/v1/admin/enterprises/{id}/merge", "post"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    for schema in [
        "AdminUser",
        "NewUser",
        "UserUpdate",
        "ImportReport",
        "MergeRequest",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    t.finish().await;
}

async fn accounts_are_managed_over_http(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let team = org_named(&t, "综合行政执法一中队").await;
    let users = call(&t, Method::GET, "/api/v1/admin/users", &admin.token, None).await;
    assert_status(&users, StatusCode::OK);
    let users = users.json();
    let names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    // By org unit, then user name: the team's accounts together and in order.
    let team1: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| ["inspector1", "inspector2", "leader1"].contains(n))
        .collect();
    assert_eq!(team1, ["inspector1", "inspector2", "leader1"]);

    // Create: the display name defaults to the user name; the new account logs in.
    let create = |body: Value| {
        call(
            &t,
            Method::POST,
            "/api/v1/admin/users",
            &admin.token,
            Some(body),
        )
    };
    let created = create(json!({"username": "inspector9", "role": "inspector", "org_id": team.id, "password": PASSWORD, "certificate_no": "15062109"})).await;
    assert_status(&created, StatusCode::CREATED);
    let body = created.json();
    assert_eq!(body["display_name"], "inspector9");
    assert_eq!(body["active"], true);
    assert_eq!(body["certificate_no"], "15062109");
    let id: UserId = serde_json::from_value(body["id"].clone()).unwrap();
    login(&t, "inspector9", PASSWORD, DeviceId::new()).await;
    create(json!({"username": "inspector9", "role": "inspector", "org_id": team.id, "password": PASSWORD}))
        .await
        .assert_error(StatusCode::CONFLICT, "conflict");
    for (body, field) in [
        (
            json!({"username": "x1", "role": "inspector", "org_id": team.id, "password": DEMO_PASSWORD}),
            "password",
        ),
        (
            json!({"username": "x2", "role": "inspector", "org_id": team.id, "password": "short"}),
            "password",
        ),
        (
            json!({"username": "", "role": "inspector", "org_id": team.id, "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "has space", "role": "inspector", "org_id": team.id, "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x".repeat(33), "role": "inspector", "org_id": team.id, "password": PASSWORD}),
            "username",
        ),
        (
            json!({"username": "x3", "role": "inspector", "org_id": OrgId::new(), "password": PASSWORD}),
            "org_id",
        ),
        (
            json!({"username": "x4", "display_name": "名\0字", "role": "inspector", "org_id": team.id, "password": PASSWORD}),
            "display_name",
        ),
    ] {
        let reply = create(body).await;
        reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
        assert_eq!(reply.json()["error"]["field"], field);
    }
    let demo = create(json!({"username": "x1", "role": "inspector", "org_id": team.id, "password": DEMO_PASSWORD})).await;
    assert!(
        demo.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("演示密码")
    );
    // Not JSON at all: a 4xx JSON error, never a 5xx.
    let raw = t
        .send(
            Request::post("/api/v1/admin/users")
                .header(header::AUTHORIZATION, format!("Bearer {}", admin.token))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{"))
                .unwrap(),
        )
        .await;
    raw.assert_error(StatusCode::BAD_REQUEST, "malformed_json");

    // Change: the fields given change, the others stay; an empty 执法证号 clears it.
    let path = format!("/api/v1/admin/users/{id}");
    let changed = call(
        &t,
        Method::PATCH,
        &path,
        &admin.token,
        Some(json!({"display_name": "新队员", "role": "leader", "certificate_no": ""})),
    )
    .await;
    assert_status(&changed, StatusCode::OK);
    let body = changed.json();
    assert_eq!(
        (body["display_name"].as_str(), body["role"].as_str()),
        (Some("新队员"), Some("leader"))
    );
    assert!(body["certificate_no"].is_null());
    assert_eq!(body["org_id"], json!(team.id));
    call(
        &t,
        Method::PATCH,
        &format!("/api/v1/admin/users/{}", UserId::new()),
        &admin.token,
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    call(
        &t,
        Method::PATCH,
        "/api/v1/admin/users/not-an-id",
        &admin.token,
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid_path");

    // The admin may not disable, demote or move himself.
    let own = format!("/api/v1/admin/users/{}", admin.user.id);
    for body in [
        json!({"active": false}),
        json!({"role": "inspector"}),
        json!({"org_id": team.id}),
    ] {
        call(&t, Method::PATCH, &own, &admin.token, Some(body))
            .await
            .assert_error(StatusCode::CONFLICT, "conflict");
    }
    let reply = call(
        &t,
        Method::PATCH,
        &own,
        &admin.token,
        Some(json!({"active": false})),
    )
    .await;
    assert!(
        reply.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("不能停用自己的账号")
    );
    // What does not change is fine.
    assert_status(
        &call(
            &t,
            Method::PATCH,
            &own,
            &admin.token,
            Some(json!({"active": true, "role": "admin", "display_name": "管理员"})),
        )
        .await,
        StatusCode::OK,
    );

    // Org units: a team under his bureau takes the bureau's document code and region.
    let bureau = org_named(&t, "达拉特旗应急管理局").await;
    let made = call(
        &t,
        Method::POST,
        "/api/v1/admin/orgs",
        &admin.token,
        Some(json!({"parent_id": bureau.id, "name": " 综合行政执法三中队 "})),
    )
    .await;
    assert_status(&made, StatusCode::CREATED);
    let unit: OrgUnit = serde_json::from_value(made.json()).unwrap();
    assert_eq!(
        (
            unit.name.as_str(),
            unit.doc_code.as_str(),
            unit.region.as_str()
        ),
        ("综合行政执法三中队", "达旗应急", "达拉特旗")
    );
    assert_eq!(unit.parent_id, Some(bureau.id));
    call(
        &t,
        Method::POST,
        "/api/v1/admin/orgs",
        &admin.token,
        Some(json!({"parent_id": bureau.id, "name": "  "})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid");
    call(
        &t,
        Method::POST,
        "/api/v1/admin/orgs",
        &admin.token,
        Some(json!({"parent_id": OrgId::new(), "name": "甲"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid");
    let renamed = call(
        &t,
        Method::PATCH,
        &format!("/api/v1/admin/orgs/{}", unit.id),
        &admin.token,
        Some(json!({"name": "执法三中队", "region": "树林召镇"})),
    )
    .await;
    assert_status(&renamed, StatusCode::OK);
    assert_eq!(renamed.json()["doc_code"], "达旗应急");
    assert_eq!(org_named(&t, "执法三中队").await.region, "树林召镇");
    let orgs = call(&t, Method::GET, "/api/v1/admin/orgs", &admin.token, None).await;
    assert_eq!(orgs.json().as_array().unwrap().len(), 4);

    // The rights notice (权利告知): the bureau names its 行政复议机关 and court; a new team leaves
    // them empty (the bureau's apply), an admin may set the team's own and read them back.
    assert_eq!(
        (bureau.review_authority.as_str(), bureau.court.as_str()),
        ("达拉特旗人民政府", "达拉特旗人民法院")
    );
    assert_eq!(
        (unit.review_authority.as_str(), unit.court.as_str()),
        ("", "")
    );
    let noticed = call(
        &t,
        Method::PATCH,
        &format!("/api/v1/admin/orgs/{}", unit.id),
        &admin.token,
        Some(
            json!({"review_authority": " 鄂尔多斯市人民政府 ", "court": "鄂尔多斯市中级人民法院"}),
        ),
    )
    .await;
    assert_status(&noticed, StatusCode::OK);
    assert_eq!(noticed.json()["review_authority"], "鄂尔多斯市人民政府");
    assert_eq!(noticed.json()["name"], "执法三中队");
    let orgs = call(&t, Method::GET, "/api/v1/admin/orgs", &admin.token, None).await;
    let listed: Vec<OrgUnit> = serde_json::from_value(orgs.json()).unwrap();
    let listed = listed.iter().find(|o| o.id == unit.id).unwrap();
    assert_eq!(
        (listed.review_authority.as_str(), listed.court.as_str()),
        ("鄂尔多斯市人民政府", "鄂尔多斯市中级人民法院")
    );
    assert_eq!(listed.region, "树林召镇");
    let too_long = "人".repeat(51);
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/api/v1/admin/orgs/{}", unit.id),
            json!({"court": too_long}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/admin/orgs/{}", unit.id),
            json!({"review_authority": too_long}),
        ),
        (
            Method::POST,
            "/api/v1/admin/orgs".to_owned(),
            json!({"parent_id": bureau.id, "name": "甲", "court": too_long}),
        ),
    ] {
        let refused = call(&t, method, &path, &admin.token, Some(body)).await;
        refused.assert_error(StatusCode::BAD_REQUEST, "invalid");
        let message = refused.json()["error"]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains("不能超过 50 个字"), "{message}");
    }
    // Clearing them: the bureau's apply again; nothing else changed.
    let cleared = call(
        &t,
        Method::PATCH,
        &format!("/api/v1/admin/orgs/{}", unit.id),
        &admin.token,
        Some(json!({"review_authority": "", "court": ""})),
    )
    .await;
    assert_status(&cleared, StatusCode::OK);
    let stored = org_named(&t, "执法三中队").await;
    assert_eq!(
        (stored.review_authority.as_str(), stored.court.as_str()),
        ("", "")
    );
    assert_eq!(stored.doc_code, "达旗应急");
    assert_eq!(
        org_named(&t, "达拉特旗应急管理局").await.court,
        "达拉特旗人民法院"
    );
    // Moving an account into the new team.
    let moved = call(
        &t,
        Method::PATCH,
        &path,
        &admin.token,
        Some(json!({"org_id": unit.id})),
    )
    .await;
    assert_eq!(moved.json()["org_id"], json!(unit.id));
    t.finish().await;
}

async fn sessions_end_when_an_account_is_disabled_reset_or_revoked(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let id = new_inspector(&t, &admin, "inspector9").await;
    let user = format!("/api/v1/admin/users/{id}");
    let phone = login(&t, "inspector9", PASSWORD, DeviceId::new()).await;
    let tablet = login(&t, "inspector9", PASSWORD, DeviceId::new()).await;
    let sessions = call(
        &t,
        Method::GET,
        &format!("{user}/sessions"),
        &admin.token,
        None,
    )
    .await;
    assert_status(&sessions, StatusCode::OK);
    let sessions = sessions.json();
    assert_eq!(sessions.as_array().unwrap().len(), 2, "{sessions}");
    let code = sessions[1]["device_code"].as_str().unwrap().to_owned();
    assert!(sessions[0]["since"].is_string() && sessions[0]["until"].is_string());

    // One phone lost: its session ends by its code, the other stays.
    let revoked = call(
        &t,
        Method::POST,
        &format!("{user}/revoke"),
        &admin.token,
        Some(json!({"device": code})),
    )
    .await;
    assert_status(&revoked, StatusCode::OK);
    assert_eq!(revoked.json()["revoked"], 1);
    assert!(token_works(&t, &phone).await);
    assert!(!token_works(&t, &tablet).await);
    let none = call(
        &t,
        Method::POST,
        &format!("{user}/revoke"),
        &admin.token,
        Some(json!({"device": "Z9"})),
    )
    .await;
    assert_eq!(none.json()["revoked"], 0);

    // Disabled: the session ends at once and he cannot log in; enabled: he can again.
    let off = call(
        &t,
        Method::PATCH,
        &user,
        &admin.token,
        Some(json!({"active": false})),
    )
    .await;
    assert_status(&off, StatusCode::OK);
    assert_eq!(off.json()["active"], false);
    assert!(!token_works(&t, &phone).await);
    login_reply(&t, "inspector9", PASSWORD, DeviceId::new())
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let listed = call(&t, Method::GET, "/api/v1/admin/users", &admin.token, None)
        .await
        .json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "inspector9" && u["active"] == false)
    );
    let on = call(
        &t,
        Method::PATCH,
        &user,
        &admin.token,
        Some(json!({"active": true})),
    )
    .await;
    assert_eq!(on.json()["active"], true);
    let phone = login(&t, "inspector9", PASSWORD, DeviceId::new()).await;

    // A new password: every session ends, the old password no longer works, the new one does.
    let reset = format!("{user}/password");
    call(
        &t,
        Method::POST,
        &reset,
        &admin.token,
        Some(json!({"password": DEMO_PASSWORD})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid");
    call(
        &t,
        Method::POST,
        &reset,
        &admin.token,
        Some(json!({"password": "short"})),
    )
    .await
    .assert_error(StatusCode::BAD_REQUEST, "invalid");
    assert!(token_works(&t, &phone).await);
    let done = call(
        &t,
        Method::POST,
        &reset,
        &admin.token,
        Some(json!({"password": "another-password-2"})),
    )
    .await;
    assert_status(&done, StatusCode::NO_CONTENT);
    assert!(!token_works(&t, &phone).await);
    login_reply(&t, "inspector9", PASSWORD, DeviceId::new())
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
    let phone = login(&t, "inspector9", "another-password-2", DeviceId::new()).await;

    // Revoke without a device: all of them.
    let all = call(
        &t,
        Method::POST,
        &format!("{user}/revoke"),
        &admin.token,
        Some(json!({})),
    )
    .await;
    assert_eq!(all.json()["revoked"], 1);
    assert!(!token_works(&t, &phone).await);
    let empty = call(
        &t,
        Method::GET,
        &format!("{user}/sessions"),
        &admin.token,
        None,
    )
    .await;
    assert_eq!(empty.json(), json!([]));
    // The admin resetting his own password keeps the session he does it from.
    let own = format!("/api/v1/admin/users/{}/password", admin.user.id);
    assert_status(
        &call(
            &t,
            Method::POST,
            &own,
            &admin.token,
            Some(json!({"password": "admin-password-3"})),
        )
        .await,
        StatusCode::NO_CONTENT,
    );
    assert!(token_works(&t, &admin.token).await);
    t.finish().await;
}

async fn a_bureau_admin_stays_in_his_bureau(backend: Backend) {
    let t = TestApp::start(backend).await;
    let (bureau, team, enterprise) = second_bureau(&t).await;
    let admin = t.login("admin").await;
    let stranger = t.login("hangjin-admin").await;
    let stranger_path = format!("/api/v1/admin/users/{}", stranger.user.id);

    // Not listed, not reachable.
    let users = call(&t, Method::GET, "/api/v1/admin/users", &admin.token, None)
        .await
        .json();
    assert!(
        !users
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["username"] == "hangjin-admin")
    );
    let theirs = call(
        &t,
        Method::GET,
        "/api/v1/admin/users",
        &stranger.token,
        None,
    )
    .await
    .json();
    assert_eq!(theirs.as_array().unwrap().len(), 1, "{theirs}");
    call(
        &t,
        Method::PATCH,
        &stranger_path,
        &admin.token,
        Some(json!({"active": false})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    call(
        &t,
        Method::POST,
        &format!("{stranger_path}/password"),
        &admin.token,
        Some(json!({"password": PASSWORD})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    call(
        &t,
        Method::GET,
        &format!("{stranger_path}/sessions"),
        &admin.token,
        None,
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    call(
        &t,
        Method::POST,
        &format!("{stranger_path}/revoke"),
        &admin.token,
        Some(json!({})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(token_works(&t, &stranger.token).await);
    // Nor may he put accounts or units into the other bureau, or move his own there.
    call(&t, Method::POST, "/api/v1/admin/users", &admin.token, Some(json!({"username": "spy", "role": "inspector", "org_id": team.id, "password": PASSWORD}))).await.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let inspector1 = t.login("inspector1").await;
    call(
        &t,
        Method::PATCH,
        &format!("/api/v1/admin/users/{}", inspector1.user.id),
        &admin.token,
        Some(json!({"org_id": team.id})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let orgs = call(&t, Method::GET, "/api/v1/admin/orgs", &admin.token, None)
        .await
        .json();
    assert!(
        !orgs
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == json!(bureau.id) || o["id"] == json!(team.id))
    );
    call(
        &t,
        Method::POST,
        "/api/v1/admin/orgs",
        &admin.token,
        Some(json!({"parent_id": bureau.id, "name": "渗透中队"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &t,
        Method::POST,
        "/api/v1/admin/orgs",
        &admin.token,
        Some(json!({"name": "新旗应急管理局"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &t,
        Method::PATCH,
        &format!("/api/v1/admin/orgs/{}", team.id),
        &admin.token,
        Some(json!({"name": "改名"})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    // The other bureau's directory: not listed, not imported into, its entries not merged.
    let list = call(
        &t,
        Method::GET,
        "/api/v1/admin/enterprises?limit=1000",
        &admin.token,
        None,
    )
    .await
    .json();
    assert!(
        !list["enterprises"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == json!(enterprise.id))
    );
    assert_eq!(list["total"], list["enterprises"].as_array().unwrap().len());
    let csv = "单位名称,苏木镇,行业领域\n某公司,锡尼镇,工贸\n";
    let reply = import(&t, &admin.token, bureau.id, false, csv.as_bytes().to_vec()).await;
    reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
    let merge = call(
        &t,
        Method::POST,
        &format!("/api/v1/admin/enterprises/{}/merge", enterprise.id),
        &admin.token,
        Some(json!({"into": enterprise.id})),
    )
    .await;
    merge.assert_error(StatusCode::NOT_FOUND, "not_found");

    // A superuser manages every bureau, and may add a root one; a bureau admin cannot touch his
    // account.
    assert!(
        t.state
            .store
            .set_superuser("hangjin-admin", true)
            .await
            .unwrap()
    );
    let all = call(
        &t,
        Method::GET,
        "/api/v1/admin/users",
        &stranger.token,
        None,
    )
    .await
    .json();
    assert_eq!(all.as_array().unwrap().len(), 6);
    let root = call(
        &t,
        Method::POST,
        "/api/v1/admin/orgs",
        &stranger.token,
        Some(json!({"name": "准格尔旗应急管理局", "doc_code": "准旗应急", "region": "准格尔旗"})),
    )
    .await;
    assert_status(&root, StatusCode::CREATED);
    assert!(root.json()["parent_id"].is_null());
    let list = call(
        &t,
        Method::GET,
        "/api/v1/admin/enterprises?limit=1000",
        &stranger.token,
        None,
    )
    .await
    .json();
    assert!(
        list["enterprises"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == json!(enterprise.id))
    );
    assert_status(
        &call(
            &t,
            Method::PATCH,
            &format!("/api/v1/admin/users/{}", admin.user.id),
            &stranger.token,
            Some(json!({"display_name": "达旗管理员"})),
        )
        .await,
        StatusCode::OK,
    );
    call(
        &t,
        Method::PATCH,
        &stranger_path,
        &admin.token,
        Some(json!({"display_name": "x"})),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    // A superuser placed inside the demo bureau is still out of a bureau admin's reach.
    let demo_bureau = org_named(&t, "达拉特旗应急管理局").await;
    call(
        &t,
        Method::PATCH,
        &stranger_path,
        &stranger.token,
        Some(json!({"org_id": demo_bureau.id})),
    )
    .await
    .assert_error(StatusCode::CONFLICT, "conflict");
    let mut db = t.database().await;
    sqlx::query("UPDATE users SET org_id = $1 WHERE username = 'hangjin-admin'")
        .bind(demo_bureau.id.to_string())
        .execute(&mut db)
        .await
        .unwrap();
    call(
        &t,
        Method::PATCH,
        &stranger_path,
        &admin.token,
        Some(json!({"display_name": "x"})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    call(
        &t,
        Method::POST,
        &format!("{stranger_path}/password"),
        &admin.token,
        Some(json!({"password": PASSWORD})),
    )
    .await
    .assert_error(StatusCode::FORBIDDEN, "forbidden");
    t.finish().await;
}

async fn inspectors_and_leaders_are_refused_everywhere(backend: Backend) {
    let t = TestApp::start(backend).await;
    let admin = t.login("admin").await;
    let target = admin.user.id;
    let org = admin.user.org_id;
    let enterprise = t.some_enterprise(&admin).await;
    let rows: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/api/v1/admin/users".into(), None),
        (
            Method::POST,
            "/api/v1/admin/users".into(),
            Some(json!({"username": "x9", "role": "admin", "org_id": org, "password": PASSWORD})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/admin/users/{target}"),
            Some(json!({"active": false})),
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/password"),
            Some(json!({"password": PASSWORD})),
        ),
        (
            Method::GET,
            format!("/api/v1/admin/users/{target}/sessions"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/admin/users/{target}/revoke"),
            Some(json!({})),
        ),
        (Method::GET, "/api/v1/admin/orgs".into(), None),
        (
            Method::POST,
            "/api/v1/admin/orgs".into(),
            Some(json!({"parent_id": org, "name": "甲"})),
        ),
        (
            Method::PATCH,
            format!("/api/v1/admin/orgs/{org}"),
            Some(json!({"name": "乙"})),
        ),
        (Method::GET, "/api/v1/admin/enterprises".into(), None),
        (
            Method::POST,
            format!("/api/v1/admin/enterprises/{enterprise}/merge"),
            Some(json!({"into": enterprise})),
        ),
    ];
    for username in ["inspector1", "leader1"] {
        let device = t.login(username).await;
        for (method, path, body) in &rows {
            let reply = call(&t, method.clone(), path, &device.token, body.clone()).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{username} {method} {path}"
            );
            reply.assert_error(StatusCode::FORBIDDEN, "forbidden");
        }
        let csv = "单位名称,苏木镇,行业领域\n某公司,树林召镇,工贸\n";
        import(&t, &device.token, org, true, csv.as_bytes().to_vec())
            .await
            .assert_error(StatusCode::FORBIDDEN, "forbidden");
    }
    // Nothing changed: the admin still works and the directory holds no 某公司.
    assert!(token_works(&t, &admin.token).await);
    let list = call(
        &t,
        Method::GET,
        "/api/v1/admin/enterprises?q=某公司",
        &admin.token,
        None,
    )
    .await
    .json();
    assert_eq!(list["total"], 0);
    t.finish().await;
}
