//! The web admin's calls (`/api/v1/admin/…`, online only): accounts, org units and the
//! enterprise directory of the admin's bureau. The server checks the role and the scope of
//! every call against its own records; these only carry the admin's token.

use gloo::net::http::{Request, RequestBuilder};
use serde::de::DeserializeOwned;
use web_sys::Blob;
use zhicha_core::admin::{
    AdminSession, AdminUser, EnterpriseList, ImportReport, MergeRequest, MergeResponse, NewOrg,
    NewUser, OrgUpdate, PasswordReset, RevokeRequest, RevokeResponse, UserUpdate,
};
use zhicha_core::ids::{EnterpriseId, OrgId, UserId};
use zhicha_core::model::OrgUnit;

use super::SyncError;
use super::api::{API, authorized, json, send, with_body};

fn url(path: &str) -> String {
    format!("{API}/admin/{path}")
}

async fn get<T: DeserializeOwned>(token: &str, builder: RequestBuilder) -> Result<T, SyncError> {
    json(send(authorized(builder, token).build()).await?).await
}

pub async fn users(token: &str) -> Result<Vec<AdminUser>, SyncError> {
    get(token, Request::get(&url("users"))).await
}

pub async fn create_user(token: &str, user: &NewUser) -> Result<AdminUser, SyncError> {
    with_body(token, Request::post(&url("users")), user).await
}

pub async fn update_user(
    token: &str,
    id: UserId,
    update: &UserUpdate,
) -> Result<AdminUser, SyncError> {
    with_body(token, Request::patch(&url(&format!("users/{id}"))), update).await
}

pub async fn reset_password(token: &str, id: UserId, password: &str) -> Result<(), SyncError> {
    let body = PasswordReset {
        password: password.to_owned(),
    };
    let request =
        authorized(Request::post(&url(&format!("users/{id}/password"))), token).json(&body);
    send(request).await.map(|_| ())
}

pub async fn sessions(token: &str, id: UserId) -> Result<Vec<AdminSession>, SyncError> {
    get(token, Request::get(&url(&format!("users/{id}/sessions")))).await
}

/// Ends one phone's sessions (`device`: its id or code), or all of the user's.
pub async fn revoke(
    token: &str,
    id: UserId,
    device: Option<String>,
) -> Result<RevokeResponse, SyncError> {
    let body = RevokeRequest { device };
    with_body(
        token,
        Request::post(&url(&format!("users/{id}/revoke"))),
        &body,
    )
    .await
}

pub async fn orgs(token: &str) -> Result<Vec<OrgUnit>, SyncError> {
    get(token, Request::get(&url("orgs"))).await
}

pub async fn create_org(token: &str, org: &NewOrg) -> Result<OrgUnit, SyncError> {
    with_body(token, Request::post(&url("orgs")), org).await
}

pub async fn update_org(token: &str, id: OrgId, update: &OrgUpdate) -> Result<OrgUnit, SyncError> {
    with_body(token, Request::patch(&url(&format!("orgs/{id}"))), update).await
}

/// The directory of the admin's bureau: entries matching `q` (name or credit code), only the
/// ones added on site and not yet merged when `ad_hoc`.
pub async fn enterprises(token: &str, q: &str, ad_hoc: bool) -> Result<EnterpriseList, SyncError> {
    let mut builder = Request::get(&url("enterprises")).query([("limit", "500")]);
    if !q.trim().is_empty() {
        builder = builder.query([("q", q.trim())]);
    }
    if ad_hoc {
        builder = builder.query([("ad_hoc", "true")]);
    }
    get(token, builder).await
}

/// Sends the bureau's list (xlsx or CSV) as it is: `commit == false` only previews it.
pub async fn import(
    token: &str,
    org: OrgId,
    file: &Blob,
    commit: bool,
) -> Result<ImportReport, SyncError> {
    let builder = authorized(Request::post(&url("enterprises/import")), token)
        .query([("org_id", org.to_string()), ("commit", commit.to_string())])
        .header("Content-Type", "application/octet-stream");
    json(send(builder.body(file.clone())).await?).await
}

pub async fn merge(
    token: &str,
    id: EnterpriseId,
    into: EnterpriseId,
) -> Result<MergeResponse, SyncError> {
    let body = MergeRequest { into };
    with_body(
        token,
        Request::post(&url(&format!("enterprises/{id}/merge"))),
        &body,
    )
    .await
}
