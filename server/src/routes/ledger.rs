//! `GET /ledger.xlsx` and `GET /ledger.csv`: the hazard ledger (隐患台账) as files, every row
//! matching the `/findings` filters, one row per finding, Chinese headers.
//!
//! Both are written a database page at a time, so an export holds one page in memory however
//! long the ledger: the CSV straight into the response body, the workbook in rust_xlsxwriter's
//! constant-memory mode into a file under the data folder's `tmp/`, sent once complete and
//! removed as it is sent.
//!
//! Whatever the server stored, the files carry without failing or turning into something else:
//! a CSV text cell that a spreadsheet would take for a formula is prefixed with `'`; a workbook
//! cell past Excel's 32,767 UTF-16 units is cut with a marker; a date outside Excel's 1900–9999
//! is written as text; past 1,048,575 rows the workbook continues on another sheet.

use std::borrow::Cow;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use chrono::{Datelike, NaiveDate, Utc};
use futures_util::{StreamExt as _, stream};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, XlsxError};
use uuid::Uuid;
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

/// The workbook's sheet; the ones after it are numbered.
pub const SHEET: &str = "隐患台账";

/// Data rows per sheet: Excel's 1,048,576 rows less the header.
pub const ROWS_PER_SHEET: u32 = 1_048_575;

/// Excel's limit on a cell's text, in UTF-16 code units.
pub const CELL_UNITS: usize = 32_767;

/// Ends a workbook cell cut to Excel's limit.
pub const CUT_MARKER: &str = "…（超出 Excel 单元格长度，全文见系统）";

/// A CSV field starting with one of these is a formula (or a DDE call) to Excel and WPS.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Where the workbook's files go, under the data folder.
const TEMP_FOLDER: &str = "tmp";

/// A workbook file left behind (by a crash) is removed by the next export after this long.
const STALE_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// Bytes per chunk of the workbook's response body.
const CHUNK: usize = 64 * 1024;

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
            Cell::Text(text) => csv_text(text).into_owned(),
            Cell::Date(date) => date
                .map(|d| csv_text(&d.to_string()).into_owned())
                .unwrap_or_default(),
        }
    }
}

/// `text` as a CSV field that no spreadsheet evaluates: one starting like a formula gets a
/// leading `'` (OWASP's rule for CSV injection), which Excel and WPS show as plain text.
pub fn csv_text(text: &str) -> Cow<'_, str> {
    if text.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// `text` within Excel's cell limit: whole characters up to the limit, then `CUT_MARKER`.
pub fn excel_text(text: &str) -> Cow<'_, str> {
    // A UTF-8 string has at least as many bytes as UTF-16 units.
    if text.len() <= CELL_UNITS || text.encode_utf16().count() <= CELL_UNITS {
        return Cow::Borrowed(text);
    }
    let room = CELL_UNITS - CUT_MARKER.encode_utf16().count();
    let mut units = 0;
    let mut end = 0;
    for (at, c) in text.char_indices() {
        units += c.len_utf16();
        if units > room {
            break;
        }
        end = at + c.len_utf8();
    }
    Cow::Owned(format!("{}{CUT_MARKER}", &text[..end]))
}

/// `day` as an Excel date, or None outside Excel's 1900-01-01 to 9999-12-31.
fn excel_date(day: NaiveDate) -> Option<ExcelDateTime> {
    let year = u16::try_from(day.year())
        .ok()
        .filter(|y| (1900..=9999).contains(y))?;
    ExcelDateTime::from_ymd(
        year,
        u8::try_from(day.month()).ok()?,
        u8::try_from(day.day()).ok()?,
    )
    .ok()
}

fn cells(index: u64, row: &LedgerRow) -> [Cell; 18] {
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

/// Runs workbook work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, XlsxError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(xlsx_error)
}

/// The ledger workbook being written, a page of rows at a time, in constant-memory mode (each
/// sheet's rows go to a temporary file as they are written). Bold frozen header row, dates as
/// Excel dates, an autofilter; after `rows_per_sheet` rows a new sheet with the same header.
pub struct LedgerBook {
    workbook: Workbook,
    rows_per_sheet: u32,
    sheets: u16,
    /// Data rows on the current sheet.
    on_sheet: u32,
    /// Data rows written in all, the 序号 of the last.
    written: u64,
    bold: Format,
    date: Format,
}

impl LedgerBook {
    /// A workbook whose sheets keep their rows in temporary files in `tempdir`.
    pub fn new(tempdir: &Path, rows_per_sheet: u32) -> Result<Self, XlsxError> {
        let mut workbook = Workbook::new();
        workbook.set_tempdir(tempdir)?;
        let mut book = Self {
            workbook,
            rows_per_sheet: rows_per_sheet.clamp(1, ROWS_PER_SHEET),
            sheets: 0,
            on_sheet: 0,
            written: 0,
            bold: Format::new().set_bold(),
            date: Format::new().set_num_format("yyyy-mm-dd"),
        };
        book.add_sheet()?;
        Ok(book)
    }

