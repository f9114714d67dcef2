//! The HTTP calls of the sync protocol (`/api/v1`), typed with `zhicha-core`'s wire types.

use gloo::net::http::{Method, Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use web_sys::Blob;
use zhicha_core::ids::{DeviceId, InspectionId, PhotoHash};
use zhicha_core::protocol::{
    BootstrapResponse, ContentRange, ErrorBody, ErrorResponse, LoginRequest, LoginResponse,
    PHOTO_PART_BYTES, PasswordChange, PhotoPartResponse, PullResponse, PushRequest, PushResponse,
    ReceiptResponse, UPLOAD_OFFSET_HEADER,
};

pub(super) const API: &str = "/api/v1";
/// The code of a refusal that came without the server's JSON error body.
const HTTP_CODE: &str = "http";

/// Why a call did not succeed, so the engine knows whether to retry, ask for login or stop.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SyncError {
    /// No connection (or the server is down): keep everything, retry later.
    #[error("无法连接服务器，数据已保存在本机，联网后自动同步")]
    Offline,
    /// The token expired or was revoked: ask for login, never touch the queue.
    #[error("登录已过期，请重新登录后继续同步")]
    Unauthorized,
    /// The server failed (5xx): retry with backoff.
    #[error("服务器暂时不可用（{0}），稍后自动重试")]
    Server(u16),
    /// The server refused the request itself (4xx other than 401): shown as is.
    #[error("{message}")]
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// The answer could not be read.
    #[error("服务器应答无法识别：{0}")]
    Protocol(String),
    #[error("本机存储错误：{0}")]
    Storage(String),
    #[error("尚未登录")]
    NotLoggedIn,
}

impl SyncError {
    /// Worth retrying later by itself (a busy server's 429 and a timed-out request's 408 too).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Offline
                | Self::Server(_)
                | Self::Refused {
                    status: 408 | 429 | 503,
                    ..
                }
        )
    }

    /// The server refused the request's content outright: a 4xx, answered with the server's
    /// own error body, that resending cannot change — not an expired login (401/403), not a
    /// busy server (408/429), not a missing endpoint or a page from something else in front of
    /// the server (404/405, or no error body: code `http`). For a push, the batch holds an
    /// entry the server will never take as it is.
    pub fn refusal(&self) -> Option<ErrorBody> {
        match self {
            Self::Refused {
                status,
                code,
                message,
            } if !matches!(status, 401 | 403 | 404 | 405 | 408 | 429 | 503)
                && code != HTTP_CODE =>
            {
                Some(ErrorBody::new(code.clone(), message.clone()))
            }
            _ => None,
        }
    }
}

impl From<crate::storage::StorageError> for SyncError {
    fn from(error: crate::storage::StorageError) -> Self {
        Self::Storage(error.to_string())
    }
}

pub(super) fn authorized(builder: RequestBuilder, token: &str) -> RequestBuilder {
    builder.header("Authorization", &format!("Bearer {token}"))
}

pub(super) async fn send(
    request: Result<Request, gloo::net::Error>,
) -> Result<Response, SyncError> {
    let request = request.map_err(|e| SyncError::Protocol(e.to_string()))?;
    let response = request.send().await.map_err(|_| SyncError::Offline)?;
    measure_clock(&response);
    check(response).await
}

/// Every answer of the server carries its clock (`Date`, to the second): the phone keeps how far
/// its own is off, and stamps its evidence with it (`PhotoMeta::clock_offset_ms`).
fn measure_clock(response: &Response) {
    let Some(date) = response.headers().get("date") else {
        return;
    };
    if let Ok(server) = chrono::DateTime::parse_from_rfc2822(&date) {
        let offset = server.with_timezone(&chrono::Utc) - chrono::Utc::now();
        crate::state::measured_clock_offset(offset.num_milliseconds());
    }
}

async fn check(response: Response) -> Result<Response, SyncError> {
    match response.status() {
        200..=299 => Ok(response),
        401 => Err(SyncError::Unauthorized),
        // The server itself is busy (its JSON error says so): retried, its message shown.
        503 if is_json(&response) => {
            let body = response
                .json::<ErrorResponse>()
                .await
                .map_err(|e| SyncError::Protocol(e.to_string()))?;
            Err(SyncError::Refused {
                status: 503,
                code: body.error.code,
                message: body.error.message,
            })
        }
        // A proxy or the dev server answering for a dead backend.
        502..=504 => Err(SyncError::Offline),
        status @ 500..=599 => Err(SyncError::Server(status)),
        status => {
            let (code, message) = match response.json::<ErrorResponse>().await {
                Ok(body) => (body.error.code, body.error.message),
                Err(_) => (HTTP_CODE.to_owned(), format!("请求被拒绝（{status}）")),
            };
            Err(SyncError::Refused {
                status,
                code,
                message,
            })
        }
    }
}

