//! `/cases`: the cases (案件) of the caller's scope with the law's clocks running on them, and
//! one case. Cases are written only by a push (`case.save`, `case.act`; see `db::sync`).
//!
//! Who sees a case: its team, and leaders and admins whose scope holds it; anyone else gets
//! 404 (another team's case is not revealed).

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::Utc;
use zhicha_core::case::{self, Calendar, CaseList, CaseView};
use zhicha_core::time::china_date;

use crate::auth::Session;
use crate::db::cases::StoredCase;
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(list))
        .route("/cases/{id}", get(detail))
}

/// The most cases a list answers.
const LIST_LIMIT: u32 = 500;

fn view(stored: StoredCase, calendar: &Calendar) -> CaseView {
    // The bureau's statutory holidays are not entered yet: the working-day clocks leave out
    // weekends only and say so (`holidays_unchecked`).
    let today = china_date(Utc::now());
    CaseView {
        clocks: case::clocks(&stored.case.state, today, calendar),
        case: stored.case,
        rev: stored.rev,
        enterprise_name: stored.enterprise_name,
    }
}

async fn list(State(state): State<AppState>, session: Session) -> Result<Json<CaseList>, ApiError> {
    let calendar = Calendar::default();
    let cases = state
        .store
        .cases(session.scope.org_ids(), LIST_LIMIT)
        .await?
        .into_iter()
        .map(|c| view(c, &calendar))
        .collect();
    Ok(Json(CaseList { cases }))
}

async fn detail(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let id: zhicha_core::ids::CaseId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "案件编号无效"))?;
    match state.store.case(&id.to_string()).await? {
        Some(stored) if session.scope.contains(stored.case.org_id) => {
            Ok(Json(view(stored, &Calendar::default())))
        }
        _ => Err(ApiError::NotFound),
    }
}
