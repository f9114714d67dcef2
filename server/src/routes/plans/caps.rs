//! `GET/PUT /caps`: the yearly caps in force for the caller's bureau (the nearest unit, own or
//! above, that edited them; else the defaults). `GET/POST /conflicts`: 回避. `GET
//! /enterprises/{id}/code.svg`: the bureau's 扫码入企 code of an enterprise, to print.

use std::fmt::Write as _;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use zhicha_core::ids::EnterpriseId;
use zhicha_core::model::Role;
use zhicha_core::plan::api::{CapTable, ConflictList};
use zhicha_core::plan::scan::bureau_code;
use zhicha_core::plan::{Conflict, validate_caps};

use super::{caps_for, require_planner, validation};
use crate::auth::Session;
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

/// The caps in force for the caller's unit.
#[utoipa::path(
    get,
    path = "/api/v1/caps",
    tag = "plans",
    security(("bearer" = [])),
    responses(
        (status = 200, body = CapTable),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn get_caps(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<CapTable>, ApiError> {
    Ok(Json(
        caps_for(&state.store, session.user.org_id, &session.orgs).await?,
    ))
}

/// Replaces the caps of the caller's own unit (leaders and admins).
#[utoipa::path(
    put,
    path = "/api/v1/caps",
    tag = "plans",
    security(("bearer" = [])),
    request_body = CapTable,
    responses(
        (status = 200, body = CapTable),
        (status = 400, description = "a rule repeated or below 1", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn put_caps(
    State(state): State<AppState>,
    session: Session,
    Json(table): Json<CapTable>,
) -> Result<Json<CapTable>, ApiError> {
    require_planner(&session)?;
    validate_caps(&table.rules).map_err(validation)?;
    state
        .store
        .put_caps(session.user.org_id, &table.rules, session.user.id)
        .await?;
    Ok(Json(
        caps_for(&state.store, session.user.org_id, &session.orgs).await?,
    ))
}

/// The 回避 the caller may see: an inspector their own, a leader or admin those of the users
/// of their scope.
#[utoipa::path(
    get,
    path = "/api/v1/conflicts",
    tag = "plans",
    security(("bearer" = [])),
    responses(
        (status = 200, body = ConflictList),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn list_conflicts(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<ConflictList>, ApiError> {
    let mut users = vec![session.user.id];
    if session.user.role != Role::Inspector {
        let scope = session.scope.org_ids();
        users.extend(
            state
                .store
                .users_in(scope.as_deref())
                .await?
                .into_iter()
                .map(|u| u.id)
                .filter(|id| *id != session.user.id),
        );
    }
    Ok(Json(ConflictList {
        conflicts: state.store.conflicts_of(&users).await?,
    }))
}

/// Declares a 回避: an officer for themself, or a leader or admin for an officer of their
/// scope; the enterprise must be in the caller's directory.
#[utoipa::path(
    post,
    path = "/api/v1/conflicts",
    tag = "plans",
    security(("bearer" = [])),
    request_body = Conflict,
    responses(
        (status = 201, body = Conflict),
        (status = 400, description = "no reason, or an enterprise outside the caller's directory", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "another officer, outside the caller's scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn declare(
    State(state): State<AppState>,
    session: Session,
    Json(mut conflict): Json<Conflict>,
) -> Result<(StatusCode, Json<Conflict>), ApiError> {
    conflict.reason = conflict.reason.trim().to_owned();
    if conflict.reason.is_empty() {
        return Err(ApiError::invalid_field("reason", "请填写回避理由"));
    }
    if conflict.reason.chars().count() > 200 {
        return Err(ApiError::invalid_field("reason", "回避理由不超过 200 字"));
    }
    if conflict.user_id != session.user.id {
        let scope = session.scope.org_ids();
        let ours = session.user.role != Role::Inspector
            && state
                .store
                .users_in(scope.as_deref())
                .await?
                .iter()
                .any(|u| u.id == conflict.user_id);
        if !ours {
            return Err(ApiError::Forbidden(
                "只能为本人或管辖范围内的执法人员登记回避".to_owned(),
            ));
        }
    }
    let org = state
        .store
        .enterprise_org(&conflict.enterprise_id.to_string())
        .await?;
    if !org.is_some_and(|org| session.directory_scope().contains(org)) {
        return Err(ApiError::invalid_field(
            "enterprise_id",
            "该企业不在您的企业名录范围内",
        ));
    }
    state.store.put_conflict(&conflict, session.user.id).await?;
    Ok((StatusCode::CREATED, Json(conflict)))
}

/// The enterprise's 扫码入企 code (`ZHICHA:ENT:<id>`) as SVG, its name underneath, for
/// admins and leaders whose directory holds it.
#[utoipa::path(
    get,
    path = "/api/v1/enterprises/{id}/code.svg",
    tag = "plans",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the enterprise's id")),
    responses(
        (status = 200, content_type = "image/svg+xml", description = "the code to print"),
        (status = 401, body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not a leader or admin", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such enterprise in the caller's directory", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn code_svg(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_planner(&session)?;
    let id: EnterpriseId = id
        .parse()
        .map_err(|_| ApiError::invalid_field("id", "企业编号无效"))?;
    let enterprise = match state.store.enterprise(id).await? {
        Some(e) if session.directory_scope().contains(e.org_id) => e,
        _ => return Err(ApiError::NotFound),
    };
    let svg = code_svg_text(&bureau_code(id), &enterprise.name)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml; charset=utf-8"),
        )],
        svg,
    )
        .into_response())
}

/// Escapes text for SVG character data.
fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// The QR code of `text` (error correction M, quiet zone of 4 modules, 8 px each) with
/// `caption` underneath.
pub fn code_svg_text(text: &str, caption: &str) -> Result<String, ApiError> {
    const MODULE: usize = 8;
    const QUIET: usize = 4;
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("making a QR code: {e:?}")))?;
    let width = code.width();
    let side = (width + 2 * QUIET) * MODULE;
    let height = side + 48;
    let mut path = String::new();
    for (n, color) in code.to_colors().into_iter().enumerate() {
        if color == qrcode::Color::Dark {
            let (x, y) = ((n % width + QUIET) * MODULE, (n / width + QUIET) * MODULE);
            let _ = write!(path, "M{x} {y}h{MODULE}v{MODULE}h-{MODULE}z");
        }
    }
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{side}\" height=\"{height}\" \
         viewBox=\"0 0 {side} {height}\">\
         <title>执法监督码</title>\
         <rect width=\"{side}\" height=\"{height}\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/>\
         <text x=\"{}\" y=\"{}\" font-size=\"18\" text-anchor=\"middle\" \
         font-family=\"sans-serif\">{}</text></svg>",
        side / 2,
        side + 24,
        xml_escape(caption)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_carries_its_caption_escaped() {
        let svg = code_svg_text("ZHICHA:ENT:x", "某<公司>&").unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("某&lt;公司&gt;&amp;"));
        assert!(svg.contains("<path d=\"M"));
    }
}
