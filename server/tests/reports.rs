//! 举报 from the public page (issue #23), on SQLite and PostgreSQL: sent without login after a
//! one-use question, followed by its tracking code, accepted and answered by a leader of the
//! unit (the reporter then reads the answer); abuse limits (wrong or reused answers, too many
//! from one address, photos that are not photos, text too long) each refused with its field.

mod common;

use axum::http::{Method, StatusCode};
use base64::Engine as _;
use serde_json::{Value, json};
use zhicha_core::complaint::{Challenge, ReportList, ReportStatus, ReportUnit};

use common::{Backend, TestApp, jpeg};

on_both_backends!(
    a_report_is_sent_followed_accepted_and_answered,
    abuse_is_refused_field_by_field_and_by_address,
);

async fn challenge(t: &TestApp) -> (Challenge, String) {
    let reply = t
        .call(Method::GET, "/api/v1/public/challenge", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let challenge: Challenge = serde_json::from_slice(&reply.body).unwrap();
    // "a 加 b 等于几？"
    let numbers: Vec<u32> = challenge
        .question
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    let answer = (numbers[0] + numbers[1]).to_string();
    (challenge, answer)
}

async fn unit(t: &TestApp) -> ReportUnit {
    let reply = t
        .call(Method::GET, "/api/v1/public/units", None, None)
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    let units: Vec<ReportUnit> = serde_json::from_slice(&reply.body).unwrap();
    units.into_iter().next().expect("a unit takes reports")
}

fn body(unit: &ReportUnit, challenge: &Challenge, answer: &str, photos: Vec<String>) -> Value {
    json!({
        "unit": unit.id,
        "text": "物流园 3 号库安全出口被货物堵死，夜里还有人住在库里",
        "place": "达拉特旗某物流园 3 号库",
        "contact": "",
        "photos": photos,
        "challenge_id": challenge.id,
        "challenge_answer": answer,
    })
}

async fn a_report_is_sent_followed_accepted_and_answered(backend: Backend) {
    let t = TestApp::start(backend).await;
    let unit = unit(&t).await;
    let (question, answer) = challenge(&t).await;
    let photo = base64::engine::general_purpose::STANDARD.encode(jpeg(2_000, 7));
    let reply = t
        .call(
            Method::POST,
            "/api/v1/public/reports",
            None,
            Some(body(&unit, &question, &answer, vec![photo])),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let sent: ReportStatus = serde_json::from_slice(&reply.body).unwrap();
    assert_eq!(sent.code.len(), 12);
    assert!(sent.accept_due > zhicha_core::time::china_date(sent.received_at));

    // The code shows where it stands, to anyone holding it (lower case too).
    let follow = |code: String| {
        let t = &t;
        async move {
            let reply = t
                .call(
                    Method::GET,
                    &format!("/api/v1/public/reports/{code}"),
                    None,
                    None,
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK);
            serde_json::from_slice::<ReportStatus>(&reply.body).unwrap()
        }
    };
    assert_eq!(
        follow(sent.code.to_lowercase()).await.state.wire(),
        "received"
    );
    let reply = t
        .call(
            Method::GET,
            "/api/v1/public/reports/NOSUCHCODE99",
            None,
            None,
        )
        .await;
    reply.assert_error(StatusCode::NOT_FOUND, "not_found");

    // An inspector does not handle reports; the leader finds it with its photo.
    let inspector = t.login("inspector1").await;
    t.get("/api/v1/reports", &inspector.token)
        .await
        .assert_error(StatusCode::FORBIDDEN, "forbidden");
    let leader = t.login("leader1").await;
    let reply = t.get("/api/v1/reports", &leader.token).await;
    let list: ReportList = serde_json::from_slice(&reply.body).unwrap();
    let report = list
        .reports
        .iter()
        .find(|r| r.status.code == sent.code)
        .expect("the leader sees the report");
    assert_eq!(report.photos, 1);
    assert!(!report.overdue);
    let reply = t
        .get(
            &format!("/api/v1/reports/{}/photos/0", report.id),
            &leader.token,
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body.to_vec(), jpeg(2_000, 7));

    // Answering before accepting is refused; then accepted and answered.
    let decide = |decision: Value| {
        let (t, leader, id) = (&t, &leader, report.id);
        async move {
            t.call(
                Method::POST,
                &format!("/api/v1/reports/{id}/decision"),
                Some(&leader.token),
                Some(decision),
            )
            .await
        }
    };
    decide(json!({ "decision": "answer", "answer": "已核查" }))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid_transition");
    let reply = decide(json!({ "decision": "accept" })).await;
    assert_eq!(
        reply.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    let accepted = follow(sent.code.clone()).await;
    assert_eq!(accepted.state.wire(), "accepted");
    assert!(accepted.answer_due.is_some());
    let reply = decide(
        json!({ "decision": "answer", "answer": "经现场核查属实，已责令立即清理并立案查处。" }),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    let answered = follow(sent.code.clone()).await;
    assert_eq!(answered.state.wire(), "answered");
    assert_eq!(
        answered.answer,
        "经现场核查属实，已责令立即清理并立案查处。"
    );
    // Nothing says who handled it.
    let raw = t
        .call(
            Method::GET,
            &format!("/api/v1/public/reports/{}", sent.code),
            None,
            None,
        )
        .await;
    assert!(!String::from_utf8_lossy(&raw.body).contains(&leader.user.id.to_string()));
    t.finish().await;
}

async fn abuse_is_refused_field_by_field_and_by_address(backend: Backend) {
    let t = TestApp::start(backend).await;
    let unit = unit(&t).await;
    let send = |body: Value| {
        let t = &t;
        async move {
            // Every call from the same address, as one sender.
            let request = axum::http::Request::post("/api/v1/public/reports")
                .header("content-type", "application/json")
                .body(axum::body::Body::from(body.to_string()))
                .unwrap();
            let mut request = request;
            let peer: std::net::SocketAddr = "203.0.113.9:40000".parse().unwrap();
            request
                .extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            t.send(request).await
        }
    };
    // A wrong answer uses the question up: the right answer after it is refused too.
    let (question, answer) = challenge(&t).await;
    send(body(&unit, &question, "999", vec![]))
        .await
        .assert_error(StatusCode::BAD_REQUEST, "invalid");
    let reply = send(body(&unit, &question, &answer, vec![])).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(reply.json()["error"]["field"], "challenge_answer");
    // Not a photo.
    let (question, answer) = challenge(&t).await;
    let text = base64::engine::general_purpose::STANDARD.encode(b"<html>not a photo</html>");
    let reply = send(body(&unit, &question, &answer, vec![text])).await;
    reply.assert_error(StatusCode::BAD_REQUEST, "invalid");
    assert_eq!(reply.json()["error"]["field"], "photos");
    // Too long.
    let (question, answer) = challenge(&t).await;
    let mut long = body(&unit, &question, &answer, vec![]);
    long["text"] = json!("堵".repeat(2_001));
    let reply = send(long).await;
    assert_eq!(reply.json()["error"]["field"], "text");
    // Five an hour from one address, then 429.
    for _ in 0..5 {
        let (question, answer) = challenge(&t).await;
        let reply = send(body(&unit, &question, &answer, vec![])).await;
        assert_eq!(
            reply.status,
            StatusCode::CREATED,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
    }
    let (question, answer) = challenge(&t).await;
    send(body(&unit, &question, &answer, vec![]))
        .await
        .assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    // Another address is not held back.
    let (question, answer) = challenge(&t).await;
    let reply = t
        .call(
            Method::POST,
            "/api/v1/public/reports",
            None,
            Some(body(&unit, &question, &answer, vec![])),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED);
    t.finish().await;
}
