//! Timing: a wrong password for an unknown user name takes as long as for a known one, so the
//! answer time does not tell which names exist. Alone in its test binary, so that no other test
//! competes for the cores while it measures.

mod common;

use std::time::Instant;

use axum::http::StatusCode;
use common::{Backend, TestApp, login_from};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_user_name_takes_as_long_as_a_known_one() {
    an_unknown_user_name_takes_as_long_as_a_known_one_on(Backend::Sqlite).await;
    if let Some(backend) = Backend::postgres().await {
        an_unknown_user_name_takes_as_long_as_a_known_one_on(backend).await;
    }
}

async fn an_unknown_user_name_takes_as_long_as_a_known_one_on(backend: Backend) {
    // The real cost: it is the hashing, not the database, that must take the same time.
    let t = TestApp::start_with(backend, |config| {
        config.auth.argon2_m_kib = argon2::Params::DEFAULT_M_COST;
        config.auth.argon2_t = argon2::Params::DEFAULT_T_COST;
        config.auth.login_max_failures = 1000;
        config.auth.login_max_per_address = 1000;
    })
    .await;
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for i in 0..15 {
        for (name, times) in [("leader1", &mut known), ("no-such-user", &mut unknown)] {
            let started = Instant::now();
            let reply = t
                .send(login_from("192.0.2.20", name, &format!("wrong-{i}")))
                .await;
            times.push(started.elapsed());
            reply.assert_error(StatusCode::UNAUTHORIZED, "bad_credentials");
        }
    }
    known.sort();
    unknown.sort();
    let (known, unknown) = (known[7].as_secs_f64(), unknown[7].as_secs_f64());
    let ratio = unknown / known;
    assert!(
        (0.8..=1.2).contains(&ratio),
        "median wrong-password login: known name {known:.4} s, unknown name {unknown:.4} s"
    );
    t.finish().await;
}
