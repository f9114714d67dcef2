//! `/admin/…`: the web admin. Accounts and org units here, the enterprise directory in
//! `directory`. Only an admin, within his scope (his org unit's subtree; a superuser's: all);
//! every target is authorised as stored, never by what the request says of it. Making a
//! superuser stays on the command line.

pub mod directory;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use zhicha_core::admin::{
    AdminSession, AdminUser, NewOrg, NewUser, OrgUpdate, PasswordReset, RevokeRequest,
    RevokeResponse, UserUpdate,
};
use zhicha_core::ids::{OrgId, UserId};
use zhicha_core::model::{OrgUnit, Role, User};
use zhicha_core::protocol::new_password_problem;

use crate::auth::{Scope, Session};
use crate::extract::{Json, Path};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(list_users).post(create_user))
        .route("/admin/users/{id}", patch(update_user))
        .route("/admin/users/{id}/password", post(reset_password))
        .route("/admin/users/{id}/sessions", get(sessions))
        .route("/admin/users/{id}/revoke", post(revoke))
        .route("/admin/orgs", get(list_orgs).post(create_org))
        .route("/admin/orgs/{id}", patch(update_org))
        .route("/admin/enterprises", get(directory::list))
        .route("/admin/enterprises/{id}/merge", post(directory::merge))
}

/// 403 unless the caller is an admin.
pub(crate) fn require_admin(session: &Session) -> Result<(), ApiError> {
    if session.user.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden("只有管理员可以使用管理功能".to_owned()))
    }
}

fn is_superuser(session: &Session) -> bool {
    session.scope == Scope::All
}

/// Trimmed text of at most `max` characters without control characters, or why not.
fn checked_text(
    field: &str,
    label: &str,
    text: &str,
    max: usize,
    required: bool,
) -> Result<String, ApiError> {
    let text = text.trim();
    if required && text.is_empty() {
        return Err(ApiError::invalid_field(field, format!("{label}不能为空")));
    }
    if text.chars().count() > max {
        return Err(ApiError::invalid_field(
            field,
            format!("{label}不能超过 {max} 个字"),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(ApiError::invalid_field(
            field,
            format!("{label}含有无效字符"),
        ));
    }
    Ok(text.to_owned())
}

/// A user name as the login takes it: 1 to 32 characters, no spaces or control characters.
fn checked_username(name: &str) -> Result<String, ApiError> {
    let count = name.chars().count();
    if count == 0 {
        return Err(ApiError::invalid_field("username", "用户名不能为空"));
    }
    if count > 32 {
        return Err(ApiError::invalid_field(
            "username",
            "用户名不能超过 32 个字符",
        ));
    }
    if name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::invalid_field(
            "username",
            "用户名不能含有空格或控制字符",
        ));
    }
    Ok(name.to_owned())
}

fn checked_password(password: &str) -> Result<(), ApiError> {
    match new_password_problem(password, "") {
        // The problem speaks of the "new" password, which is what the admin sets.
        Some(problem) => Err(ApiError::invalid_field("password", problem)),
        None => Ok(()),
    }
}

fn checked_certificate(text: Option<&str>) -> Result<Option<String>, ApiError> {
    let Some(text) = text else { return Ok(None) };
    let text = checked_text("certificate_no", "执法证号", text, 32, false)?;
    Ok(Some(text).filter(|t| !t.is_empty()))
}

/// An org unit named in a request: 400 when it does not exist, 403 outside the caller's scope.
fn org_in_scope<'a>(session: &'a Session, field: &str, id: OrgId) -> Result<&'a OrgUnit, ApiError> {
    let org = session
        .orgs
        .iter()
        .find(|o| o.id == id)
        .ok_or_else(|| ApiError::invalid_field(field, "单位不存在"))?;
    if !session.scope.contains(org.id) {
        return Err(ApiError::Forbidden("该单位不在您的管理范围内".to_owned()));
    }
    Ok(org)
}