    fn add_sheet(&mut self) -> Result<(), XlsxError> {
        self.finish_sheet()?;
        self.sheets += 1;
        self.on_sheet = 0;
        let name = match self.sheets {
            1 => SHEET.to_owned(),
            n => format!("{SHEET}（{n}）"),
        };
        let sheet = self.workbook.add_worksheet_with_constant_memory()?;
        sheet.set_name(name)?;
        let widths = [
            6.0, 30.0, 22.0, 10.0, 16.0, 10.0, 40.0, 16.0, 10.0, 36.0, 14.0, 12.0, 16.0, 8.0, 12.0,
            16.0, 18.0, 12.0,
        ];
        for (col, width) in (0u16..).zip(widths) {
            sheet.set_column_width(col, width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (col, title) in (0u16..).zip(HEADERS) {
            sheet.write_string_with_format(0, col, title, &self.bold)?;
        }
        Ok(())
    }

    /// The autofilter over the current sheet's rows.
    fn finish_sheet(&mut self) -> Result<(), XlsxError> {
        if self.sheets > 0 && self.on_sheet > 0 {
            let last = u16::try_from(HEADERS.len() - 1).unwrap_or(0);
            self.workbook
                .worksheet_from_index(usize::from(self.sheets - 1))?
                .autofilter(0, 0, self.on_sheet, last)?;
        }
        Ok(())
    }

    /// Appends rows, continuing on a new sheet when one is full.
    pub fn write(&mut self, rows: &[LedgerRow]) -> Result<(), XlsxError> {
        for row in rows {
            if self.on_sheet == self.rows_per_sheet {
                self.add_sheet()?;
            }
            self.on_sheet += 1;
            self.written += 1;
            let r = self.on_sheet;
            let sheet = self
                .workbook
                .worksheet_from_index(usize::from(self.sheets - 1))?;
            for (col, cell) in (0u16..).zip(cells(self.written, row)) {
                match cell {
                    Cell::Number(n) => {
                        sheet.write_number(r, col, n)?;
                    }
                    Cell::Text(text) => {
                        if !text.is_empty() {
                            sheet.write_string(r, col, excel_text(&text))?;
                        }
                    }
                    Cell::Date(Some(day)) => match excel_date(day) {
                        Some(excel) => {
                            sheet.write_datetime_with_format(r, col, &excel, &self.date)?;
                        }
                        None => {
                            sheet.write_string(r, col, day.to_string())?;
                        }
                    },
                    Cell::Date(None) => {}
                }
            }
        }
        Ok(())
    }

    /// Writes the finished workbook to `path`.
    pub fn save(mut self, path: &Path) -> Result<(), XlsxError> {
        self.finish_sheet()?;
        self.workbook.save(path)
    }
}

/// The workbook's file while it is written: removed when dropped, on any error included.
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    /// A new name in `folder` (created if missing), after removing files older exports left
    /// behind.
    fn new(folder: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(folder)?;
        for entry in std::fs::read_dir(folder)?.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|at| at.elapsed().is_ok_and(|age| age > STALE_AFTER));
            if name.starts_with("ledger-") && name.ends_with(".xlsx") && stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
        Ok(Self {
            path: folder.join(format!("ledger-{}.xlsx", Uuid::now_v7().simple())),
        })
    }

