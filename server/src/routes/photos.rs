//! `HEAD|PUT|GET /photos/{sha256}`: check-then-put, verified, create-only photo upload —
//! whole, or in parts (`Content-Range`) that resume after a cut from the offset `HEAD` reports —
//! and download for those who may see a record whose reference of the photo counts (see
//! `db::photos`: a hash alone opens nothing).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use zhicha_core::ids::PhotoHash;
use zhicha_core::protocol::{
    ContentRange, ErrorBody, MAX_PHOTO_BYTES, PhotoOffsetError, PhotoPartResponse,
    PhotoUploadResponse, UPLOAD_OFFSET_HEADER,
};

use crate::auth::Session;
use crate::extract::{Json, Path};
use crate::photos::{Part, PartError, Stored, evidence_type};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos/{sha256}", get(download).head(exists).put(upload))
}

/// The path segment as a hash: exactly 64 lowercase hex characters, so it can never be a
/// path trick once it becomes a storage key.
fn parse_hash(text: &str) -> Result<PhotoHash, ApiError> {
    PhotoHash::parse(text).map_err(|e| ApiError::invalid_field("sha256", e.to_string()))
}

/// 200 when the server holds the photo, 404 when it should be uploaded; the 404 says in
/// `Upload-Offset` how many bytes of the caller's own unfinished upload the server holds.
#[utoipa::path(
    head,
    path = "/api/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 lowercase hex")),
    responses(
        (status = 200, description = "held"),
        (status = 404, description = "not held; `Upload-Offset`: bytes of the caller's unfinished upload held (0 if none)"),
    )
)]
pub async fn exists(
    State(state): State<AppState>,
    session: Session,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&sha256)?;
    if state.store.photo_recorded(&hash).await? {
        return Ok(StatusCode::OK.into_response());
    }
    let offset = state.photos.staged_offset(&hash, session.user.id).await?;
    let mut response = ApiError::NotFound.into_response();
    set_offset(&mut response, offset);
    Ok(response)
}

fn set_offset(response: &mut Response, offset: u64) {
    response
        .headers_mut()
        .insert(UPLOAD_OFFSET_HEADER, HeaderValue::from(offset));
}