/// The account `id` as stored, if the caller may manage it: 404 when it does not exist or is
/// outside his scope, 403 for a superuser's account unless he is one.
async fn managed_user(
    state: &AppState,
    session: &Session,
    id: UserId,
) -> Result<AdminUser, ApiError> {
    let user = state
        .store
        .admin_user(id)
        .await?
        .filter(|u| session.scope.contains(u.org_id))
        .ok_or(ApiError::NotFound)?;
    if user.superuser && !is_superuser(session) {
        return Err(ApiError::Forbidden(
            "全区管理员的账号只能由全区管理员管理".to_owned(),
        ));
    }
    Ok(user)
}

/// Accounts of the caller's scope, by org unit, then user name.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "accounts of the admin's bureau, disabled ones included", body = Vec<AdminUser>),
        (status = 401, description = "no valid token", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn list_users(
    State(state): State<AppState>,
    session: Session,
) -> Result<Json<Vec<AdminUser>>, ApiError> {
    require_admin(&session)?;
    let org_name = |id: OrgId| {
        session
            .orgs
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.name.clone())
            .unwrap_or_default()
    };
    let mut users: Vec<AdminUser> = state
        .store
        .admin_users()
        .await?
        .into_iter()
        .filter(|u| session.scope.contains(u.org_id))
        .collect();
    users.sort_by_cached_key(|u| (org_name(u.org_id), u.org_id, u.username.clone()));
    Ok(Json(users))
}

