//! `GET /bootstrap`: everything a device needs to work a whole day offline.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::Utc;
use zhicha_core::plan::api::Visits;
use zhicha_core::protocol::BootstrapResponse;

use crate::auth::Session;
use crate::extract::Json;
use crate::routes::{checklists, plans};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/bootstrap", get(bootstrap))
}

/// The user, their roster, checklist packs, the enterprise directory of their org, the
/// open findings of their scope, their open tasks, the caps in force and this year's visits.
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
    // 我的任务: the open tasks of the user's teams, and those naming the user.
    let tasks = state
        .store
        .open_tasks_for(scope_ids.as_deref(), session.user.id)
        .await?;
    let caps = plans::caps_for(&state.store, session.user.org_id, &session.orgs)
        .await?
        .rules;
    let mut visits: Vec<Visits> = state
        .store
        .visits_this_year(directory_ids.as_deref(), Utc::now())
        .await?
        .into_iter()
        .map(|(enterprise_id, visits)| Visits {
            enterprise_id,
            visits,
        })
        .collect();
    visits.sort_by_key(|v| v.enterprise_id);
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
        tasks,
        caps,
        visits,
    }))
}
