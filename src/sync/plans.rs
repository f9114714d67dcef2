//! The leader's plan calls (online): annual plans, 双随机 draws and their publication, the caps
//! in force and 回避 declarations. The server checks role and scope against its own records.

use gloo::net::http::{Request, RequestBuilder};
use serde::Serialize;
use serde::de::DeserializeOwned;
use web_sys::Blob;
use zhicha_core::ids::{DrawId, PlanId};
use zhicha_core::plan::api::{
    CapTable, ConflictList, DrawRecord, DrawRequest, NewPlan, PlanDetail, PlanList,
};
use zhicha_core::plan::{Conflict, Plan};

use super::SyncError;
use super::api::{API, authorized, json, send};

fn url(path: &str) -> String {
    format!("{API}/{path}")
}

async fn get<T: DeserializeOwned>(token: &str, path: &str) -> Result<T, SyncError> {
    json(send(authorized(Request::get(&url(path)), token).build()).await?).await
}

async fn with_body<B: Serialize, T: DeserializeOwned>(
    token: &str,
    builder: RequestBuilder,
    body: &B,
) -> Result<T, SyncError> {
    json(send(authorized(builder, token).json(body)).await?).await
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
    blob(response.binary().await, "text/csv;charset=utf-8")
}

/// The draw's full record as JSON: what `zhicha-server verify-draw` re-runs.
pub async fn record_file(token: &str, id: DrawId) -> Result<Blob, SyncError> {
    let response =
        send(authorized(Request::get(&url(&format!("draws/{id}"))), token).build()).await?;
    blob(response.binary().await, "application/json")
}

fn blob(bytes: Result<Vec<u8>, gloo::net::Error>, mime: &str) -> Result<Blob, SyncError> {
    let bytes = bytes.map_err(|e| SyncError::Protocol(e.to_string()))?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(&array), &options)
        .map_err(|e| SyncError::Protocol(format!("{e:?}")))
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
    blob(response.binary().await, "image/svg+xml")
}