fn is_json(response: &Response) -> bool {
    response
        .headers()
        .get("content-type")
        .is_some_and(|t| t.starts_with("application/json"))
}

pub(super) async fn json<T: DeserializeOwned>(response: Response) -> Result<T, SyncError> {
    response
        .json::<T>()
        .await
        .map_err(|e| SyncError::Protocol(e.to_string()))
}

/// Sends `body` as JSON with the token and reads the JSON answer (a create or an update).
pub(super) async fn with_body<B: serde::Serialize, T: DeserializeOwned>(
    token: &str,
    builder: RequestBuilder,
    body: &B,
) -> Result<T, SyncError> {
    json(send(authorized(builder, token).json(body)).await?).await
}

/// The body of a response as a Blob of type `mime` (a file to save or show).
pub(super) async fn blob(response: Response, mime: &str) -> Result<Blob, SyncError> {
    let bytes = response
        .binary()
        .await
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    let array = js_sys::Uint8Array::from(bytes.as_slice());
    let parts = js_sys::Array::of1(&array);
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    Blob::new_with_u8_array_sequence_and_options(&parts, &options)
        .map_err(|e| SyncError::Protocol(format!("{e:?}")))
}

/// `POST /auth/login`.
pub async fn login(
    username: &str,
    password: &str,
    device_id: DeviceId,
    next_seq: u64,
    public_key: Option<String>,
) -> Result<LoginResponse, SyncError> {
    let body = LoginRequest {
        username: username.to_owned(),
        password: password.to_owned(),
        device_id,
        next_seq: Some(next_seq),
        public_key,
    };
    let response = send(Request::post(&format!("{API}/auth/login")).json(&body)).await;
    match response {
        Err(SyncError::Unauthorized) => Err(SyncError::Refused {
            status: 401,
            code: "bad_credentials".to_owned(),
            message: "用户名或密码错误".to_owned(),
        }),
        other => json(other?).await,
    }
}

/// `POST /auth/logout`: the server revokes the token. A token it no longer takes (expired,
/// revoked already) is as good as revoked.
pub async fn logout(token: &str) -> Result<(), SyncError> {
    match send(authorized(Request::post(&format!("{API}/auth/logout")), token).build()).await {
        Ok(_) | Err(SyncError::Unauthorized) => Ok(()),
        Err(e) => Err(e),
    }
}

/// `POST /auth/password`: the signed-in user's new password; their other sessions end.
pub async fn change_password(token: &str, change: &PasswordChange) -> Result<(), SyncError> {
    let request = authorized(Request::post(&format!("{API}/auth/password")), token).json(change);
    match send(request).await {
        Ok(_) => Ok(()),
        Err(SyncError::Unauthorized) => Err(SyncError::Refused {
            status: 401,
            code: "bad_credentials".to_owned(),
            message: "原密码不正确，或登录已过期".to_owned(),
        }),
        Err(e) => Err(e),
    }
}

/// `GET /bootstrap`.
pub async fn bootstrap(token: &str) -> Result<BootstrapResponse, SyncError> {
    json(send(authorized(Request::get(&format!("{API}/bootstrap")), token).build()).await?).await
}

/// `GET /checklists/{id}/{version}`.
pub async fn checklist(
    token: &str,
    id: &str,
    version: u32,
) -> Result<zhicha_core::packs::ChecklistPack, SyncError> {
    let url = format!("{API}/checklists/{id}/{version}");
    json(send(authorized(Request::get(&url), token).build()).await?).await
}

/// `POST /sync/push`.
pub async fn push(token: &str, request: &PushRequest) -> Result<PushResponse, SyncError> {
    let builder = authorized(Request::post(&format!("{API}/sync/push")), token);
    json(send(builder.json(request)).await?).await
}

/// `GET /sync/pull`.
pub async fn pull(
    token: &str,
    cursor: Option<&str>,
    limit: u32,
) -> Result<PullResponse, SyncError> {
    let mut builder = authorized(Request::get(&format!("{API}/sync/pull")), token)
        .query([("limit", limit.to_string())]);
    if let Some(cursor) = cursor {
        builder = builder.query([("cursor", cursor)]);
    }
    json(send(builder.build()).await?).await
}

/// `HEAD /photos/{sha256}`: whether the server holds the photo.
pub async fn photo_held(token: &str, hash: &PhotoHash) -> Result<bool, SyncError> {
    photo_offset(token, hash)
        .await
        .map(|offset| offset.is_none())
}

