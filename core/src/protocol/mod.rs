//! The wire contract of the sync protocol (protocol.md): requests, responses, mutations and
//! their typed payloads, pull changes, receipts, error bodies and the protocol limits.
//!
//! Every request/response pair is `XxxRequest` / `XxxResponse` with a doc line naming its
//! endpoint. With the `openapi` feature every type here derives `utoipa::ToSchema`.
//!
//! Split by subject: `mutation` (what a device changes), `sync` (push, pull, receipts), `photos`
//! (uploads, whole or in parts); login, bootstrap and the error body are here. Everything is
//! re-exported, so `protocol::X` names every type.

mod mutation;
mod photos;
mod sync;
#[cfg(test)]
pub(crate) mod tests;

pub use mutation::*;
pub use photos::*;
pub use sync::*;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{DeviceId, PackId};
use crate::model::{Enterprise, Finding, OrgUnit, Sector, Subsector, User};

/// At most this many mutations in one push.
pub const MAX_BATCH_MUTATIONS: usize = 100;
/// At most this many bytes of serialized mutations in one push (a lone larger mutation is still
/// sent alone, see `outbox`).
pub const MAX_BATCH_BYTES: usize = 256 * 1024;
/// Largest accepted photo upload.
pub const MAX_PHOTO_BYTES: usize = 10 * 1024 * 1024;
/// Largest accepted JSON request body.
pub const MAX_JSON_BYTES: usize = 1024 * 1024;
/// Default and largest page size of a pull.
pub const DEFAULT_PULL_LIMIT: u32 = 200;
pub const MAX_PULL_LIMIT: u32 = 1000;

/// `POST /api/v1/auth/login`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    pub device_id: DeviceId,
    /// The seq the device's next new mutation will get. The server refuses a login as another
    /// user while the device still holds mutations (seqs) the server has not applied: they
    /// belong to the user who made them and would otherwise be lost or pushed under the wrong
    /// name. Absent from older apps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_seq: Option<u64>,
    /// The device's signing key (`evidence`): an ECDSA P-256 public key, uncompressed SEC1
    /// bytes in hex. Registered for the device; from `next_seq` on, every mutation it pushes
    /// must be signed by it. Absent from older apps and browsers without WebCrypto.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// `POST /api/v1/auth/login` → 200.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    /// Bearer token for `Authorization: Bearer …`.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
    /// Short code of this device within the user's org, used in offline document numbers
    /// (see `documents::DeviceCode`); stable for a (org, device) pair.
    pub device_code: String,
    /// The id of the registered `public_key` (`evidence::key_id`), when one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_id: Option<String>,
}

/// `POST /api/v1/auth/password`: a user changes their own password. Every other session of the
/// user ends; the one that asked stays. → 204.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// Fewest characters of a password.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// Most bytes of a password the server hashes.
pub const MAX_PASSWORD_BYTES: usize = 1000;

/// Why a new password is not taken, in Chinese, or None when it is fine.
pub fn new_password_problem(password: &str, current: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        Some("新密码至少 8 个字符")
    } else if password.len() > MAX_PASSWORD_BYTES {
        Some("新密码过长")
    } else if password == current {
        Some("新密码不能与原密码相同")
    } else if password == crate::protocol::DEMO_PASSWORD {
        Some("不能使用公开的演示密码")
    } else {
        None
    }
}

/// The demo accounts' password, published in the README: never a real one.
pub const DEMO_PASSWORD: &str = "zhicha-demo";

/// One checklist pack version the device should hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PackSummary {
    pub id: PackId,
    pub version: u32,
    pub title: String,
    pub sector: Sector,
    #[serde(default)]
    pub subsectors: Vec<Subsector>,
    #[serde(default)]
    pub item_count: u32,
}

/// `GET /api/v1/bootstrap` → what a device needs to work a whole day offline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BootstrapResponse {
    pub user: User,
    /// The user's team (and, for leaders, their org subtree), for choosing co-inspectors.
    pub roster: Vec<User>,
    pub packs: Vec<PackSummary>,
    pub enterprises: Vec<Enterprise>,
    /// The user's open findings, for re-inspection offline.
    pub open_findings: Vec<Finding>,
    /// The org units visible to the user (for names and document codes).
    #[serde(default)]
    pub orgs: Vec<OrgUnit>,
    /// Server time, so the device can show how far its own clock is off.
    #[serde(default)]
    pub server_time: Option<DateTime<Utc>>,
    /// Open tasks of the user's scope (我的任务), carried offline.
    #[serde(default)]
    pub tasks: Vec<crate::plan::Task>,
    /// The yearly caps in force for the user's bureau.
    #[serde(default)]
    pub caps: Vec<crate::plan::CapRule>,
    /// This year's inspections per enterprise of the directory (those with any).
    #[serde(default)]
    pub visits: Vec<crate::plan::api::Visits>,
}

/// The one error shape: `{ "error": { "code", "message", "field"? } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable English identifier, e.g. `validation`, `forbidden`, `invalid_transition`.
    pub code: String,
    /// Readable by a person (Chinese for validation messages).
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }
}

/// Every 4xx/5xx body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResponse {
    pub error: ErrorBody,
}

impl From<ErrorBody> for ErrorResponse {
    fn from(error: ErrorBody) -> Self {
        Self { error }
    }
}
