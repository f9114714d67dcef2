//! When sync rounds run: at start, when the network returns, when the app comes back to the
//! foreground, every few minutes, on 立即同步, and after failures with backoff and jitter; and
//! when a good round finds the stored bootstrap old, fetching it again.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use gloo::events::EventListener;
use gloo::timers::callback::{Interval, Timeout};
use leptos::prelude::*;
use zhicha_core::outbox::backoff_delay;

use super::{SyncError, SyncReport, api, sync_once};
use crate::state::{self, Unsynced};
use crate::storage::Db;

/// Rounds while the app is open, even with nothing queued (to pull leaders' decisions).
const PERIOD_MS: u32 = 3 * 60 * 1000;
/// Retries after a failure never wait longer than this, so a device whose server comes back
/// syncs within half a minute; jitter still spreads a fleet's retries apart.
const MAX_RETRY: Duration = Duration::from_secs(25);

/// How old the bootstrap (roster, directory, 我的任务, caps, visit counts) may grow before a good
/// round fetches it again: tasks a leader draws reach phones without a new login.
const BOOTSTRAP_MAX_AGE_MIN: i64 = 30;

/// Fetches the bootstrap again when the stored one is older than `BOOTSTRAP_MAX_AGE_MIN`. A
/// failure keeps what the phone has; the next good round tries again.
async fn refresh_bootstrap(db: &Db) {
    let fresh = db.plan_data().await.is_ok_and(|p| {
        p.fetched_at
            .is_some_and(|at| Utc::now() - at < chrono::Duration::minutes(BOOTSTRAP_MAX_AGE_MIN))
    });
    if fresh {
        return;
    }
    let Ok(Some(session)) = db.session().await else {
        return;
    };
    if let Ok(bootstrap) = api::bootstrap(&session.token).await {
        let _ = db.put_bootstrap(&bootstrap).await;
    }
}

/// What the inspector sees of sync.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SyncStatus {
    pub running: bool,
    pub last_success: Option<DateTime<Utc>>,
    pub last_report: Option<SyncReport>,
    pub error: Option<String>,
    /// The server refused the token: log in again (the queue is untouched).
    pub login_required: bool,
}

/// Handle to the sync engine, provided through context.
#[derive(Clone, Copy)]
pub struct SyncEngine {
    pub status: ReadSignal<SyncStatus>,
    set_status: WriteSignal<SyncStatus>,
    unsynced: Unsynced,
    attempts: StoredValue<u32, LocalStorage>,
    running: StoredValue<Rc<Cell<bool>>, LocalStorage>,
    /// A round was asked for while one was running: run another when it ends, so a record
    /// written during a round does not wait for the next timer.
    again: StoredValue<Rc<Cell<bool>>, LocalStorage>,
}

impl SyncEngine {
    /// The time of the last successful round, changing only when a round succeeds: what a
    /// screen showing synced data reads again on (not every status change, so a failed attempt
    /// in the background never resets a form being filled in).
    pub fn last_success(self) -> Memo<Option<DateTime<Utc>>> {
        Memo::new(move |_| self.status.with(|s| s.last_success))
    }

    /// Runs a round now, or right after the one that is running.
    pub fn sync_now(self) {
        let running = self.running.get_value();
        if running.replace(true) {
            self.again.get_value().set(true);
            return;
        }
        self.again.get_value().set(false);
        self.set_status.update(|s| s.running = true);
        leptos::task::spawn_local(async move {
            let result = match state::db().await {
                Ok(db) => {
                    let result = sync_once(&db).await;
                    if result.is_ok() {
                        refresh_bootstrap(&db).await;
                        // Space, then colleagues' before-photos: after the round, never in it.
                        super::photos::tend_after_round(db.clone());
                    }
                    result
                }
                Err(e) => Err(SyncError::Storage(e.to_string())),
            };
            running.set(false);
            let ok = result.is_ok();
            self.finish(result);
            self.unsynced.refresh();
            // A failed round retries on its own schedule (backoff); a good one serves the
            // request that came in while it ran.
            if ok && self.again.get_value().replace(false) {
                self.sync_now();
            }
        });
    }

    fn finish(self, result: Result<SyncReport, SyncError>) {
        match result {
            Ok(report) => {
                self.attempts.set_value(0);
                self.set_status.update(|s| {
                    *s = SyncStatus {
                        running: false,
                        last_success: Some(Utc::now()),
                        last_report: Some(report),
                        error: None,
                        login_required: false,
                    }
                });
            }
            Err(error) => {
                let login_required =
                    matches!(error, SyncError::Unauthorized | SyncError::NotLoggedIn);
                self.set_status.update(|s| {
                    s.running = false;
                    s.error = (!matches!(error, SyncError::NotLoggedIn)).then(|| error.to_string());
                    s.login_required = login_required;
                });
                if error.is_transient() {
                    self.retry_later();
                }
            }
        }
    }

    fn retry_later(self) {
        let attempt = self.attempts.get_value();
        self.attempts.set_value(attempt.saturating_add(1));
        let delay = backoff_delay(attempt, js_sys::Math::random()).min(MAX_RETRY);
        let millis = u32::try_from(delay.as_millis()).unwrap_or(u32::MAX);
        Timeout::new(millis, move || self.sync_now()).forget();
    }
}

/// Starts the engine and its triggers; call once in the app root.
pub fn provide_sync_engine(unsynced: Unsynced) -> SyncEngine {
    let (status, set_status) = signal(SyncStatus::default());
    let engine = SyncEngine {
        status,
        set_status,
        unsynced,
        attempts: StoredValue::new_local(0),
        running: StoredValue::new_local(Rc::new(Cell::new(false))),
        again: StoredValue::new_local(Rc::new(Cell::new(false))),
    };
    provide_context(engine);
    if let Some(window) = web_sys::window() {
        EventListener::new(&window, "online", move |_| engine.sync_now()).forget();
        if let Some(document) = window.document() {
            let visible = document.clone();
            EventListener::new(&document, "visibilitychange", move |_| {
                if visible.visibility_state() == web_sys::VisibilityState::Visible {
                    engine.sync_now();
                }
            })
            .forget();
        }
    }
    Interval::new(PERIOD_MS, move || engine.sync_now()).forget();
    engine.sync_now();
    engine
}

pub fn use_sync_engine() -> SyncEngine {
    expect_context::<SyncEngine>()
}
