//! The inspector's day: enterprise picker, start and check-in, checklist runner, finding editor,
//! finish with signatures, and the documents. Every change is written to the device at once.

mod documents;
mod entry;
mod finding;
pub(crate) mod finish;
mod picker;
mod runner;
mod start;
mod start_data;

use std::rc::Rc;

use zhicha_core::ids::InspectionId;
use zhicha_core::model::{Enterprise, Inspection};
use zhicha_core::packs::ChecklistPack;
use zhicha_core::validation::FieldError;

use crate::state;
use crate::storage::{Db, Session};

pub use documents::{DocumentsPage, documents_pdf};
pub use finding::{FindingPage, NewFindingPage};
pub use finish::FinishPage;
pub(crate) use finish::org_code;
pub use picker::PickEnterprisePage;
pub use runner::InspectionPage;
pub use start::{StartInspectionPage, StartPage};
pub use start_data::StartFrom;

/// The database, with its error in the inspector's words.
async fn open_db() -> Result<Rc<Db>, String> {
    state::db().await.map_err(|e| e.to_string())
}

/// The signed-in session; recording needs to know who records.
async fn signed_in(db: &Db) -> Result<Session, String> {
    db.session()
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "尚未登录。请联网登录一次，下载离线资料后再开始检查。".to_owned())
}

/// The checklist packs on the device (downloaded at login; none before the first login).
async fn registry(db: &Db) -> Vec<ChecklistPack> {
    db.packs().await.unwrap_or_default()
}

/// The inspection a page's address names, with what is wrong in the inspector's words.
async fn stored_inspection(db: &Db, id: Option<InspectionId>) -> Result<Inspection, String> {
    let id = id.ok_or_else(|| "链接不完整：缺少检查编号。".to_owned())?;
    db.inspection(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这次检查的记录。".to_owned())
}

async fn enterprise(db: &Db, id: &str) -> Result<Enterprise, String> {
    db.enterprise(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| "本机没有这家单位的资料。".to_owned())
}

/// Field errors as one readable list.
pub(crate) fn messages(errors: &[FieldError]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in errors {
        if !out.contains(&e.message) {
            out.push(e.message.clone());
        }
    }
    out
}

/// `2026-11-26 09:30` in China Standard Time.
fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    zhicha_core::time::minute(at)
}

/// Quiet time after the last keystroke before a text field is saved.
const AUTOSAVE_MS: u32 = 700;

/// Handlers that save a text field while it is typed (after a short pause) and when it is left,
/// so closing the app mid-sentence loses at most the last moment of typing. `save` gets the raw
/// value while typing and the trimmed one when the field is left.
fn autosave<F>(
    save: F,
) -> (
    impl Fn(leptos::ev::Event) + Copy + 'static,
    impl Fn(leptos::ev::Event) + Copy + 'static,
)
where
    F: Fn(String) + Copy + 'static,
{
    use leptos::prelude::{LocalStorage, SetValue, StoredValue, event_target_value};
    let pending: StoredValue<Option<gloo::timers::callback::Timeout>, LocalStorage> =
        StoredValue::new_local(None);
    let on_input = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        // Replacing the timer drops, and so cancels, the one before.
        pending.set_value(Some(gloo::timers::callback::Timeout::new(
            AUTOSAVE_MS,
            move || save(value),
        )));
    };
    let on_change = move |ev: leptos::ev::Event| {
        pending.set_value(None);
        save(event_target_value(&ev).trim().to_owned());
    };
    (on_input, on_change)
}