/// `HEAD /photos/{sha256}`: None when the server holds the photo, else how many bytes of this
/// user's unfinished upload of it the server holds (`Upload-Offset`; 0 when it does not say).
pub async fn photo_offset(token: &str, hash: &PhotoHash) -> Result<Option<u64>, SyncError> {
    let builder = authorized(RequestBuilder::new(&format!("{API}/photos/{hash}")), token)
        .method(Method::HEAD);
    let request = builder
        .build()
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    let response = request.send().await.map_err(|_| SyncError::Offline)?;
    match response.status() {
        404 => Ok(Some(upload_offset(&response).unwrap_or(0))),
        _ => check(response).await.map(|_| None),
    }
}

/// The `Upload-Offset` header of an answer about a photo upload.
fn upload_offset(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(UPLOAD_OFFSET_HEADER)
        .and_then(|value| value.trim().parse().ok())
}

/// The type of a stored evidence file as uploaded: the blob's own (a photo, a PNG signature, a
/// recorded announcement), JPEG when the browser kept none. The server goes by the bytes.
fn content_type(blob: &Blob) -> String {
    let kind = blob.type_();
    if kind.is_empty() {
        "image/jpeg".to_owned()
    } else {
        kind
    }
}

/// `PUT /photos/{sha256}`: the server recomputes the hash and stores the bytes once.
pub async fn put_photo(token: &str, hash: &PhotoHash, blob: &Blob) -> Result<(), SyncError> {
    let builder = authorized(Request::put(&format!("{API}/photos/{hash}")), token)
        .header("Content-Type", &content_type(blob));
    send(builder.body(blob.clone())).await.map(|_| ())
}

/// What the server made of one part of a photo.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartSent {
    /// Taken; the next part starts here.
    Next(u64),
    /// The photo is whole on the server.
    Done,
    /// Not taken: the server's upload stands at this offset.
    Realign(u64),
}

/// `PUT /photos/{sha256}` with `Content-Range`: the bytes `[start, end)` of `blob`, sliced
/// without copying the photo.
pub async fn put_photo_part(
    token: &str,
    hash: &PhotoHash,
    blob: &Blob,
    start: u64,
    end: u64,
) -> Result<PartSent, SyncError> {
    let total = blob.size() as u64;
    let range = ContentRange::of(start, end, total)
        .ok_or_else(|| SyncError::Protocol(format!("照片分段越界：{start}-{end}/{total}")))?;
    let part = blob
        .slice_with_f64_and_f64(start as f64, end as f64)
        .map_err(|e| SyncError::Storage(format!("{e:?}")))?;
    let request = authorized(Request::put(&format!("{API}/photos/{hash}")), token)
        .header("Content-Type", &content_type(blob))
        .header("Content-Range", &range.to_string())
        .body(part)
        .map_err(|e| SyncError::Protocol(e.to_string()))?;
    let response = request.send().await.map_err(|_| SyncError::Offline)?;
    match response.status() {
        200 | 201 => Ok(PartSent::Done),
        202 => {
            let answer: PhotoPartResponse = json(response).await?;
            Ok(PartSent::Next(answer.offset))
        }
        409 if upload_offset(&response).is_some() => {
            Ok(PartSent::Realign(upload_offset(&response).unwrap_or(0)))
        }
        _ => check(response).await.map(|_| PartSent::Done),
    }
}

/// Sends `blob` from `offset` part by part until the server holds it whole. A server that
/// stands elsewhere (a part taken whose answer was lost, a copy it no longer has) says where;
/// a few such turns in a row without progress end the round.
pub async fn upload_photo_from(
    token: &str,
    hash: &PhotoHash,
    blob: &Blob,
    offset: u64,
) -> Result<(), SyncError> {
    let total = blob.size() as u64;
    // An offset at or past the end is a copy the server could not finish: start over.
    let start_at = |offset: u64| if offset < total { offset } else { 0 };
    let mut offset = start_at(offset);
    let mut turns = 0;
    loop {
        let end = (offset + PHOTO_PART_BYTES as u64).min(total);
        match put_photo_part(token, hash, blob, offset, end).await? {
            PartSent::Done => return Ok(()),
            PartSent::Next(next) if next > offset => {
                offset = start_at(next);
                turns = 0;
            }
            PartSent::Next(next) | PartSent::Realign(next) => {
                turns += 1;
                if turns > 3 {
                    return Err(SyncError::Protocol(format!(
                        "照片续传位置多次不符（服务器为 {next} 字节），稍后重试"
                    )));
                }
                offset = start_at(next);
            }
        }
    }
}

/// `GET /sync/receipt?inspection=ID`.
pub async fn receipt(token: &str, inspection: InspectionId) -> Result<ReceiptResponse, SyncError> {
    let builder = authorized(Request::get(&format!("{API}/sync/receipt")), token)
        .query([("inspection", inspection.to_string())]);
    json(send(builder.build()).await?).await
}
