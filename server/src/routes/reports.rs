//! 举报 (core `complaint`): the public page's calls, without login — the units that take
//! reports, a one-use question, sending a report, following it by its tracking code — and the
//! leaders' list, decisions and photos.
//!
//! Limits against abuse: a question answered once (right or wrong) per report, at most
//! `PER_ADDRESS_PER_HOUR` reports an hour from one address, the text and place bounded, at most
//! three photos, each a JPEG or PNG under 1.5 MB, the body under `MAX_REPORT_BYTES`. The
//! reporter sees the status and the answer, never who handled it.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use chrono::Utc;
use uuid::Uuid;
use zhicha_core::case::Calendar;
use zhicha_core::complaint::{
    self, Challenge, NewReport, PER_ADDRESS_PER_HOUR, Report, ReportDecision, ReportList,
    ReportState, ReportStatus, ReportUnit,
};
use zhicha_core::ids::OrgId;
use zhicha_core::model::{OrgUnit, Role};
use zhicha_core::org::ancestors;
use zhicha_core::time::china_date;

use crate::access::ClientAddress;
use crate::auth::Session;
use crate::db::reports::ReportRecord;
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

/// The largest report body: three photos of 1.5 MB in base64, and the text.
const MAX_REPORT_BYTES: usize = 6_500_000;
/// How long a question may be answered.
const CHALLENGE_MINUTES: i64 = 30;

/// The public calls (no login).
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/public/units", get(units))
        .route("/public/challenge", get(challenge))
        .route("/public/reports", post(send))
        .route("/public/reports/{code}", get(status))
        .layer(DefaultBodyLimit::max(MAX_REPORT_BYTES))
}

/// The leaders' calls.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(list))
        .route("/reports/{id}/decision", post(decide))
        .route("/reports/{id}/photos/{n}", get(photo))
}

/// Units that take reports: the top units (bureaus).
fn report_units(orgs: &[OrgUnit]) -> Vec<ReportUnit> {
    orgs.iter()
        .filter(|o| o.parent_id.is_none())
        .map(|o| ReportUnit {
            id: o.id,
            name: o.name.clone(),
        })
        .collect()
}

async fn units(State(state): State<AppState>) -> Result<Json<Vec<ReportUnit>>, ApiError> {
    Ok(Json(report_units(&state.store.orgs().await?)))
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::fill(&mut bytes);
    bytes
}

async fn challenge(State(state): State<AppState>) -> Result<Json<Challenge>, ApiError> {
    let [a, b] = random_bytes::<2>();
    let (a, b) = (u32::from(a % 9) + 1, u32::from(b % 9) + 1);
    let id = Uuid::now_v7();
    let now = Utc::now().timestamp_millis();
    state
        .store
        .insert_challenge(
            id,
            &(a + b).to_string(),
            now,
            now + CHALLENGE_MINUTES * 60_000,
        )
        .await?;
    Ok(Json(Challenge {
        id,
        question: format!("{a} 加 {b} 等于几？（请填写阿拉伯数字）"),
    }))
}

/// The photo's MIME type from its first bytes, if it is a JPEG or a PNG.
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else {
        None
    }
}

