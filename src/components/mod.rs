//! Reusable views.

pub mod storage_guardian;
pub mod update_banner;
