//! `GET /ledger.xlsx` and `GET /ledger.csv`: the hazard ledger (隐患台账) as files, every row
//! matching the `/findings` filters, one row per finding, Chinese headers.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Datelike, NaiveDate, Utc};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use zhicha_core::ledger::{FindingsQuery, LedgerRow, percent_encode};

use crate::auth::Session;
use crate::db::ledger::china_day;
use crate::extract::Query;
use crate::routes::findings::ledger_filters;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ledger.xlsx", get(xlsx))
        .route("/ledger.csv", get(csv))
}

/// The columns of the ledger files.
pub const HEADERS: [&str; 18] = [
    "序号",
    "被检查单位",
    "统一社会信用代码",
    "旗县",
    "苏木镇/街道/园区",
    "行业领域",
    "隐患描述",
    "隐患部位",
    "隐患级别",
    "依据",
    "整改措施",
    "整改期限",
    "状态",
    "挂牌督办",
    "发现日期",
    "检查人员",
    "执法队",
    "销号日期",
];

/// A cell of a ledger row.
enum Cell {
    Number(f64),
    Text(String),
    Date(Option<NaiveDate>),
}

impl Cell {
    fn csv(&self) -> String {
        match self {
            Cell::Number(n) => n.to_string(),
            Cell::Text(text) => text.clone(),
            Cell::Date(date) => date.map(|d| d.to_string()).unwrap_or_default(),
        }
    }
}

fn cells(index: usize, row: &LedgerRow) -> [Cell; 18] {
    let sector = match row.sector {
        Some(sector) => sector.label_zh().to_owned(),
        None => row
            .enterprise_sectors
            .iter()
            .map(|s| s.label_zh())
            .collect::<Vec<_>>()
            .join("、"),
    };
    let status = match row.overdue_days {
        Some(days) => format!("{}（逾期 {days} 天）", row.status.label_zh()),
        None => row.status.label_zh().to_owned(),
    };
    [
        Cell::Number(index as f64),
        Cell::Text(row.enterprise_name.clone()),
        Cell::Text(row.credit_code.clone().unwrap_or_default()),
        Cell::Text(row.county.clone()),
        Cell::Text(row.township.clone()),
        Cell::Text(sector),
        Cell::Text(row.description.clone()),
        Cell::Text(row.place.clone()),
        Cell::Text(row.level.label_zh().to_owned()),
        Cell::Text(row.legal_basis.clone()),
        Cell::Text(row.measure.label_zh().to_owned()),
        Cell::Date(row.deadline),
        Cell::Text(status),
        Cell::Text(if row.supervised { "是" } else { "否" }.to_owned()),
        Cell::Date(Some(china_day(row.found_at))),
        Cell::Text(
            row.inspectors
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join("、"),
        ),
        Cell::Text(row.team_name.clone()),
        Cell::Date(row.closed_at.map(china_day)),
    ]
}

async fn rows(
    state: &AppState,
    session: &Session,
    query: &FindingsQuery,
) -> Result<Vec<LedgerRow>, ApiError> {
    let filters = ledger_filters(session, query)?;
    Ok(state
        .store
        .ledger_all(&filters, &session.orgs, Utc::now())
        .await?)
}

/// `attachment` with an ASCII fallback name and the Chinese name (RFC 6266).
fn attachment(ext: &str) -> HeaderValue {
    let day = china_day(Utc::now()).format("%Y%m%d").to_string();
    let name = format!("隐患台账-{day}.{ext}");
    let value = format!(
        "attachment; filename=\"ledger-{day}.{ext}\"; filename*=UTF-8''{}",
        percent_encode(&name)
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

fn xlsx_error(error: XlsxError) -> ApiError {
    ApiError::Internal(anyhow::Error::new(error).context("writing the ledger workbook"))
}

/// Builds the workbook: one sheet, bold frozen header row, dates as Excel dates.
pub fn workbook(rows: &[LedgerRow]) -> Result<Vec<u8>, XlsxError> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("隐患台账")?;
    let bold = Format::new().set_bold();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    for (col, title) in (0u16..).zip(HEADERS) {
        sheet.write_string_with_format(0, col, title, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let widths = [
        6.0, 30.0, 22.0, 10.0, 16.0, 10.0, 40.0, 16.0, 10.0, 36.0, 14.0, 12.0, 16.0, 8.0, 12.0,
        16.0, 18.0, 12.0,
    ];
    for (col, width) in (0u16..).zip(widths) {
        sheet.set_column_width(col, width)?;
    }
    for (r, row) in (1u32..).zip(rows) {
        for (col, cell) in (0u16..).zip(cells(r as usize, row)) {
            match cell {
                Cell::Number(n) => {
                    sheet.write_number(r, col, n)?;
                }
                Cell::Text(text) => {
                    if !text.is_empty() {
                        sheet.write_string(r, col, text)?;
                    }
                }
                Cell::Date(Some(day)) => {
                    let excel = ExcelDateTime::from_ymd(
                        u16::try_from(day.year()).unwrap_or(1900),
                        u8::try_from(day.month()).unwrap_or(1),
                        u8::try_from(day.day()).unwrap_or(1),
                    )?;
                    sheet.write_datetime_with_format(r, col, &excel, &date)?;
                }
                Cell::Date(None) => {}
            }
        }
    }
    if !rows.is_empty() {
        sheet.autofilter(0, 0, u32::try_from(rows.len()).unwrap_or(u32::MAX), 17)?;
    }
    workbook.save_to_buffer()
}

/// Builds the CSV: UTF-8 with a byte-order mark so Excel reads the Chinese text.
pub fn csv_bytes(rows: &[LedgerRow]) -> Result<Vec<u8>, csv::Error> {
    let mut out = Vec::with_capacity(64 + rows.len() * 256);
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(HEADERS)?;
    for (i, row) in rows.iter().enumerate() {
        writer.write_record(cells(i + 1, row).iter().map(Cell::csv))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// The ledger as an Excel workbook.
#[utoipa::path(
    get,
    path = "/api/v1/ledger.xlsx",
    tag = "ledger",
    security(("bearer" = [])),
    params(FindingsQuery),
    responses(
        (status = 200, description = "the workbook (cursor and limit are ignored: every matching row)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn xlsx(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<FindingsQuery>,
) -> Result<Response, ApiError> {
    let rows = rows(&state, &session, &query).await?;
    let bytes = tokio::task::spawn_blocking(move || workbook(&rows))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(xlsx_error)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
            (header::CONTENT_DISPOSITION, attachment("xlsx")),
        ],
        bytes,
    )
        .into_response())
}

/// The ledger as CSV (UTF-8 with BOM).
#[utoipa::path(
    get,
    path = "/api/v1/ledger.csv",
    tag = "ledger",
    security(("bearer" = [])),
    params(FindingsQuery),
    responses(
        (status = 200, description = "UTF-8 CSV with a byte-order mark, same columns as the workbook", content_type = "text/csv"),
        (status = 400, body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn csv(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<FindingsQuery>,
) -> Result<Response, ApiError> {
    let rows = rows(&state, &session, &query).await?;
    let bytes = csv_bytes(&rows)
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("writing the ledger CSV")))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, attachment("csv")),
        ],
        bytes,
    )
        .into_response())
}
