//! Liveness (`/healthz`, `/api/v1/health`) and readiness (`/readyz`).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::AppState;

/// Below this much free space in the data folder the server is not ready: uploads and the
/// database would start failing.
pub const MIN_FREE_DISK_BYTES: u64 = 512 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/health", get(healthz))
}

/// `GET /healthz`: the process is up and answering.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

/// `GET /readyz`: 200 when the database answers, the photo store answers and the data folder
/// has room; otherwise 503 naming what failed. For a load balancer or a monitor: a replica
/// that is not ready gets no traffic.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    // Details of a failure go to the log, not to whoever asks.
    let limit = Duration::from_secs(3);
    let database = match tokio::time::timeout(limit, state.store.ping()).await {
        Ok(Ok(())) => json!({ "ok": true }),
        Ok(Err(e)) => failed("database", &e),
        Err(_) => failed("database", &"no answer within 3 s"),
    };
    let photos = match tokio::time::timeout(limit, state.photos.ping()).await {
        Ok(Ok(())) => json!({ "ok": true }),
        Ok(Err(e)) => failed("photo store", &e),
        Err(_) => failed("photo store", &"no answer within 3 s"),
    };
    let disk = match free_disk_bytes(&state.config.data) {
        Ok(free) => json!({
            "ok": free >= MIN_FREE_DISK_BYTES,
            "free_bytes": free,
            "min_bytes": MIN_FREE_DISK_BYTES,
        }),
        Err(e) => failed("disk", &e),
    };
    let ready = [&database, &photos, &disk]
        .iter()
        .all(|check| check["ok"] == true);
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        Json(json!({
            "status": if ready { "ready" } else { "not_ready" },
            "database": database,
            "photos": photos,
            "disk": disk,
        })),
    )
}

fn failed(what: &str, error: &dyn std::fmt::Display) -> Value {
    tracing::warn!(%error, "readiness: {what} failed");
    json!({ "ok": false })
}

/// Bytes free for an unprivileged writer on the file system of `path`.
pub fn free_disk_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(path)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}
