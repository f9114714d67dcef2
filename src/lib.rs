//! 直查 zhicha — the offline field-inspection PWA (Leptos, client-side rendered).

pub mod app;
pub mod pages;
pub mod photo;
pub mod storage;
