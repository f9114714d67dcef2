//! 举报: the public page's calls (no login) and the leaders' (`/reports`).

use gloo::net::http::Request;
use web_sys::Blob;
use zhicha_core::complaint::{
    Challenge, NewReport, Report, ReportDecision, ReportList, ReportStatus, ReportUnit,
};

use super::SyncError;
use super::api::{API, authorized, blob, json, send, with_body};

/// `GET /public/units`: the units that take reports.
pub async fn units() -> Result<Vec<ReportUnit>, SyncError> {
    json(send(Request::get(&format!("{API}/public/units")).build()).await?).await
}

/// `GET /public/challenge`: a one-use question.
pub async fn challenge() -> Result<Challenge, SyncError> {
    json(send(Request::get(&format!("{API}/public/challenge")).build()).await?).await
}

/// `POST /public/reports`: the report; its status with the tracking code.
pub async fn send_report(report: &NewReport) -> Result<ReportStatus, SyncError> {
    json(send(Request::post(&format!("{API}/public/reports")).json(report)).await?).await
}

/// `GET /public/reports/{code}`.
pub async fn follow(code: &str) -> Result<ReportStatus, SyncError> {
    let code: String = code.chars().filter(char::is_ascii_alphanumeric).collect();
    json(send(Request::get(&format!("{API}/public/reports/{code}")).build()).await?).await
}

/// `GET /reports`: the reports the leader handles.
pub async fn list(token: &str) -> Result<ReportList, SyncError> {
    json(send(authorized(Request::get(&format!("{API}/reports")), token).build()).await?).await
}

/// `POST /reports/{id}/decision`.
pub async fn decide(
    token: &str,
    id: uuid::Uuid,
    decision: &ReportDecision,
) -> Result<Report, SyncError> {
    with_body(
        token,
        Request::post(&format!("{API}/reports/{id}/decision")),
        decision,
    )
    .await
}

/// `GET /reports/{id}/photos/{n}`.
pub async fn photo(token: &str, id: uuid::Uuid, n: u32) -> Result<Blob, SyncError> {
    let builder = authorized(
        Request::get(&format!("{API}/reports/{id}/photos/{n}")),
        token,
    );
    blob(send(builder.build()).await?, "image/jpeg").await
}