    /// The file as a response body and its length. The name is removed at once; the open file
    /// lives until the body is sent or dropped.
    fn into_body(self) -> std::io::Result<(Body, u64)> {
        let file = std::fs::File::open(&self.path)?;
        let len = file.metadata()?.len();
        drop(self);
        let chunks = stream::try_unfold(file, |mut file| async move {
            let (file, chunk) = tokio::task::spawn_blocking(move || {
                let mut chunk = vec![0; CHUNK];
                let n = file.read(&mut chunk)?;
                chunk.truncate(n);
                Ok::<_, std::io::Error>((file, chunk))
            })
            .await
            .map_err(std::io::Error::other)??;
            Ok::<_, std::io::Error>((!chunk.is_empty()).then(|| (Bytes::from(chunk), file)))
        });
        Ok((Body::from_stream(chunks), len))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// CSV lines for `rows`, numbered on from `written` (which they advance).
fn csv_rows(rows: &[LedgerRow], written: &mut u64) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::Writer::from_writer(Vec::with_capacity(rows.len() * 256));
    for row in rows {
        *written += 1;
        writer.write_record(cells(*written, row).iter().map(Cell::csv))?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn csv_error(error: csv::Error) -> ApiError {
    ApiError::Internal(anyhow::Error::new(error).context("writing the ledger CSV"))
}

/// The ledger as an Excel workbook.
#[utoipa::path(
    get,
    path = "/api/v1/ledger.xlsx",
    tag = "ledger",
    security(("bearer" = [])),
    params(FindingsQuery),
    responses(
        (status = 200, description = "the workbook (cursor and limit are ignored: every matching row; past 1,048,575 rows on further sheets 隐患台账（2）, （3）, …; a cell past Excel's 32,767 UTF-16 units is cut with a marker; a date outside 1900-9999 is text)", content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
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
    let filters = ledger_filters(&session, &query)?;
    let mut pages = state.store.ledger_pages(filters, session.orgs, Utc::now());
    let folder = state.config.data.join(TEMP_FOLDER);
    let file = {
        let folder = folder.clone();
        tokio::task::spawn_blocking(move || TempFile::new(&folder))
            .await
            .map_err(|e| ApiError::Internal(e.into()))??
    };
    let mut book = blocking(move || LedgerBook::new(&folder, ROWS_PER_SHEET)).await?;
    while let Some(rows) = pages.next().await? {
        book = blocking(move || {
            book.write(&rows)?;
            Ok(book)
        })
        .await?;
    }
    let path = file.path.clone();
    blocking(move || book.save(&path)).await?;
    let (body, len) = file.into_body()?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                ),
            ),
            (header::CONTENT_DISPOSITION, attachment("xlsx")),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
        ],
        body,
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
        (status = 200, description = "UTF-8 CSV with a byte-order mark, same columns as the workbook; a text cell starting with =, +, -, @, tab or carriage return is prefixed with '", content_type = "text/csv"),
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
    let filters = ledger_filters(&session, &query)?;
    let mut pages = state.store.ledger_pages(filters, session.orgs, Utc::now());
    // The head and the first page before answering, so that a failure there is still an
    // error response; a later one ends the body early (and is logged).
    let mut head = "\u{feff}".as_bytes().to_vec();
    let mut writer = csv::Writer::from_writer(&mut head);
    writer.write_record(HEADERS).map_err(csv_error)?;
    drop(writer);
    let mut written = 0;
    if let Some(rows) = pages.next().await? {
        head.extend(csv_rows(&rows, &mut written).map_err(csv_error)?);
    }
    let rest = stream::try_unfold((pages, written), |(mut pages, mut written)| async move {
        let rows = match pages.next().await {
            Ok(Some(rows)) => rows,
            Ok(None) => return Ok(None),
            Err(error) => {
                tracing::error!(?error, "ledger CSV cut short");
                return Err(std::io::Error::other(error));
            }
        };
        let chunk = csv_rows(&rows, &mut written).map_err(std::io::Error::other)?;
        Ok(Some((Bytes::from(chunk), (pages, written))))
    });
    let body = Body::from_stream(stream::once(async { Ok(Bytes::from(head)) }).chain(rest));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (header::CONTENT_DISPOSITION, attachment("csv")),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_starts_like_a_formula_gets_a_quote_in_csv() {
        for text in ["=1+1", "+x", "-x", "@SUM(1)", "\tx", "\rx"] {
            assert_eq!(csv_text(text), format!("'{text}"));
        }
        for text in ["", "安全出口", "x=1", " =1", "'=1"] {
            assert_eq!(csv_text(text), text);
        }
    }

    #[test]
    fn excel_text_is_cut_at_whole_characters_within_the_limit() {
        let fits = "字".repeat(CELL_UNITS);
        assert_eq!(excel_text(&fits), fits);
        // A character of two units straddles the limit after the odd `a`.
        let long = format!("a{}", "𠀀".repeat(20_000));
        let cut = excel_text(&long);
        assert!(cut.ends_with(CUT_MARKER));
        assert!(cut.encode_utf16().count() <= CELL_UNITS);
        assert!(cut.encode_utf16().count() >= CELL_UNITS - 1);
        assert!(long.starts_with(cut.strip_suffix(CUT_MARKER).unwrap()));
    }

    #[test]
    fn dates_outside_excels_range_are_not_excel_dates() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert!(excel_date(day(1899, 12, 31)).is_none());
        assert!(excel_date(day(1800, 6, 1)).is_none());
        assert!(excel_date(day(-44, 3, 15)).is_none());
        assert!(excel_date(day(10_000, 1, 1)).is_none());
        assert!(excel_date(day(1900, 1, 1)).is_some());
        assert!(excel_date(day(9999, 12, 31)).is_some());
    }
}
