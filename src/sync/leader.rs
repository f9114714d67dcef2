//! The leader's reads from the server: photos the device does not hold, the hazard ledger
//! (`/findings`), statistics (`/stats`) and the ledger as a file (`/ledger.xlsx`, `/ledger.csv`).
//! Decisions themselves are mutations and go through the outbox like every other edit.

use gloo::net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;
use web_sys::Blob;
use zhicha_core::ids::{FindingId, PhotoHash};
use zhicha_core::ledger::{
    FindingsPage, FindingsQuery, MAX_LEDGER_LIMIT, StatsQuery, StatsResponse,
};
use zhicha_core::model::FindingStatus;
use zhicha_core::revision::{FlaggedFindingsPage, RevisionsResponse};

use super::SyncError;
use super::api::{API, authorized, blob, json, send};

/// The ledger file formats the server exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerFormat {
    Xlsx,
    Csv,
}

impl LedgerFormat {
    fn path(self) -> &'static str {
        match self {
            Self::Xlsx => "ledger.xlsx",
            Self::Csv => "ledger.csv",
        }
    }

    /// The name the downloaded file is saved under.
    pub fn file_name(self, date: &str) -> String {
        match self {
            Self::Xlsx => format!("隐患台账-{date}.xlsx"),
            Self::Csv => format!("隐患台账-{date}.csv"),
        }
    }
}

/// Sends a GET with the sync layer's error rules (a dead link is "offline", 401 asks for login,
/// other 4xx carry the server's message).
async fn get(builder: RequestBuilder) -> Result<Response, SyncError> {
    send(builder.build()).await
}

fn url(path: &str, query: &str) -> String {
    if query.is_empty() {
        format!("{API}/{path}")
    } else {
        format!("{API}/{path}?{query}")
    }
}

async fn get_json<T: DeserializeOwned>(token: &str, url: &str) -> Result<T, SyncError> {
    json(get(authorized(Request::get(url), token)).await?).await
}

/// `GET /photos/{sha256}`: a photo this device does not hold (the server checks that the user
/// may see a record that references it).
pub async fn photo(token: &str, hash: &PhotoHash) -> Result<Blob, SyncError> {
    let builder = authorized(Request::get(&format!("{API}/photos/{hash}")), token);
    blob(get(builder).await?, "image/jpeg").await
}

/// `GET /findings?...`: one page of the hazard ledger.
pub async fn findings(token: &str, query: &FindingsQuery) -> Result<FindingsPage, SyncError> {
    get_json(token, &url("findings", &query.to_query_string())).await
}

/// `GET /findings/{id}/revisions`: who changed a finding, when, from which device, which
/// fields, and which writes were conflicts.
pub async fn revisions(token: &str, id: FindingId) -> Result<RevisionsResponse, SyncError> {
    get_json(token, &format!("{API}/findings/{id}/revisions")).await
}

/// The findings awaiting review that carry a conflict flag (`GET /findings?status=submitted`,
/// first page), for the review queue's marker.
pub async fn flagged_submitted(token: &str) -> Result<Vec<FindingId>, SyncError> {
    let query = FindingsQuery {
        status: Some(FindingStatus::Submitted),
        limit: Some(MAX_LEDGER_LIMIT),
        ..FindingsQuery::default()
    };
    let page: FlaggedFindingsPage =
        get_json(token, &url("findings", &query.to_query_string())).await?;
    Ok(page
        .rows
        .into_iter()
        .filter(|r| r.flagged)
        .map(|r| r.row.id)
        .collect())
}

/// `GET /stats?...`.
pub async fn stats(token: &str, query: &StatsQuery) -> Result<StatsResponse, SyncError> {
    get_json(token, &url("stats", &query.to_query_string())).await
}

/// `GET /stats.xlsx?...`: the statistics' rates and work per officer as a workbook.
pub async fn stats_file(token: &str, query: &StatsQuery) -> Result<Blob, SyncError> {
    let builder = authorized(
        Request::get(&url("stats.xlsx", &query.to_query_string())),
        token,
    );
    blob(
        get(builder).await?,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    .await
}

/// `GET /ledger.xlsx?...` or `/ledger.csv?...`: the whole filtered ledger as a file (the
/// server ignores the paging fields).
pub async fn ledger_file(
    token: &str,
    query: &FindingsQuery,
    format: LedgerFormat,
) -> Result<Blob, SyncError> {
    let builder = authorized(
        Request::get(&url(format.path(), &query.to_query_string())),
        token,
    );
    let mime = match format {
        LedgerFormat::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        LedgerFormat::Csv => "text/csv;charset=utf-8",
    };
    blob(get(builder).await?, mime).await
}

/// An object URL for a Blob, revoked when dropped (so a page's photos free their memory when
/// the page goes away).
pub struct ObjectUrl(String);

impl ObjectUrl {
    pub fn new(blob: &Blob) -> Option<Self> {
        // `URL.createObjectURL` through the global object: no extra web-sys feature needed.
        let url = js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("URL")).ok()?;
        let create = js_sys::Reflect::get(&url, &JsValue::from_str("createObjectURL")).ok()?;
        let create: js_sys::Function = create.into();
        create.call1(&url, blob).ok()?.as_string().map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let global = js_sys::global();
        if let Ok(url) = js_sys::Reflect::get(&global, &JsValue::from_str("URL"))
            && let Ok(revoke) = js_sys::Reflect::get(&url, &JsValue::from_str("revokeObjectURL"))
        {
            let revoke: js_sys::Function = revoke.into();
            let _ = revoke.call1(&url, &JsValue::from_str(&self.0));
        }
    }
}
