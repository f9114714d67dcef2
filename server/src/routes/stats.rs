//! `GET /stats`: the leader's statistics over their org subtree.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::Utc;
use zhicha_core::ledger::{StatsQuery, StatsResponse};

use crate::auth::Session;
use crate::extract::{Json, Query};
use crate::routes::findings::stats_filters;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/stats", get(stats))
}

/// Region × sector × level counts, the 重大隐患 monthly series, rectification rate, overdue
/// count and work per inspector.
#[utoipa::path(
    get,
    path = "/api/v1/stats",
    tag = "ledger",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, body = StatsResponse),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin, or a team outside the caller's scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<StatsQuery>,
) -> Result<Json<StatsResponse>, ApiError> {
    let filters = stats_filters(&session, &query)?;
    Ok(Json(state.store.stats(&filters, Utc::now()).await?))
}
