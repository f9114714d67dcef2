//! `HEAD|PUT|GET /photos/{sha256}`: check-then-put, verified, create-only photo upload, and
//! download for those who may see a record whose reference of the photo counts (see
//! `db::photos`: a hash alone opens nothing).

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use zhicha_core::ids::PhotoHash;
use zhicha_core::protocol::{MAX_PHOTO_BYTES, PhotoUploadResponse};

use crate::auth::Session;
use crate::extract::{Json, Path};
use crate::photos::{Stored, image_type};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/photos/{sha256}", get(download).head(exists).put(upload))
}

/// The path segment as a hash: exactly 64 lowercase hex characters, so it can never be a
/// path trick once it becomes a storage key.
fn parse_hash(text: &str) -> Result<PhotoHash, ApiError> {
    PhotoHash::parse(text).map_err(|e| ApiError::invalid_field("sha256", e.to_string()))
}

/// 200 when the server holds the photo, 404 when it should be uploaded.
#[utoipa::path(
    head,
    path = "/api/v1/photos/{sha256}",
    tag = "photos",
    security(("bearer" = [])),
    params(("sha256" = String, Path, description = "SHA-256 of the photo bytes, 64 lowercase hex")),
    responses((status = 200, description = "held"), (status = 404, description = "not held"))
)]
pub async fn exists(
    State(state): State<AppState>,
    _session: Session,
    Path(sha256): Path<String>,
) -> Result<StatusCode, ApiError> {
    let hash = parse_hash(&sha256)?;
    if state.store.photo_recorded(&hash).await? {
        Ok(StatusCode::OK)
    } else {
        Err(ApiError::NotFound)
    }
}

/// Uploads the bytes; the server recomputes the hash and writes create-only. The uploader is
/// recorded even when the photo was held already: the bytes matched, so they may reference it.
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
        (status = 400, description = "hash mismatch or malformed hash", body = zhicha_core::protocol::ErrorResponse),
        (status = 413, description = "larger than 10 MB", body = zhicha_core::protocol::ErrorResponse),
        (status = 415, description = "not an image", body = zhicha_core::protocol::ErrorResponse),
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
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_PHOTO_BYTES as u64) {
        return Err(ApiError::TooLarge {
            limit: MAX_PHOTO_BYTES,
        });
    }
    let bytes = state.photos.receive(&hash, declared, body).await?;
    let size = bytes.len() as u64;
    // Asked before writing: a row that appears meanwhile only makes the write more careful.
    let recorded = state.store.photo_recorded(&hash).await?;
    let stored = state.photos.put(&hash, bytes, recorded).await?;
    state.store.record_photo(&hash, size, &session.user).await?;
    let status = match stored {
        Stored::Created => StatusCode::CREATED,
        Stored::AlreadyHeld => StatusCode::OK,
    };
    let body = PhotoUploadResponse {
        hash,
        bytes: size,
        created: stored == Stored::Created,
    };
    Ok((status, Json(body)).into_response())
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
    let mime = image_type(&bytes).unwrap_or("application/octet-stream");
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