/// Creates an account in the caller's scope.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewUser,
    responses(
        (status = 201, description = "created", body = AdminUser),
        (status = 400, description = "a field is not acceptable (`invalid`, with `field`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin, or the org unit is outside his scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 409, description = "the user name is taken (`conflict`)", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn create_user(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<NewUser>,
) -> Result<(StatusCode, Json<AdminUser>), ApiError> {
    require_admin(&session)?;
    let username = checked_username(&request.username)?;
    let display_name = checked_text("display_name", "姓名", &request.display_name, 50, false)?;
    let certificate_no = checked_certificate(request.certificate_no.as_deref())?;
    checked_password(&request.password)?;
    org_in_scope(&session, "org_id", request.org_id)?;
    let user = User {
        id: UserId::new(),
        display_name: if display_name.is_empty() {
            username.clone()
        } else {
            display_name
        },
        username,
        role: request.role,
        org_id: request.org_id,
        certificate_no,
    };
    let hash = state.passwords.hash(&request.password).await?;
    if !state.store.insert_user(&user, &hash).await? {
        return Err(ApiError::Conflict("用户名已存在".to_owned()));
    }
    tracing::info!(admin = %session.user.username, username = %user.username, "user created");
    Ok((
        StatusCode::CREATED,
        Json(AdminUser {
            id: user.id,
            username: user.username,
            display_name: user.display_name,
            role: user.role,
            org_id: user.org_id,
            certificate_no: user.certificate_no,
            active: true,
            superuser: false,
        }),
    ))
}

/// Changes the given fields of an account; `active: false` ends every session of it.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/users/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the account")),
    request_body = UserUpdate,
    responses(
        (status = 200, description = "the account as now stored", body = AdminUser),
        (status = 400, description = "a field is not acceptable", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin, a superuser's account, or the new org unit is outside his scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such account in his scope", body = zhicha_core::protocol::ErrorResponse),
        (status = 409, description = "the admin would disable, demote or move himself, or demote a superuser", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn update_user(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Json(request): Json<UserUpdate>,
) -> Result<Json<AdminUser>, ApiError> {
    require_admin(&session)?;
    let mut user = managed_user(&state, &session, id).await?;
    let own = user.id == session.user.id;
    if own && request.active == Some(false) {
        return Err(ApiError::Conflict("不能停用自己的账号".to_owned()));
    }
    if let Some(role) = request.role
        && role != user.role
    {
        if own {
            return Err(ApiError::Conflict("不能更改自己的角色".to_owned()));
        }
        if user.superuser {
            return Err(ApiError::Conflict(
                "全区管理员须先在命令行取消（user superuser --off）才能更改角色".to_owned(),
            ));
        }
        user.role = role;
    }
    if let Some(org) = request.org_id
        && org != user.org_id
    {
        if own {
            return Err(ApiError::Conflict("不能将自己调到其他单位".to_owned()));
        }
        org_in_scope(&session, "org_id", org)?;
        user.org_id = org;
    }
    if let Some(name) = &request.display_name {
        user.display_name = checked_text("display_name", "姓名", name, 50, true)?;
    }
    if request.certificate_no.is_some() {
        user.certificate_no = checked_certificate(request.certificate_no.as_deref())?;
    }
    state.store.update_user(&user).await?;
    if let Some(active) = request.active
        && active != user.active
    {
        state.store.set_active(&user.username, active).await?;
        user.active = active;
    }
    tracing::info!(admin = %session.user.username, username = %user.username, "user changed");
    Ok(Json(user))
}

/// Sets a new password for an account; every session of it ends (the caller's own current one
/// stays when he resets his own).
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/password",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the account")),
    request_body = PasswordReset,
    responses(
        (status = 204, description = "set; the account's sessions are revoked"),
        (status = 400, description = "the password is not acceptable (`invalid`, field `password`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin, or a superuser's account", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such account in his scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn reset_password(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Json(request): Json<PasswordReset>,
) -> Result<StatusCode, ApiError> {
    require_admin(&session)?;
    let user = managed_user(&state, &session, id).await?;
    checked_password(&request.password)?;
    let hash = state.passwords.hash(&request.password).await?;
    let keep = (user.id == session.user.id).then_some(session.token_hash.as_str());
    if !state
        .store
        .set_password(&user.username, &hash, keep)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    tracing::info!(admin = %session.user.username, username = %user.username, "password reset");
    Ok(StatusCode::NO_CONTENT)
}

/// The account's valid sessions: one per phone signed in.
#[utoipa::path(
    get,
    path = "/api/v1/admin/users/{id}/sessions",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the account")),
    responses(
        (status = 200, description = "valid sessions, oldest first", body = Vec<AdminSession>),
        (status = 403, description = "not an admin, or a superuser's account", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such account in his scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn sessions(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
) -> Result<Json<Vec<AdminSession>>, ApiError> {
    require_admin(&session)?;
    let user = managed_user(&state, &session, id).await?;
    let sessions = state
        .store
        .sessions(&user.username)
        .await?
        .into_iter()
        .map(|s| AdminSession {
            device_id: s.device_id,
            device_code: s.device_code,
            since: s.created_at,
            until: s.expires_at,
        })
        .collect();
    Ok(Json(sessions))
}

/// Ends the account's sessions: one phone's (its device id or code) or all.
#[utoipa::path(
    post,
    path = "/api/v1/admin/users/{id}/revoke",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = UserId, Path, description = "the account")),
    request_body = RevokeRequest,
    responses(
        (status = 200, description = "how many sessions ended (0 when that device had none)", body = RevokeResponse),
        (status = 403, description = "not an admin, or a superuser's account", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such account in his scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<UserId>,
    Json(request): Json<RevokeRequest>,
) -> Result<Json<RevokeResponse>, ApiError> {
    require_admin(&session)?;
    let user = managed_user(&state, &session, id).await?;
    let device = request
        .device
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if device.is_some_and(|d| d.len() > 64 || d.contains('\0')) {
        return Err(ApiError::invalid_field("device", "设备编号无效"));
    }
    let revoked = state
        .store
        .revoke_sessions(&user.username, device)
        .await?
        .ok_or(ApiError::NotFound)?;
    tracing::info!(admin = %session.user.username, username = %user.username, revoked, "sessions revoked");
    Ok(Json(RevokeResponse { revoked }))
}

/// Org units of the caller's scope (a superuser's: all).
#[utoipa::path(
    get,
    path = "/api/v1/admin/orgs",
    tag = "admin",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "org units of his bureau", body = Vec<OrgUnit>),
        (status = 403, description = "not an admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn list_orgs(session: Session) -> Result<Json<Vec<OrgUnit>>, ApiError> {
    require_admin(&session)?;
    let orgs = session
        .orgs
        .iter()
        .filter(|o| session.scope.contains(o.id))
        .cloned()
        .collect();
    Ok(Json(orgs))
}

/// Adds an org unit under one of the caller's scope (a root bureau: a superuser only).
#[utoipa::path(
    post,
    path = "/api/v1/admin/orgs",
    tag = "admin",
    security(("bearer" = [])),
    request_body = NewOrg,
    responses(
        (status = 201, description = "created", body = OrgUnit),
        (status = 400, description = "a field is not acceptable, or the parent does not exist", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin, the parent is outside his scope, or a root unit by a bureau admin", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn create_org(
    State(state): State<AppState>,
    session: Session,
    Json(request): Json<NewOrg>,
) -> Result<(StatusCode, Json<OrgUnit>), ApiError> {
    require_admin(&session)?;
    let parent = match request.parent_id {
        Some(id) => Some(org_in_scope(&session, "parent_id", id)?.clone()),
        None if is_superuser(&session) => None,
        None => {
            return Err(ApiError::Forbidden(
                "只有全区管理员可以新建顶级单位，请选择上级单位".to_owned(),
            ));
        }
    };
    let name = checked_text("name", "单位名称", &request.name, 50, true)?;
    let doc_code = checked_text("doc_code", "文书单位简称", &request.doc_code, 20, false)?;
    let region = checked_text("region", "辖区", &request.region, 50, false)?;
    // Empty: the nearest ancestor's applies (not copied, so a change up the tree carries down).
    let review_authority = checked_text(
        "review_authority",
        "行政复议机关",
        &request.review_authority,
        50,
        false,
    )?;
    let court = checked_text("court", "人民法院", &request.court, 50, false)?;
    let unit = OrgUnit {
        id: OrgId::new(),
        parent_id: parent.as_ref().map(|p| p.id),
        doc_code: match (doc_code.is_empty(), &parent) {
            (false, _) => doc_code,
            (true, Some(parent)) => parent.doc_code.clone(),
            (true, None) => name.clone(),
        },
        region: match (region.is_empty(), &parent) {
            (true, Some(parent)) => parent.region.clone(),
            _ => region,
        },
        name,
        review_authority,
        court,
    };
    state.store.insert_org(&unit).await?;
    tracing::info!(admin = %session.user.username, org = %unit.name, "org unit created");
    Ok((StatusCode::CREATED, Json(unit)))
}

/// Changes the given fields of an org unit of the caller's scope.
#[utoipa::path(
    patch,
    path = "/api/v1/admin/orgs/{id}",
    tag = "admin",
    security(("bearer" = [])),
    params(("id" = OrgId, Path, description = "the org unit")),
    request_body = OrgUpdate,
    responses(
        (status = 200, description = "the unit as now stored", body = OrgUnit),
        (status = 400, description = "a field is not acceptable", body = zhicha_core::protocol::ErrorResponse),
        (status = 403, description = "not an admin", body = zhicha_core::protocol::ErrorResponse),
        (status = 404, description = "no such unit in his scope", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn update_org(
    State(state): State<AppState>,
    session: Session,
    Path(id): Path<OrgId>,
    Json(request): Json<OrgUpdate>,
) -> Result<Json<OrgUnit>, ApiError> {
    require_admin(&session)?;
    let mut unit = session
        .orgs
        .iter()
        .find(|o| o.id == id && session.scope.contains(o.id))
        .cloned()
        .ok_or(ApiError::NotFound)?;
    if let Some(name) = &request.name {
        unit.name = checked_text("name", "单位名称", name, 50, true)?;
    }
    if let Some(doc_code) = &request.doc_code {
        unit.doc_code = checked_text("doc_code", "文书单位简称", doc_code, 20, true)?;
    }
    if let Some(region) = &request.region {
        unit.region = checked_text("region", "辖区", region, 50, false)?;
    }
    if let Some(review_authority) = &request.review_authority {
        unit.review_authority = checked_text(
            "review_authority",
            "行政复议机关",
            review_authority,
            50,
            false,
        )?;
    }
    if let Some(court) = &request.court {
        unit.court = checked_text("court", "人民法院", court, 50, false)?;
    }
    if !state.store.update_org(&unit).await? {
        return Err(ApiError::NotFound);
    }
    tracing::info!(admin = %session.user.username, org = %unit.name, "org unit changed");
    Ok(Json(unit))
}
