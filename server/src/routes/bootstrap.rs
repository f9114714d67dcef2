//! `GET /bootstrap`: everything a device needs to work a whole day offline.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::Utc;
use zhicha_core::protocol::BootstrapResponse;

use crate::auth::Session;
use crate::extract::Json;
use crate::routes::checklists;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/bootstrap", get(bootstrap))
}

/// The user, their roster, checklist packs, the enterprise directory of their org and the
/// open findings of their scope.
#[utoipa::path(
    get,
    path = "/api/v1/bootstrap",
    tag = "sync",
    security(("bearer" = [])),
    responses(
        (status = 200, body = BootstrapResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn bootstrap(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<BootstrapResponse>, ApiError> {
    let scope_ids = session.scope.org_ids();
    let directory = session.directory_scope();
    let directory_ids = directory.org_ids();
    let roster = state.store.users_in(scope_ids.as_deref()).await?;
    let enterprises = state.store.enterprises_in(directory_ids.as_deref()).await?;
    let open_findings = state.store.open_findings_in(scope_ids.as_deref()).await?;
    let orgs = session
        .orgs
        .iter()
        .filter(|o| directory.contains(o.id))
        .cloned()
        .collect();
    Ok(Json(BootstrapResponse {
        user: session.user,
        roster,
        packs: checklists::summaries(),
        enterprises,
        open_findings,
        orgs,
        server_time: Some(Utc::now()),
    }))
}
