//! Routed pages, one per file. `Page` owns every path so no other code spells one out.

pub mod home;
pub mod not_found;
pub mod storage;

/// Every routed page of the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    Home,
    Storage,
}

impl Page {
    /// The path a link to this page uses.
    pub fn path(self) -> &'static str {
        match self {
            Self::Home => "/",
            Self::Storage => "/storage",
        }
    }
}
