//! `/admin/enterprises…`: the enterprise directory of the admin's bureau — the list, the import
//! of the bureau's own file (preview, then commit) and the merge of an enterprise added on site
//! into a directory entry.

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use zhicha_core::admin::{
    EnterpriseList, ImportReport, MAX_IMPORT_BYTES, MAX_IMPORT_ROWS, MergeRequest, MergeResponse,
};
use zhicha_core::ids::{EnterpriseId, OrgId};
use zhicha_core::model::Enterprise;

use super::require_admin;
use crate::auth::Session;
use crate::db::admin::MergeRefusal;
use crate::extract::{Json, Path, Query};
use crate::operator::import;
use crate::{ApiError, AppState};

/// Most entries one list answers.
const MAX_LIST: u32 = 1000;
const DEFAULT_LIST: u32 = 200;

/// The import route, with its own body limit (the other routes take 1 MB of JSON).
pub fn import_router() -> Router<AppState> {
    Router::new()
        .route("/admin/enterprises/import", post(import_file))
        .layer(DefaultBodyLimit::max(MAX_IMPORT_BYTES))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Part of the name or of the 统一社会信用代码.
    #[serde(default)]
    pub q: Option<String>,
    /// `true`: only enterprises added on site and not merged; `false`: only directory entries.
    #[serde(default)]
    pub ad_hoc: Option<bool>,
    /// `true`: merged entries too (left out otherwise).
    #[serde(default)]
    pub merged: Option<bool>,
    /// At most this many (default 200, at most 1000).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// The directory of the admin's bureau (a superuser's: all), by name.
#[utoipa::path(
    get,
    path = "/api/v1/admin/enterprises",
    tag = "admin",
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "matching entries, at most `limit`, with the total", body = EnterpriseList),
        (status = 400, description = "a malformed query", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ListQuery>,
) -> Result<Json<EnterpriseList>, ApiError> {
    require_admin(&session)?;
    let needle = query
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());
    let matches = |e: &Enterprise| {
        needle.as_deref().is_none_or(|q| {
            e.name.to_lowercase().contains(q)
                || e.credit_code
                    .as_deref()
                    .is_some_and(|c| c.to_lowercase().contains(q))
        })
    };
    let ids = session.scope.org_ids();
    let mut enterprises: Vec<Enterprise> = state
        .store
        .enterprises_in(ids.as_deref())
        .await?
        .into_iter()
        .filter(|e| query.merged == Some(true) || e.merged_into.is_none())
        .filter(|e| match query.ad_hoc {
            Some(true) => e.ad_hoc && e.merged_into.is_none(),
            Some(false) => !e.ad_hoc,
            None => true,
        })
        .filter(matches)
        .collect();
    enterprises.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.0.cmp(&b.id.0)));
    let total = enterprises.len() as u64;
    let limit = query.limit.unwrap_or(DEFAULT_LIST).min(MAX_LIST) as usize;
    enterprises.truncate(limit);
    Ok(Json(EnterpriseList { enterprises, total }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// The org unit whose directory the file is (in the admin's scope).
    pub org_id: OrgId,
    /// `true` writes the good rows; otherwise a preview that writes nothing.
    #[serde(default)]
    pub commit: bool,
}

fn body_rejection(rejection: &BytesRejection) -> ApiError {
    if crate::access::is_body_timeout(rejection) {
        ApiError::BodyTimeout
    } else if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge {
            limit: MAX_IMPORT_BYTES,
        }
    } else {
        ApiError::bad_request("bad_body", rejection.body_text())
    }
}

