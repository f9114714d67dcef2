//! `GET /findings`: the leader's ledger (隐患台账), filtered and keyset-paged, each row with its
//! conflict flag; `GET /findings/{id}/revisions`: a finding's kept versions (who changed what,
//! when, from which device, and whether it was a conflict); and the one place that turns ledger
//! and statistics queries into database filters within the caller's scope.

use std::collections::BTreeSet;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use chrono::{NaiveDate, Utc};
use zhicha_core::ids::{FindingId, OrgId};
use zhicha_core::ledger::{FindingsQuery, LedgerCursor, MAX_QUERY_TEXT_CHARS, StatsQuery};
use zhicha_core::model::Role;
use zhicha_core::revision::{FlaggedFindingsPage, FlaggedLedgerRow, RevisionsResponse};

use crate::auth::{Scope, Session, subtree};
use crate::db::ledger::Filters;
use crate::extract::{Json, Path, Query};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/findings", get(findings))
        .route("/findings/{id}/revisions", get(revisions))
}

/// 403 unless the caller is a leader or an admin: inspectors work from their own records.
pub(crate) fn require_leader(session: &Session) -> Result<(), ApiError> {
    session
        .require_role(&[Role::Leader, Role::Admin])
        .map_err(|_| ApiError::Forbidden("仅队长/科室负责人或管理员可查看台账与统计".to_owned()))
}

/// The org units to show: the caller's scope, narrowed to `team` and the units below it.
fn org_filter(session: &Session, team: Option<OrgId>) -> Result<Option<Vec<OrgId>>, ApiError> {
    let Some(team) = team else {
        return Ok(match &session.scope {
            Scope::All => None,
            Scope::Orgs(orgs) => Some(orgs.iter().copied().collect()),
        });
    };
    if !session.orgs.iter().any(|o| o.id == team) {
        return Err(ApiError::invalid_field("team", "执法队不存在"));
    }
    if !session.scope.contains(team) {
        return Err(ApiError::Forbidden("该执法队不在您的管辖范围内".to_owned()));
    }
    let below: BTreeSet<OrgId> = subtree(team, &session.orgs);
    Ok(Some(
        below
            .into_iter()
            .filter(|o| session.scope.contains(*o))
            .collect(),
    ))
}

fn text_filter(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn check_dates(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<(), ApiError> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => {
            Err(ApiError::invalid_field("from", "开始日期不能晚于结束日期"))
        }
        _ => Ok(()),
    }
}

/// The database filters of a ledger query, or why the query is refused.
pub(crate) fn ledger_filters(session: &Session, q: &FindingsQuery) -> Result<Filters, ApiError> {
    require_leader(session)?;
    check_dates(q.from, q.to)?;
    let text = text_filter(q.q.as_deref());
    if text
        .as_deref()
        .is_some_and(|t| t.chars().count() > MAX_QUERY_TEXT_CHARS)
    {
        return Err(ApiError::invalid_field(
            "q",
            format!("搜索内容不能超过 {MAX_QUERY_TEXT_CHARS} 个字"),
        ));
    }
    Ok(Filters {
        orgs: org_filter(session, q.team)?,
        county: text_filter(q.county.as_deref()),
        township: text_filter(q.township.as_deref()),
        sector: q.sector,
        level: q.level,
        status: q.status,
        inspector: q.inspector,
        enterprise: q.enterprise,
        from: q.from,
        to: q.to,
        overdue: q.overdue,
        supervised: q.supervised,
        q: text,
        campaign: text_filter(q.campaign.as_deref()),
    })
}

/// The database filters of a statistics query, or why the query is refused.
pub(crate) fn stats_filters(session: &Session, q: &StatsQuery) -> Result<Filters, ApiError> {
    require_leader(session)?;
    check_dates(q.from, q.to)?;
    Ok(Filters {
        orgs: org_filter(session, q.team)?,
        county: text_filter(q.county.as_deref()),
        township: text_filter(q.township.as_deref()),
        sector: q.sector,
        from: q.from,
        to: q.to,
        campaign: text_filter(q.campaign.as_deref()),
        ..Filters::default()
    })
}

/// One page of the ledger, newest first, within the caller's org subtree.
#[utoipa::path(
    get,
    path = "/api/v1/findings",
    tag = "ledger",
    security(("bearer" = [])),
    params(FindingsQuery),
    responses(
        (status = 200, body = FlaggedFindingsPage),
        (status = 400, description = "a malformed parameter or cursor", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin, or a team outside the caller's scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn findings(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<FindingsQuery>,
) -> Result<Json<FlaggedFindingsPage>, ApiError> {
    let filters = ledger_filters(&session, &query)?;
    let cursor = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(text) => Some(
            LedgerCursor::decode(text)
                .ok_or_else(|| ApiError::invalid_field("cursor", "翻页游标无效"))?,
        ),
    };
    let now = Utc::now();
    let total = state.store.ledger_count(&filters, now).await?;
    let page = state
        .store
        .ledger_page(
            &filters,
            cursor,
            query.effective_limit(),
            &session.orgs,
            now,
        )
        .await?;
    let rows = page
        .rows
        .into_iter()
        .zip(page.flagged)
        .map(|(row, flagged)| FlaggedLedgerRow { row, flagged })
        .collect();
    Ok(Json(FlaggedFindingsPage {
        rows,
        total,
        next_cursor: page.next_cursor.map(|c| c.encode()),
    }))
}

/// A finding's kept versions, newest first: who replaced each, from which device, when, why
/// (an edit, a conflict, a review action) and which fields that write changed. For everyone who
/// may see the finding: the inspectors of its team (whose edits are what meet in a conflict),
/// leaders whose scope holds it, and admins.
#[utoipa::path(
    get,
    path = "/api/v1/findings/{id}/revisions",
    tag = "ledger",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "finding id")),
    responses(
        (status = 200, body = RevisionsResponse),
        (status = 400, description = "a malformed id", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "the finding is outside the caller's team or scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such finding", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn revisions(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Json<RevisionsResponse>, ApiError> {
    let id: FindingId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "隐患编号无效"))?;
    let (org, response) = state
        .store
        .finding_revisions(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    if !session.scope.contains(org) {
        return Err(ApiError::Forbidden(
            "该隐患不属于您的检查组或管辖范围".to_owned(),
        ));
    }
    Ok(Json(response))
}
