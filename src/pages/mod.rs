//! Routed pages, one per file. `Page` owns every path so no other code spells one out.

pub mod home;
pub mod login;
pub mod not_found;
pub mod storage;
pub mod sync_errors;

/// Every routed page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Home,
    Login,
    Storage,
    SyncErrors,
}

impl Page {
    /// The path a link to this page uses.
    pub fn path(self) -> &'static str {
        match self {
            Self::Home => "/",
            Self::Login => "/login",
            Self::Storage => "/storage",
            Self::SyncErrors => "/sync-errors",
        }
    }
}
