//! The web admin's wire types (`/api/v1/admin/…`): accounts, org units and the enterprise
//! directory of the admin's own bureau (his org unit's subtree; a superuser's: all of them).
//!
//! Every task of the operator's command line except `user superuser` (command line only) has a
//! call here; protocol.md § Admin lists them.

use serde::{Deserialize, Serialize};

use crate::ids::{EnterpriseId, OrgId, UserId};
use crate::model::{Enterprise, Role};

/// Most rows an import may hold (a county's directory is a few thousand).
pub const MAX_IMPORT_ROWS: usize = 20_000;
/// Largest import file accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 8 * 1024 * 1024;

/// An account as the admin sees it (never with credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminUser {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub org_id: OrgId,
    #[serde(default)]
    pub certificate_no: Option<String>,
    /// A disabled account cannot log in and has no valid session.
    pub active: bool,
    /// Region-wide admin (set only from the command line).
    #[serde(default)]
    pub superuser: bool,
}

/// `POST /admin/users`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewUser {
    pub username: String,
    /// Defaults to the user name when empty.
    #[serde(default)]
    pub display_name: String,
    pub role: Role,
    pub org_id: OrgId,
    /// 执法证号.
    #[serde(default)]
    pub certificate_no: Option<String>,
    pub password: String,
}

/// `PATCH /admin/users/{id}`: the fields given change, the others stay.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Moves the account to another team or unit of the admin's bureau.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org_id: Option<OrgId>,
    /// 执法证号; an empty string clears it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate_no: Option<String>,
    /// `false` disables the account and ends every session of it; `true` enables it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

/// `POST /admin/users/{id}/password`: the admin sets a new password; every session ends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasswordReset {
    pub password: String,
}

/// A session still valid: one phone signed in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AdminSession {
    pub device_id: String,
    /// The short code in the phone's document numbers, e.g. `A3`.
    #[serde(default)]
    pub device_code: Option<String>,
    /// RFC 3339.
    pub since: String,
    pub until: String,
}

/// `POST /admin/users/{id}/revoke`: one phone's sessions (by device id or code), or all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeRequest {
    #[serde(default)]
    pub device: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeResponse {
    pub revoked: u64,
}

/// `POST /admin/orgs`: a unit under `parent_id` (a root bureau only for a superuser);
/// `doc_code` and `region` default to the parent's when empty; `review_authority` and `court`
/// stay empty then (the nearest ancestor's apply).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewOrg {
    #[serde(default)]
    pub parent_id: Option<OrgId>,
    pub name: String,
    #[serde(default)]
    pub doc_code: String,
    #[serde(default)]
    pub region: String,
    /// 行政复议机关 named in the rights notice (权利告知); empty: the nearest ancestor's.
    #[serde(default)]
    pub review_authority: String,
    /// The court named in the rights notice; empty: the nearest ancestor's.
    #[serde(default)]
    pub court: String,
}

/// `PATCH /admin/orgs/{id}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OrgUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// 行政复议机关 of the rights notice; an empty string clears it (the ancestor's apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_authority: Option<String>,
    /// Court of the rights notice; an empty string clears it (the ancestor's apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub court: Option<String>,
}

/// `GET /admin/enterprises?q=…&ad_hoc=true&limit=…`: the directory of the admin's bureau.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnterpriseList {
    pub enterprises: Vec<Enterprise>,
    /// All matching entries (the list holds at most `limit`).
    pub total: u64,
}

/// One good row of an import file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRow {
    /// The spreadsheet's row number (the header is row 1).
    pub line: u64,
    pub enterprise: Enterprise,
    /// The 统一社会信用代码 is already in the directory: the row updates that entry.
    pub updates: bool,
}

/// One row skipped, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportRowError {
    pub line: u64,
    pub message: String,
}

/// `POST /admin/enterprises/import?org_id=…&commit=false|true` with the file as the body
/// (xlsx, or CSV in UTF-8 or GBK): the preview (nothing written) or the import itself (the good
/// rows written, the bad ones skipped).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ImportReport {
    pub rows: Vec<ImportRow>,
    pub errors: Vec<ImportRowError>,
    /// Rows written (0 for a preview).
    pub imported: u64,
    pub committed: bool,
}

/// `POST /admin/enterprises/{id}/merge`: an enterprise added on site joins a directory entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeRequest {
    pub into: EnterpriseId,
}

/// What a merge moved onto the directory entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MergeResponse {
    pub inspections: u64,
    pub findings: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_names_only_the_fields_it_changes() {
        let update = UserUpdate {
            active: Some(false),
            ..UserUpdate::default()
        };
        assert_eq!(
            serde_json::to_string(&update).unwrap(),
            r#"{"active":false}"#
        );
        let back: UserUpdate = serde_json::from_str(r#"{"role":"leader"}"#).unwrap();
        assert_eq!(back.role, Some(Role::Leader));
        assert_eq!(back.active, None);
    }
}
