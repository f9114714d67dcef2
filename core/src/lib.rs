//! `zhicha-core`: the rules of 直查 shared by the PWA and the server — pure Rust, no I/O.
//!
//! - `ids`: UUIDv7 newtype ids, pack ids, content hashes of photos.
//! - `model`: sectors, orgs, users, enterprises, inspections, findings, photos.
//! - `lifecycle`: the finding state machine with role rules; derived overdue.
//! - `validation`: field-level errors with Chinese messages.
//! - `documents`: which 执法文书 an inspection needs, their fields, offline numbering.
//! - `evidence`: the hash-chained event log and the phones' signatures on mutations.
//! - `finality`: once documents are issued, records change only by a recorded correction.
//! - `fieldwork`: the inspector's screens as rules: start, findings from items, progress, finish.
//! - `fire`: GB 35181 composite judgement during an inspection (venues, counts, the proposal).
//! - `case`: 案件 from 预立案 to 结案: the record, its stages, who moves them, the law's clocks.
//! - `complaint`: 举报 from the public page: checks, time limits, the tracking code, decisions.
//! - `plan`: annual plans (150号 days), classes and caps, the 双随机 draw, 扫码入企, tasks.
//! - `packs`: the embedded sector checklist packs (`checklists/*.json`).
//! - `protocol`: the sync wire types (protocol.md); `openapi` feature derives schemas.
//! - `outbox`: the device outbox as pure functions over its stored entries.
//! - `push`: the server's push rules: classifying a batch, the conflict rule.
//! - `org`: the org tree: subtrees, ancestors, the authority that numbers documents.
//! - `time`: China Standard Time and every way a time is shown.
//! - `storage_budget`: the phone's photo space: pruning confirmed images, the forecast, caching.
//! - `wire`: the one spelling of each enum stored as text.
//! - `ledger`: the leader's ledger and statistics query/answer types.
//! - `admin`: the web admin's wire types (accounts, org units, directory import and merge).

pub mod admin;
pub mod case;
pub mod complaint;
pub mod documents;
pub mod evidence;
pub mod fieldwork;
pub mod finality;
pub mod fire;
pub mod home;
pub mod ids;
pub mod ledger;
pub mod lifecycle;
pub mod model;
pub mod org;
pub mod outbox;
pub mod packs;
pub mod plan;
pub mod protocol;
pub mod push;
pub mod revision;
pub mod storage_budget;
pub mod time;
pub mod validation;
pub mod wire;

/// The product name as shown to users.
pub const APP_NAME: &str = "直查";

/// The full product title used in the manifest and the page header.
pub const APP_TITLE: &str = "直查 · 安全生产现场检查";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_title_starts_with_the_short_name() {
        assert!(APP_TITLE.starts_with(APP_NAME));
    }
}
