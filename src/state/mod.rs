//! App-wide state: the one open database, and small `Copy` handles provided through context.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::prelude::*;

use crate::storage::{DB_NAME, Db, StorageError, UnsyncedCounts};

thread_local! {
    static SHARED_DB: RefCell<Option<Rc<Db>>> = const { RefCell::new(None) };
    /// The phone's clock against the server's (server minus phone, ms), from the last answer.
    static CLOCK_OFFSET_MS: Cell<Option<i64>> = const { Cell::new(None) };
}

/// The `meta` key the clock offset is kept under, so a phone that starts offline still knows it.
const CLOCK_OFFSET_KEY: &str = "clock_offset_ms";

/// The phone's clock against the server's as last measured (server minus phone, ms), for the
/// evidence it stamps; None before the phone has ever reached the server.
pub fn clock_offset_ms() -> Option<i64> {
    CLOCK_OFFSET_MS.with(Cell::get)
}

/// Records the offset measured from a server's answer, and keeps it on the phone.
pub fn measured_clock_offset(offset_ms: i64) {
    let changed = clock_offset_ms().is_none_or(|old| (old - offset_ms).abs() > 1_000);
    CLOCK_OFFSET_MS.with(|c| c.set(Some(offset_ms)));
    if changed {
        leptos::task::spawn_local(async move {
            if let Ok(db) = db().await {
                let _ = db.put_meta(CLOCK_OFFSET_KEY, &offset_ms).await;
            }
        });
    }
}

/// The app's database, opened on first use and shared afterwards.
pub async fn db() -> Result<Rc<Db>, StorageError> {
    if let Some(db) = SHARED_DB.with(|slot| slot.borrow().clone()) {
        return Ok(db);
    }
    let db = Rc::new(Db::open(DB_NAME).await?);
    SHARED_DB.with(|slot| *slot.borrow_mut() = Some(db.clone()));
    if clock_offset_ms().is_none()
        && let Ok(Some(offset)) = db.get_meta::<i64>(CLOCK_OFFSET_KEY).await
    {
        CLOCK_OFFSET_MS.with(|c| c.set(Some(offset)));
    }
    Ok(db)
}

/// What is on the device and not on the server, refreshed after every local write and sync.
/// `None` until first read: unknown counts are treated as "something may be unsynced".
#[derive(Clone, Copy)]
pub struct Unsynced {
    pub counts: ReadSignal<Option<UnsyncedCounts>>,
    set: WriteSignal<Option<UnsyncedCounts>>,
}

impl Unsynced {
    /// Re-reads the counts from the database.
    pub fn refresh(self) {
        leptos::task::spawn_local(async move {
            if let Ok(counts) = read_unsynced().await {
                self.set.set(Some(counts));
            }
        });
    }

    /// Everything is known to be on the server.
    pub fn is_clear(self) -> bool {
        self.counts.get().is_some_and(is_clear)
    }
}

/// Reads the unsynced counts straight from the database.
pub async fn read_unsynced() -> Result<UnsyncedCounts, StorageError> {
    db().await?.unsynced_counts().await
}

pub fn is_clear(counts: UnsyncedCounts) -> bool {
    counts == UnsyncedCounts::default()
}

pub fn provide_unsynced() -> Unsynced {
    let (counts, set) = signal(None);
    let unsynced = Unsynced { counts, set };
    unsynced.refresh();
    provide_context(unsynced);
    unsynced
}

pub fn use_unsynced() -> Unsynced {
    expect_context::<Unsynced>()
}

/// Refuses to log out while anything is unsynced: logging out would strand it on the device.
pub fn logout_refusal(counts: UnsyncedCounts) -> Option<String> {
    (!is_clear(counts)).then(|| {
        format!(
            "还有 {} 条记录、{} 张照片未同步，{} 条同步错误待处理。请先同步，再退出登录。",
            counts.mutations, counts.photos, counts.errors
        )
    })
}
