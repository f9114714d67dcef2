//! `POST /auth/login` and `POST /auth/logout`: bearer tokens for a user on a device.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use chrono::{Duration, SecondsFormat, Utc};
use zhicha_core::protocol::{
    LoginRequest, LoginResponse, MAX_PASSWORD_BYTES, PasswordChange, new_password_problem,
};
use zhicha_core::push;

use crate::access::ClientAddress;
use crate::auth::{Checked, Session, new_token, token_hash};
use crate::db::users::{LoginAttempt, NoDeviceCode};
use crate::extract::Json;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/password", post(change_password))
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
        (status = 429, description = "too many failed attempts for this user name from this address, or from this address (`Retry-After`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 503, description = "no device code left for a new device (`device_codes_exhausted`), too many devices registering at once, or every password-checking slot taken (`busy`, with `Retry-After`)", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    Json(request): Json<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    let username = request.username.trim().to_owned();
    if username.is_empty()
        || username.len() > 100
        || username.contains('\0')
        || request.password.len() > MAX_PASSWORD_BYTES
    {
        return Err(ApiError::BadCredentials);
    }
    let limits = &state.config.auth;
    let now_ms = Utc::now().timestamp_millis();
    let window_ms = limits.login_window_secs * 1000;
    let attempt_id = uuid::Uuid::now_v7().to_string();
    let attempt = LoginAttempt {
        id: &attempt_id,
        username: &username,
        address: &address,
        at_ms: now_ms,
    };
    let counts = state
        .store
        .begin_login_attempt(&attempt, now_ms - window_ms)
        .await?;
    let oldest = if counts.for_user > limits.login_max_failures {
        Some(counts.oldest_for_user)
    } else if counts.for_address > limits.login_max_per_address {
        Some(counts.oldest_for_address)
    } else {
        None
    };
    if let Some(oldest) = oldest {
        state.store.drop_login_attempt(&attempt_id).await?;
        tracing::info!(%username, %address, "login refused: too many failures");
        return Err(ApiError::RateLimited {
            retry_after_secs: ((oldest + window_ms - now_ms) / 1000).max(1),
        });
    }
    let credentials = state.store.credentials(&username).await?;
    let hash = credentials.as_ref().map(|c| c.password_hash.as_str());
    let checked = state.passwords.verify(&request.password, hash).await?;
    if checked == Checked::Busy {
        state.store.drop_login_attempt(&attempt_id).await?;
        return Err(busy());
    }
    let Some(credentials) = credentials.filter(|_| checked == Checked::Match) else {
        tracing::info!(%username, %address, "failed login");
        return Err(ApiError::BadCredentials);
    };
    state
        .store
        .clear_login_attempts(&username, &address)
        .await?;
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
    // The phone's signing key, from this login's seq on (core `evidence`).
    let key_id = match &request.public_key {
        None => None,
        Some(public_key) => Some(
            state
                .store
                .register_device_key(
                    request.device_id,
                    &user.id.to_string(),
                    public_key,
                    request.next_seq.unwrap_or(u64::MAX),
                )
                .await?
                .map_err(|message| ApiError::BadRequest {
                    code: "invalid_public_key",
                    message: message.to_owned(),
                    field: Some("public_key".to_owned()),
                })?,
        ),
    };
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
        key_id,
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

/// The caller changes their own password; their other sessions end, this one stays.
#[utoipa::path(
    post,
    path = "/api/v1/auth/password",
    tag = "auth",
    security(("bearer" = [])),
    request_body = PasswordChange,
    responses(
        (status = 204, description = "changed; every other session of the user is revoked"),
        (status = 400, description = "the new password is not acceptable (`invalid`, field `new_password`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 401, description = "no valid token, or the current password is wrong", body = zhicha_core::protocol::ErrorResponse),
        (status = 503, description = "every password-checking slot taken (`busy`, `Retry-After`)", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn change_password(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<PasswordChange>,
) -> Result<StatusCode, ApiError> {
    if let Some(problem) = new_password_problem(&request.new_password, &request.current_password) {
        return Err(ApiError::invalid_field("new_password", problem));
    }
    if request.current_password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::BadCredentials);
    }
    let credentials = state.store.credentials(&session.user.username).await?;
    let hash = credentials.as_ref().map(|c| c.password_hash.as_str());
    match state
        .passwords
        .verify(&request.current_password, hash)
        .await?
    {
        Checked::Match => {}
        Checked::NoMatch => return Err(ApiError::BadCredentials),
        Checked::Busy => return Err(busy()),
    }
    let new_hash = state.passwords.hash(&request.new_password).await?;
    state
        .store
        .set_password(&session.user.username, &new_hash, Some(&session.token_hash))
        .await?;
    tracing::info!(username = %session.user.username, "password changed");
    Ok(StatusCode::NO_CONTENT)
}

/// Every password-checking slot is taken: come back in a second.
fn busy() -> ApiError {
    ApiError::Busy {
        code: "busy",
        message: "登录请求较多，请稍后重试".to_owned(),
        retry_after_secs: 1,
    }
}