async fn send(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(report): Json<NewReport>,
) -> Result<(StatusCode, Json<ReportStatus>), ApiError> {
    let now = Utc::now();
    let now_ms = now.timestamp_millis();
    let address = zhicha_core::evidence::sha256_hex(address.as_bytes());
    let sent = state
        .store
        .reports_from(&address, now_ms - 3_600_000)
        .await?;
    if sent >= PER_ADDRESS_PER_HOUR {
        return Err(ApiError::RateLimited {
            retry_after_secs: 3_600,
        });
    }
    if let Err((field, message)) = complaint::validate(&report) {
        return Err(ApiError::invalid_field(field, message));
    }
    let orgs = state.store.orgs().await?;
    let Some(unit) = report_units(&orgs)
        .into_iter()
        .find(|u| u.id == report.unit)
    else {
        return Err(ApiError::invalid_field("unit", "请选择受理单位"));
    };
    if !state
        .store
        .take_challenge(report.challenge_id, &report.challenge_answer, now_ms)
        .await?
    {
        return Err(ApiError::invalid_field(
            "challenge_answer",
            "验证问题回答不正确或已过期，请回答新的问题",
        ));
    }
    let mut photos = Vec::with_capacity(report.photos.len());
    for (n, photo) in report.photos.iter().enumerate() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(photo.as_bytes())
            .map_err(|_| {
                ApiError::invalid_field("photos", format!("第 {} 张照片无法读取", n + 1))
            })?;
        if bytes.len() > complaint::MAX_PHOTO_BYTES {
            return Err(ApiError::invalid_field(
                "photos",
                format!("第 {} 张照片过大（不超过 1.5 MB）", n + 1),
            ));
        }
        let Some(mime) = image_type(&bytes) else {
            return Err(ApiError::invalid_field(
                "photos",
                format!("第 {} 张不是 JPEG 或 PNG 照片", n + 1),
            ));
        };
        photos.push((mime, photo.clone()));
    }
    let received = china_date(now);
    let status = ReportStatus {
        code: complaint::tracking_code(&random_bytes::<12>()),
        unit_name: unit.name,
        received_at: now,
        state: ReportState::Received,
        accept_due: complaint::accept_due(received, &Calendar::default()),
        accepted_on: None,
        answer_due: None,
        answer: String::new(),
        answered_on: None,
    };
    let record = ReportRecord {
        id: Uuid::now_v7(),
        org_id: unit.id,
        text: report.text.trim().to_owned(),
        place: report.place.trim().to_owned(),
        contact: report.contact.trim().to_owned(),
        photos,
        address,
        received_ms: now_ms,
        status: status.clone(),
    };
    state.store.insert_report(&record).await?;
    Ok((StatusCode::CREATED, Json(status)))
}

async fn status(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<ReportStatus>, ApiError> {
    let code = code.trim().to_uppercase();
    match state.store.report_by_code(&code).await? {
        Some(report) => Ok(Json(report.status)),
        None => Err(ApiError::NotFound),
    }
}

/// The units whose reports a leader or admin handles: those in their scope and those above
/// their own unit (a team leader sees the bureau's reports).
fn handled_units(session: &Session) -> Vec<OrgId> {
    let mut units: Vec<OrgId> = ancestors(session.user.org_id, &session.orgs);
    units.extend(
        session
            .orgs
            .iter()
            .map(|o| o.id)
            .filter(|id| session.scope.contains(*id)),
    );
    units.sort();
    units.dedup();
    units
}

fn require_handler(session: &Session) -> Result<(), ApiError> {
    session
        .require_role(&[Role::Leader, Role::Admin])
        .map_err(|_| ApiError::Forbidden("仅队长/科室负责人或管理员可处理举报".to_owned()))
}

fn with_overdue(mut report: Report) -> Report {
    report.overdue = complaint::overdue(&report.status, china_date(Utc::now()));
    report
}

async fn list(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<ReportList>, ApiError> {
    require_handler(&session)?;
    let reports = state
        .store
        .reports_to(&handled_units(&session))
        .await?
        .into_iter()
        .map(with_overdue)
        .collect();
    Ok(Json(ReportList { reports }))
}

/// A report the caller handles, else 404.
async fn handled(state: &AppState, session: &Session, id: &str) -> Result<Report, ApiError> {
    require_handler(session)?;
    let id: Uuid = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "举报编号无效"))?;
    match state.store.report(id).await? {
        Some(report) if handled_units(session).contains(&report.org_id) => Ok(report),
        _ => Err(ApiError::NotFound),
    }
}

async fn decide(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
    Json(decision): Json<ReportDecision>,
) -> Result<Json<Report>, ApiError> {
    let report = handled(&state, &session, &id).await?;
    let next = complaint::decide(&report.status, &decision, china_date(Utc::now()))
        .map_err(|message| ApiError::bad_request("invalid_transition", message))?;
    if !state
        .store
        .update_report_status(
            report.id,
            &report.status,
            &next,
            &session.user.id.to_string(),
        )
        .await?
    {
        return Err(ApiError::bad_request(
            "conflict",
            "该举报刚被他人处理，请刷新后再看",
        ));
    }
    Ok(Json(with_overdue(Report {
        status: next,
        ..report
    })))
}

async fn photo(
    State(state): State<AppState>,
    session: Session,
    Path((id, n)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let report = handled(&state, &session, &id).await?;
    let Some((mime, data)) = state.store.report_photo(report.id, n).await? else {
        return Err(ApiError::NotFound);
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| ApiError::Internal(anyhow::Error::new(e).context("a stored report photo")))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_str(&mime).unwrap_or(HeaderValue::from_static("image/jpeg")),
        )],
        bytes,
    )
        .into_response())
}
