//! The leader's plan calls (online): annual plans, 双随机 draws and their publication, the caps
//! in force and 回避 declarations. The server checks role and scope against its own records.

use gloo::net::http::Request;
use serde::de::DeserializeOwned;
use web_sys::Blob;
use zhicha_core::ids::{DrawId, PlanId};
use zhicha_core::plan::api::{
    CapTable, ConflictList, DrawRecord, DrawRequest, NewPlan, PlanDetail, PlanList,
};
use zhicha_core::plan::{Conflict, Plan};

use super::SyncError;
use super::api::{API, authorized, blob, json, send, with_body};

fn url(path: &str) -> String {
    format!("{API}/{path}")
}

async fn get<T: DeserializeOwned>(token: &str, path: &str) -> Result<T, SyncError> {
    json(send(authorized(Request::get(&url(path)), token).build()).await?).await
}

pub async fn plans(token: &str) -> Result<PlanList, SyncError> {
    get(token, "plans").await
}

pub async fn create_plan(token: &str, plan: &NewPlan) -> Result<Plan, SyncError> {
    with_body(token, Request::post(&url("plans")), plan).await
}

pub async fn plan(token: &str, id: PlanId) -> Result<PlanDetail, SyncError> {
    get(token, &format!("plans/{id}")).await
}

pub async fn draw(token: &str, id: PlanId, request: &DrawRequest) -> Result<DrawRecord, SyncError> {
    with_body(
        token,
        Request::post(&url(&format!("plans/{id}/draws"))),
        request,
    )
    .await
}

/// The draw's publication (一公开) as CSV.
pub async fn publication(token: &str, id: DrawId) -> Result<Blob, SyncError> {
    let response = send(
        authorized(
            Request::get(&url(&format!("draws/{id}/publication.csv"))),
            token,
        )
        .build(),
    )
    .await?;
    blob(response, "text/csv;charset=utf-8").await
}

/// The draw's full record as JSON: what `zhicha-server verify-draw` re-runs.
pub async fn record_file(token: &str, id: DrawId) -> Result<Blob, SyncError> {
    let response =
        send(authorized(Request::get(&url(&format!("draws/{id}"))), token).build()).await?;
    blob(response, "application/json").await
}

pub async fn caps(token: &str) -> Result<CapTable, SyncError> {
    get(token, "caps").await
}

pub async fn save_caps(token: &str, table: &CapTable) -> Result<CapTable, SyncError> {
    with_body(token, Request::put(&url("caps")), table).await
}

pub async fn conflicts(token: &str) -> Result<ConflictList, SyncError> {
    get(token, "conflicts").await
}

pub async fn declare_conflict(token: &str, conflict: &Conflict) -> Result<Conflict, SyncError> {
    with_body(token, Request::post(&url("conflicts")), conflict).await
}

/// `GET /enterprises/{id}/code.svg`: the bureau's 扫码入企 code of an enterprise, to print.
pub async fn enterprise_code(
    token: &str,
    id: zhicha_core::ids::EnterpriseId,
) -> Result<Blob, SyncError> {
    let response = send(
        authorized(
            Request::get(&url(&format!("enterprises/{id}/code.svg"))),
            token,
        )
        .build(),
    )
    .await?;
    blob(response, "image/svg+xml").await
}
