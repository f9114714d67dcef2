//! `GET /checklists/{id}/{version}`: one checklist pack, as embedded in zhicha-core.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use zhicha_core::packs::{self, ChecklistPack};
use zhicha_core::protocol::PackSummary;

use crate::auth::Session;
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/checklists/{id}/{version}", get(pack))
}

/// Every pack version the server ships (old versions too: drafts made with them stay
/// readable), for bootstrap.
pub fn summaries() -> Vec<PackSummary> {
    packs::all().iter().map(ChecklistPack::summary).collect()
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
        (status = 200, body = ChecklistPack),
        (status = 404, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn pack(
    State(_state): State<AppState>,
    _session: Session,
    Path((id, version)): Path<(String, u32)>,
) -> Result<Json<&'static ChecklistPack>, ApiError> {
    packs::get(&id, version).map(Json).ok_or(ApiError::NotFound)
}
