//! Reusable views.

pub mod app_bar;
pub mod corrections;
pub mod draft;
pub mod filter_fold;
pub mod photos;
pub mod qr_scan;
pub mod recording;
pub mod secure_context;
pub mod signature_pad;
pub mod storage_guardian;
pub mod sync_panel;
pub mod update_banner;
