//! `GET /inspections/{id}/archive`: the 案卷 of one inspection as a zip that anyone can check
//! offline (`operator::archive`, core `evidence::archive`).

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use axum::routing::get;
use zhicha_core::ids::{InspectionId, OrgId};
use zhicha_core::ledger::percent_encode;

use crate::auth::Session;
use crate::extract::Path;
use crate::operator::archive;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/inspections/{id}/archive", get(inspection_archive))
}

/// The 案卷 of an inspection: the records as stored, their photos and documents, the events
/// that wrote them with the device signatures, signed by the server. For the inspectors of its
/// team and the leaders and admins whose scope holds it, as stored.
#[utoipa::path(
    get,
    path = "/api/v1/inspections/{id}/archive",
    tag = "evidence",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "inspection id")),
    responses(
        (status = 200, description = "the 案卷 zip (manifest.json, manifest.sig, inspection.json, findings/, photos/, documents/)", content_type = "application/zip"),
        (status = 400, description = "a malformed id", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "the inspection is outside the caller's team or scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such inspection", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn inspection_archive(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: InspectionId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "检查编号无效"))?;
    let stored = state
        .store
        .stored_inspection(&id.to_string())
        .await?
        .ok_or(ApiError::NotFound)?;
    let org: Option<OrgId> = stored.org_id.parse().ok();
    if !org.is_some_and(|org| session.scope.contains(org)) {
        return Err(ApiError::Forbidden(
            "该检查不属于您的检查组或管辖范围".to_owned(),
        ));
    }
    let archive = archive::export(&state.store, &state.photos, &stored).await?;
    let disposition = format!(
        "attachment; filename=\"archive-{id}.zip\"; filename*=UTF-8''{}",
        percent_encode(&archive.file_name)
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/zip"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition)
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment")),
            ),
        ],
        archive.bytes,
    )
        .into_response())
}
