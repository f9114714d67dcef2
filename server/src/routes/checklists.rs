//! `GET /checklists/{id}/{version}`: one checklist pack, as embedded in zhicha-core.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use zhicha_core::protocol::PackSummary;

use crate::auth::Session;
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/checklists/{id}/{version}", get(pack))
}

/// The summaries of every pack the server ships, for bootstrap.
pub fn summaries() -> Vec<PackSummary> {
    Vec::new()
}

/// One checklist pack version.
#[utoipa::path(
    get,
    path = "/api/v1/checklists/{id}/{version}",
    tag = "checklists",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "pack id, e.g. coal-underground"),
        ("version" = u32, Path, description = "pack version"),
    ),
    responses(
        (status = 200, description = "the pack"),
        (status = 404, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn pack(
    State(_state): State<AppState>,
    _session: Session,
    Path((_id, _version)): Path<(String, u32)>,
) -> Result<Json<serde_json::Value>, ApiError> {
    Err(ApiError::NotFound)
}
