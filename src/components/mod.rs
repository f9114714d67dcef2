//! Reusable views.

pub mod storage_guardian;
pub mod sync_panel;
pub mod update_banner;
