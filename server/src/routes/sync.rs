//! `POST /sync/push`, `GET /sync/pull` and `GET /sync/receipt`: the sync protocol's endpoints.

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use zhicha_core::protocol::{
    AckStatus, MAX_BATCH_MUTATIONS, MAX_PROBE_ACKED, PullQuery, PullResponse, PushRequest,
    PushResponse, ReceiptQuery, ReceiptResponse,
};

use crate::auth::Session;
use crate::db::sync::{Author, parse_cursor};
use crate::extract::{Json, Query};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sync/push", post(push))
        .route("/sync/pull", get(pull))
        .route("/sync/receipt", get(receipt))
}

/// Applies a batch of mutations in outbox order: idempotent per mutation id, stopping at a
/// seq gap, rejecting invalid mutations without blocking the queue.
#[utoipa::path(
    post,
    path = "/api/v1/sync/push",
    tag = "sync",
    security(("bearer" = [])),
    request_body = PushRequest,
    responses(
        (status = 200, description = "acks, and the expected seq after a gap", body = PushResponse),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "the token belongs to another device", body = zhicha_core::protocol::ErrorResponse),
        (status = 413, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn push(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<PushRequest>,
) -> Result<Json<PushResponse>, ApiError> {
    if request.device_id != session.device_id {
        return Err(ApiError::Forbidden("登录令牌属于另一台设备".to_owned()));
    }
    if request.acked.len() > MAX_PROBE_ACKED {
        return Err(ApiError::BadRequest {
            code: "probe_too_large",
            message: format!("一次最多核对 {MAX_PROBE_ACKED} 条已确认的修改"),
            field: Some("acked".to_owned()),
        });
    }
    if request.mutations.len() > MAX_BATCH_MUTATIONS {
        return Err(ApiError::BadRequest {
            code: "batch_too_large",
            message: format!("一次最多提交 {MAX_BATCH_MUTATIONS} 条修改"),
            field: Some("mutations".to_owned()),
        });
    }
    let author = Author::new(&session.user, &session.scope, &session.orgs)
        .with_device_time(request.device_time);
    let response = state
        .store
        .push(
            &author,
            session.device_id,
            &request.mutations,
            request.next_seq,
            &request.acked,
        )
        .await?;
    let count = |status| response.acks.iter().filter(|a| a.status == status).count();
    tracing::info!(
        user = %session.user.username,
        device = %session.device_id,
        applied = count(AckStatus::Applied),
        duplicate = count(AckStatus::Duplicate),
        rejected = count(AckStatus::Rejected),
        gap = ?response.gap.map(|g| g.expected),
        "push"
    );
    Ok(Json(response))
}

/// The changes visible to the caller after `cursor`, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/sync/pull",
    tag = "sync",
    security(("bearer" = [])),
    params(
        ("cursor" = Option<String>, Query, description = "opaque cursor from the previous page; absent on the first pull"),
        ("limit" = Option<u32>, Query, description = "page size, default 200, at most 1000"),
    ),
    responses(
        (status = 200, body = PullResponse),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn pull(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<PullQuery>,
) -> Result<Json<PullResponse>, ApiError> {
    let cursor = parse_cursor(query.cursor.as_deref())
        .ok_or_else(|| ApiError::invalid_field("cursor", "无效的同步游标"))?;
    let directory = session.directory_scope();
    let page = state
        .store
        .pull(&session.scope, &directory, cursor, query.effective_limit())
        .await?;
    Ok(Json(page))
}

/// What the server holds of an inspection: its rev and which of its photos have arrived.
#[utoipa::path(
    get,
    path = "/api/v1/sync/receipt",
    tag = "sync",
    security(("bearer" = [])),
    params(("inspection" = String, Query, description = "inspection id")),
    responses(
        (status = 200, body = ReceiptResponse),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, body = zhicha_core::protocol::ErrorResponse),
        (status = 404, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn receipt(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ReceiptQuery>,
) -> Result<Json<ReceiptResponse>, ApiError> {
    let (org, rev) = state
        .store
        .inspection_head(query.inspection)
        .await?
        .ok_or(ApiError::NotFound)?;
    session.require_org(org)?;
    let (expected, present) = state.store.inspection_photos(query.inspection).await?;
    Ok(Json(ReceiptResponse::new(
        query.inspection,
        rev,
        expected,
        present,
    )))
}
