//! The one API error type: knows its HTTP status and renders the protocol's JSON error body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use zhicha_core::protocol::{ErrorBody, ErrorResponse};

/// An error answered to the client as `{ "error": { "code", "message", "field"? } }`.
///
/// Every variant but `Unavailable` and `Internal` is the client's doing and answers 4xx;
/// `Unavailable` is a known condition of the server (503, with a message saying what to do);
/// internal causes are logged and never sent.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("未找到")]
    NotFound,
    #[error("该地址不支持此请求方法")]
    MethodNotAllowed,
    #[error("{message}")]
    BadRequest {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("未登录或登录已过期")]
    Unauthorized,
    #[error("用户名或密码错误")]
    BadCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error("请求内容过大（上限 {limit} 字节）")]
    TooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("尝试次数过多，请 {retry_after_secs} 秒后再试")]
    RateLimited { retry_after_secs: i64 },
    #[error("{message}")]
    Unavailable { code: &'static str, message: String },
    /// Too much at once: 503 with `Retry-After`.
    #[error("{message}")]
    Busy {
        code: &'static str,
        message: String,
        retry_after_secs: i64,
    },
    /// A quota spent: 429 with `Retry-After`.
    #[error("{message}")]
    QuotaExceeded {
        code: &'static str,
        message: String,
        retry_after_secs: i64,
    },
    /// The request body stopped arriving.
    #[error("请求数据传输超时，请在网络稳定时重试")]
    BodyTimeout,
    #[error("服务器内部错误")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 with a stable code and a message for a person, optionally naming the field.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code,
            message: message.into(),
            field: None,
        }
    }

    /// A 400 about one field of the request.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadRequest {
            code: "invalid",
            message: message.into(),
            field: Some(field.into()),
        }
    }

    pub fn forbidden() -> Self {
        Self::Forbidden("无权访问".to_owned())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized | Self::BadCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::RateLimited { .. } | Self::QuotaExceeded { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable { .. } | Self::Busy { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The protocol error body (also used for rejected acks).
    pub fn body(&self) -> ErrorBody {
        let body = ErrorBody::new(self.code(), self.to_string());
        match self {
            Self::BadRequest {
                field: Some(field), ..
            } => body.with_field(field.clone()),
            _ => body,
        }
    }

    /// The stable English identifier clients switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::BadCredentials => "bad_credentials",
            Self::Forbidden(_) => "forbidden",
            Self::Conflict(_) => "conflict",
            Self::TooLarge { .. } => "too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::RateLimited { .. } => "rate_limited",
            Self::Unavailable { code, .. }
            | Self::Busy { code, .. }
            | Self::QuotaExceeded { code, .. } => code,
            Self::BodyTimeout => "body_timeout",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("database"))
    }
}

impl From<object_store::Error> for ApiError {
    fn from(error: object_store::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("photo store"))
    }
}

impl From<std::io::Error> for ApiError {
    fn from(error: std::io::Error) -> Self {
        Self::Internal(anyhow::Error::new(error).context("file system"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Self::Internal(cause) = &self {
            tracing::error!(error = ?cause, "internal error");
        }
        let mut response = (status, Json(ErrorResponse::from(self.body()))).into_response();
        match &self {
            Self::RateLimited { retry_after_secs }
            | Self::Busy {
                retry_after_secs, ..
            }
            | Self::QuotaExceeded {
                retry_after_secs, ..
            } => {
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
            }
            Self::Unauthorized | Self::BadCredentials => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}