/// Uploads the bytes; the server recomputes the hash and writes create-only. The uploader is
/// recorded even when the photo was held already: the bytes matched, so they may reference it.
///
/// With `Content-Range: bytes START-END/TOTAL` the body is one part: it must start where the
/// caller's staged bytes end (`HEAD`'s `Upload-Offset`), or at 0 to start over; 202 until the
/// last part, which answers as a whole upload.
#[utoipa::path(
    put,
    path = "/api/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 lowercase hex")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses(
        (status = 201, description = "stored", body = PhotoUploadResponse),
        (status = 200, description = "already held", body = PhotoUploadResponse),
        (status = 202, description = "a part stored; `Upload-Offset` says where the next starts", body = PhotoPartResponse),
        (status = 400, description = "hash mismatch (`hash_mismatch`), malformed hash or `Content-Range` (`bad_range`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 408, description = "the body stopped arriving (`body_timeout`); a part's bytes received are kept", body = zhicha_core::protocol::ErrorResponse),
        (status = 409, description = "a part not at the caller's offset (`upload_offset`); `Upload-Offset` and `offset` say where to start", body = PhotoOffsetError),
        (status = 413, description = "larger than 10 MB", body = zhicha_core::protocol::ErrorResponse),
        (status = 415, description = "not an image", body = zhicha_core::protocol::ErrorResponse),
        (status = 429, description = "the user's photo quota for 24 hours is spent (`photo_quota`, `Retry-After`)", body = zhicha_core::protocol::ErrorResponse),
        (status = 503, description = "too many uploads at once (`busy`), or this upload's previous request still running (`upload_in_progress`); `Retry-After`", body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    Path(sha256): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&sha256)?;
    if headers.contains_key(header::CONTENT_RANGE) {
        return Ok(closing_on_refusal(
            upload_part(&state, &session, hash, &headers, body).await,
        ));
    }
    let Some(_slot) = state.uploads.enter().await else {
        return Err(busy());
    };
    let declared = declared_length(&headers);
    if declared.is_some_and(|len| len > MAX_PHOTO_BYTES as u64) {
        return Err(ApiError::TooLarge {
            limit: MAX_PHOTO_BYTES,
        });
    }
    // A photo the server holds costs no quota: its bytes are stored once.
    let recorded = state.store.photo_recorded(&hash).await?;
    if !recorded {
        check_quota(&state, &session, declared.unwrap_or(0)).await?;
    }
    let bytes = state.photos.receive(&hash, declared, body).await?;
    let size = bytes.len() as u64;
    if !recorded && declared.is_none() {
        check_quota(&state, &session, size).await?;
    }
    let stored = state.photos.put(&hash, bytes, recorded).await?;
    state.store.record_photo(&hash, size, &session.user).await?;
    state.photos.remove_staged(&hash, session.user.id).await;
    Ok(uploaded(hash, size, stored))
}

/// The answer to a whole photo stored.
fn uploaded(hash: PhotoHash, size: u64, stored: Stored) -> Response {
    let status = match stored {
        Stored::Created => StatusCode::CREATED,
        Stored::AlreadyHeld => StatusCode::OK,
    };
    let body = PhotoUploadResponse {
        hash,
        bytes: size,
        created: stored == Stored::Created,
    };
    (status, Json(body)).into_response()
}

fn busy() -> ApiError {
    ApiError::Busy {
        code: "busy",
        message: "同时上传照片的设备较多，请稍后重试".to_owned(),
        retry_after_secs: 5,
    }
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
}

/// A refused part is mostly answered before its body was read: the connection then closes
/// (`Connection: close`), so the client stops sending the rest and sends its next request on a
/// fresh connection instead of into one the server drops, which would cost a whole part.
fn closing_on_refusal(result: Result<Response, ApiError>) -> Response {
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    if !response.status().is_success() {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// One part of a resumable upload (see [`upload`]). The quota is checked for the whole photo
/// before each part is taken (a part the quota refuses leaves the staged bytes for later), and
/// counted once, when the photo is recorded.
async fn upload_part(
    state: &AppState,
    session: &Session,
    hash: PhotoHash,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let range = headers
        .get(header::CONTENT_RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(ContentRange::parse)
        .ok_or_else(|| {
            ApiError::bad_request(
                "bad_range",
                "Content-Range 格式应为 bytes 起-止/总长（止 < 总长）",
            )
        })?;
    if range.total > MAX_PHOTO_BYTES as u64 {
        return Err(ApiError::TooLarge {
            limit: MAX_PHOTO_BYTES,
        });
    }
    if declared_length(headers).is_some_and(|len| len > range.bytes()) {
        return Err(ApiError::bad_request(
            "bad_range",
            "上传内容长于 Content-Range 所述范围",
        ));
    }
    let Some(_slot) = state.uploads.enter().await else {
        return Err(busy());
    };
    let recorded = state.store.photo_recorded(&hash).await?;
    if !recorded {
        check_quota(state, session, range.total).await?;
    }
    let part = state
        .photos
        .receive_part(&hash, session.user.id, range, body)
        .await;
    let (staged, bytes) = match part {
        Ok(Part::Complete(staged, bytes)) => (staged, bytes),
        Ok(Part::Partial(offset)) => {
            let body = PhotoPartResponse {
                hash,
                offset,
                total: range.total,
            };
            let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
            set_offset(&mut response, offset);
            return Ok(response);
        }
        Err(PartError::Offset(offset)) => {
            let error = ErrorBody::new(
                "upload_offset",
                format!("续传位置不符：服务器已收到 {offset} 字节，请从此处继续"),
            );
            let body = PhotoOffsetError { error, offset };
            let mut response = (StatusCode::CONFLICT, Json(body)).into_response();
            set_offset(&mut response, offset);
            return Ok(response);
        }
        Err(PartError::Api(error)) => return Err(error),
    };
    let size = bytes.len() as u64;
    let stored = match state.photos.put(&hash, bytes, recorded).await {
        Ok(stored) => state
            .store
            .record_photo(&hash, size, &session.user)
            .await
            .map(|()| stored)
            .map_err(ApiError::from),
        Err(error) => Err(error),
    };
    // Recorded first, so that `HEAD` never finds the photo neither held nor staged. Stored or
    // not, the staged copy has served: a failed store starts the upload over.
    staged.remove().await;
    Ok(uploaded(hash, size, stored?))
}

/// 429 when `adding` more bytes would take the user past their quota of new photos within
/// 24 hours; `Retry-After` says when the oldest upload of the window leaves it.
async fn check_quota(state: &AppState, session: &Session, adding: u64) -> Result<(), ApiError> {
    let quota = state
        .config
        .limits
        .photo_quota_mb
        .saturating_mul(1024 * 1024);
    let now = Utc::now();
    let since = (now - Duration::hours(24)).to_rfc3339_opts(SecondsFormat::Millis, true);
    let (used, oldest) = state.store.photo_bytes_since(&session.user, &since).await?;
    if used.saturating_add(adding) <= quota {
        return Ok(());
    }
    let frees_at = oldest
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map_or(now + Duration::hours(24), |t| {
            t.with_timezone(&Utc) + Duration::hours(24)
        });
    tracing::info!(user = %session.user.username, used, quota, "photo quota spent");
    Err(ApiError::QuotaExceeded {
        code: "photo_quota",
        message: format!(
            "24 小时内上传的新照片已达上限（{} MB），照片仍保存在本机，稍后自动续传；如确需更多，请联系管理员调整",
            state.config.limits.photo_quota_mb
        ),
        retry_after_secs: (frees_at - now).num_seconds().max(1),
    })
}

/// The bytes, for users who may see a record that references the photo.
#[utoipa::path(
    get,
    path = "/api/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 lowercase hex")),
    responses(
        (status = 200, description = "the photo", content_type = "image/jpeg"),
        (status = 403, body = zhicha_core::protocol::ErrorResponse),
        (status = 404, body = zhicha_core::protocol::ErrorResponse),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    session: Session,
    Path(sha256): Path<String>,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&sha256)?;
    // Not held yet (whether the server holds a hash is no secret: `HEAD` says so to anyone):
    // 404, so a device tells a photo still on its way from one it may not see. Bytes not
    // recorded may also be an upload a power cut interrupted (see `photos`).
    if !state.store.photo_recorded(&hash).await? {
        return Err(ApiError::NotFound);
    }
    if !state.store.photo_visible(&hash, &session.scope).await? {
        return Err(ApiError::forbidden());
    }
    let bytes = state.photos.get(&hash).await?.ok_or(ApiError::NotFound)?;
    let mime = evidence_type(&bytes).unwrap_or("application/octet-stream");
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Content-addressed: the bytes under this name never change.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    Ok(response)
}
