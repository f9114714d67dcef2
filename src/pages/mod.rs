//! Routed pages, one per file. Their paths are `routes::Page`'s; the table from a path to its
//! page is `app::view_for_path`.

pub mod admin;
pub mod cases;
pub mod home;
pub mod inspect;
pub mod leader;
pub mod login;
pub mod not_found;
pub mod reinspect;
pub mod report;
pub mod storage;
pub mod sync_errors;
pub mod tasks;

pub use crate::routes::Page;
