//! The one API error type: knows its HTTP status and renders the protocol's JSON error body.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to the client as `{ "error": { "code", "message", "field"? } }`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("{message}")]
    BadRequest { code: &'static str, message: String, field: Option<String> },
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::NotFound => "not_found",
            Self::BadRequest { code, .. } => code,
            Self::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            // Internal causes are logged, never sent.
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "服务器内部错误".to_owned()
            }
            Self::NotFound => "未找到".to_owned(),
            other => other.to_string(),
        };
        let mut body = json!({ "code": self.code(), "message": message });
        if let Self::BadRequest { field: Some(field), .. } = &self {
            body["field"] = json!(field);
        }
        (status, Json(json!({ "error": body }))).into_response()
    }
}
