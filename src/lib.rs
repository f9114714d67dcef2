//! 直查 zhicha — the offline field-inspection PWA (Leptos, client-side rendered).

pub mod app;
pub mod components;
pub mod geo;
pub mod pages;
pub mod photo;
pub mod pwa;
pub mod state;
pub mod storage;
pub mod sync;
