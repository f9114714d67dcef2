//! `GET /stats`: the leader's statistics over their org subtree; `GET /stats.xlsx`: its rates
//! and work per officer as a workbook.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use zhicha_core::ledger::{StatsQuery, StatsResponse};

use crate::auth::Session;
use crate::extract::{Json, Query};
use crate::routes::findings::stats_filters;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stats", get(stats))
        .route("/stats.xlsx", get(stats_xlsx))
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

/// The workbook of `stats`: sheet 执法效能 (per team: inspections, findings, 隐患发现率, 重大,
/// 立案, 立案率, 处罚, 处罚率, 零处罚) and sheet 执法人员 (per officer).
fn workbook(stats: &StatsResponse) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let ratio = Format::new().set_num_format("0.00");
    let percent = Format::new().set_num_format("0.0%");
    let teams = book.add_worksheet();
    teams.set_name("执法效能")?;
    let headers = [
        "检查组",
        "检查次数",
        "发现隐患",
        "隐患发现率（项/次）",
        "重大隐患",
        "立案",
        "立案率",
        "处罚",
        "处罚率",
        "零处罚",
    ];
    for (col, title) in (0u16..).zip(headers) {
        teams.write_string_with_format(0, col, title, &bold)?;
        teams.set_column_width(col, if col == 0 { 24.0 } else { 12.0 })?;
    }
    for (row, t) in (1u32..).zip(&stats.by_team) {
        teams.write_string(row, 0, &t.name)?;
        teams.write_number(row, 1, t.inspections as f64)?;
        teams.write_number(row, 2, t.findings as f64)?;
        if let Some(r) = t.finding_rate() {
            teams.write_number_with_format(row, 3, r, &ratio)?;
        }
        teams.write_number(row, 4, t.major as f64)?;
        teams.write_number(row, 5, t.cases as f64)?;
        if let Some(r) = t.case_rate() {
            teams.write_number_with_format(row, 6, r, &percent)?;
        }
        teams.write_number(row, 7, t.penalties as f64)?;
        if let Some(r) = t.penalty_rate() {
            teams.write_number_with_format(row, 8, r, &percent)?;
        }
        teams.write_string(row, 9, if t.zero_penalties() { "是" } else { "" })?;
    }
    teams.set_freeze_panes(1, 0)?;
    let people = book.add_worksheet();
    people.set_name("执法人员")?;
    for (col, title) in (0u16..).zip(["检查人员", "检查次数", "发现隐患", "立案", "处罚"])
    {
        people.write_string_with_format(0, col, title, &bold)?;
        people.set_column_width(col, if col == 0 { 16.0 } else { 10.0 })?;
    }
    for (row, p) in (1u32..).zip(&stats.by_inspector) {
        people.write_string(row, 0, &p.name)?;
        people.write_number(row, 1, p.inspections as f64)?;
        people.write_number(row, 2, p.findings as f64)?;
        people.write_number(row, 3, p.cases as f64)?;
        people.write_number(row, 4, p.penalties as f64)?;
    }
    people.set_freeze_panes(1, 0)?;
    book.save_to_buffer()
}

/// The statistics' rates and work per officer as an Excel workbook (same filters as `/stats`).
#[utoipa::path(
    get,
    path = "/api/v1/stats.xlsx",
    tag = "ledger",
    security(("bearer" = [])),
    params(StatsQuery),
    responses(
        (status = 200, description = "sheets 执法效能 (per team) and 执法人员 (per officer)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn stats_xlsx(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<StatsQuery>,
) -> Result<Response, ApiError> {
    let filters = stats_filters(&session, &query)?;
    let stats = state.store.stats(&filters, Utc::now()).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook(&stats))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| {
            ApiError::Internal(anyhow::Error::new(e).context("writing the statistics workbook"))
        })?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"statistics.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
