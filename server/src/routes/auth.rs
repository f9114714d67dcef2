//! `POST /auth/login` and `POST /auth/logout`: bearer tokens for a user on a device.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{Duration, SecondsFormat, Utc};
use zhicha_core::protocol::{LoginRequest, LoginResponse};
use zhicha_core::push;

use crate::auth::{Session, new_token, token_hash};
use crate::db::users::NoDeviceCode;
use crate::extract::Json;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
}

/// Exchanges a user name and password for a bearer token bound to the device.
#[utoipa::path(
    post,
    path = "/api/v1/auth/login",
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "logged in", body = LoginResponse),
        (status = 401, description = "wrong user name or password", body = zhicha_core::protocol::ErrorResponse),
        (status = 429, description = "too many failed attempts", body = zhicha_core::protocol::ErrorResponse),
        (status = 503, description = "no device code left for a new device (`device_codes_exhausted`), or too many devices registering at once (`busy`)", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    Json(request): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = request.username.trim().to_owned();
    if username.is_empty()
        || username.len() > 100
        || username.contains('\0')
        || request.password.len() > 1000
    {
        return Err(ApiError::BadCredentials);
    }
    let limits = &state.config.auth;
    let now_ms = Utc::now().timestamp_millis();
    let window_start = now_ms - limits.login_window_secs * 1000;
    let failures = state
        .store
        .login_failures_since(&username, window_start)
        .await?;
    if failures >= limits.login_max_failures {
        let oldest = state
            .store
            .oldest_login_failure_since(&username, window_start)
            .await?;
        let retry_after_ms = oldest.map_or(0, |t| t + limits.login_window_secs * 1000 - now_ms);
        return Err(ApiError::RateLimited {
            retry_after_secs: (retry_after_ms / 1000).max(1),
        });
    }
    let credentials = state.store.credentials(&username).await?;
    let hash = credentials.as_ref().map(|c| c.password_hash.as_str());
    let verified = state.passwords.verify(&request.password, hash).await?;
    let Some(credentials) = credentials.filter(|_| verified) else {
        state
            .store
            .record_login_failure(&username, now_ms, window_start)
            .await?;
        tracing::info!(%username, "failed login");
        return Err(ApiError::BadCredentials);
    };
    state.store.clear_login_failures(&username).await?;
    let user = credentials.user;
    // A phone that still holds another user's unsynced mutations is not handed to this user:
    // they would be lost, or pushed under this user's name.
    if let Some(next_seq) = request.next_seq
        && let Some((holder, last_seq)) = state.store.device_holder(request.device_id).await?
        && holder != user.id.to_string()
        && push::holds_unsynced(next_seq, u64::try_from(last_seq).unwrap_or(0))
    {
        return Err(ApiError::Conflict(
            "本机还有上一位用户未同步的记录，请由该用户登录并完成同步后再换人登录".to_owned(),
        ));
    }
    let doc_code = state
        .store
        .orgs()
        .await?
        .into_iter()
        .find(|o| o.id == user.org_id)
        .map(|o| o.doc_code)
        .unwrap_or_default();
    let device_code = state
        .store
        .register_device(request.device_id, user.id, &doc_code)
        .await?
        .map_err(|reason| match reason {
            NoDeviceCode::Exhausted => ApiError::Unavailable {
                code: "device_codes_exhausted",
                message: "本单位可分配的设备编号已用完，新设备暂时无法登录，请联系管理员"
                    .to_owned(),
            },
            NoDeviceCode::Contended => ApiError::Unavailable {
                code: "busy",
                message: "同时登录的设备较多，请稍后重试".to_owned(),
            },
        })?;
    let token = new_token();
    let expires_at = Utc::now() + Duration::hours(limits.token_ttl_hours);
    state
        .store
        .insert_token(
            &token_hash(&token),
            user.id,
            request.device_id,
            &expires_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        )
        .await?;
    tracing::info!(%username, device = %request.device_id, "login");
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user,
        device_code: device_code.as_str().to_owned(),
    }))
}

/// Revokes the token of this request.
#[utoipa::path(
    post,
    path = "/api/v1/auth/logout",
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "token revoked"),
        (status = 401, description = "no valid token", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn logout(
    State(state): State<AppState>,
    session: Session,
) -> Result<StatusCode, ApiError> {
    state.store.revoke_token(&session.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}