/// Reads the bureau's enterprise list (the body: xlsx, or CSV in UTF-8 or GBK, Chinese or
/// English headers) into the directory of `org_id`: a preview, or with `commit=true` the import
/// of its good rows. A row naming a credit code of another bureau's entry is a bad row.
#[utoipa::path(
    post,
    path = "/api/v1/admin/enterprises/import",
    tag = "admin",
    security(("bearer" = [])),
    params(ImportQuery),
    request_body(content = Vec<u8>, description = "the file: .xlsx, or CSV in UTF-8 or GBK", content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "the good and the bad rows, and how many were written", body = ImportReport),
        (status = 400, description = "the file cannot be read, a required column is missing (`invalid_file`), too many rows (`too_many_rows`), or the org unit does not exist", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin, or the org unit is outside his scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 413, description = "larger than 8 MiB", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn import_file(
    State(state): State<AppState>,
    session: Session,
    Query(query): Query<ImportQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<ImportReport>, ApiError> {
    require_admin(&session)?;
    if !session.orgs.iter().any(|o| o.id == query.org_id) {
        return Err(ApiError::invalid_field("org_id", "单位不存在"));
    }
    session.require_org(query.org_id)?;
    let bytes = body.map_err(|rejection| body_rejection(&rejection))?;
    let known = state.store.credit_codes().await?;
    let scope = session.scope.clone();
    // Reading a large workbook is CPU work: off the async threads.
    let org = query.org_id;
    let parsed = tokio::task::spawn_blocking(move || {
        import::parse(&bytes, org, &known, &|holder| scope.contains(holder))
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("import parsing failed: {e}")))?
    .map_err(|message| ApiError::bad_request("invalid_file", message))?;
    let rows = parsed.rows.len() + parsed.errors.len();
    if rows > MAX_IMPORT_ROWS {
        return Err(ApiError::bad_request(
            "too_many_rows",
            format!("文件有 {rows} 行数据，超过一次导入的上限 {MAX_IMPORT_ROWS} 行，请分批导入"),
        ));
    }
    let imported = if query.commit {
        match import::write(&state.store, &parsed.rows).await {
            Ok(n) => n,
            // Another import wrote the same credit code meanwhile.
            Err(e) if crate::db::admin::is_unique_violation(&e) => {
                return Err(ApiError::Conflict(
                    "导入期间名录已被修改，请重新预览后再导入".to_owned(),
                ));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        0
    };
    tracing::info!(
        admin = %session.user.username,
        org = %org,
        rows = parsed.rows.len(),
        errors = parsed.errors.len(),
        imported,
        "enterprise import"
    );
    Ok(Json(ImportReport {
        rows: parsed.rows,
        errors: parsed.errors,
        imported,
        committed: query.commit,
    }))
}

/// Merges an enterprise added on site into a directory entry: its inspections and findings
/// then name the entry, and devices receive the new versions by pull.
#[utoipa::path(
    post,
    path = "/api/v1/admin/enterprises/{id}/merge",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = EnterpriseId, Path, description = "the enterprise added on site")),
    request_body = MergeRequest,
    responses(
        (status = 200, description = "merged; how many inspections and findings moved", body = MergeResponse),
        (status = 400, description = "the source is not an unmerged on-site entry, or the target is not a directory entry (`invalid`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin, or the target is outside his scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such source in his scope, or no such target", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn merge(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<EnterpriseId>,
    Json(request): Json<MergeRequest>,
) -> Result<Json<MergeResponse>, ApiError> {
    require_admin(&session)?;
    let merged = state
        .store
        .merge_enterprise(
            id,
            request.into,
            &session.scope,
            session.user.id,
            session.device_id,
        )
        .await?;
    match merged {
        Ok(response) => {
            tracing::info!(
                admin = %session.user.username,
                source = %id,
                target = %request.into,
                inspections = response.inspections,
                findings = response.findings,
                "enterprise merged"
            );
            Ok(Json(response))
        }
        Err(MergeRefusal::SourceNotFound) => Err(ApiError::NotFound),
        Err(MergeRefusal::TargetNotFound) => Err(ApiError::invalid_field("into", "目标企业不存在")),
        Err(MergeRefusal::TargetForbidden) => {
            Err(ApiError::Forbidden("目标企业不在您的管理范围内".to_owned()))
        }
        Err(MergeRefusal::Invalid(message)) => Err(ApiError::invalid_field("into", message)),
    }
}
