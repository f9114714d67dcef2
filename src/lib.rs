//! 直查 zhicha — the offline field-inspection PWA (Leptos, client-side rendered).
//!
//! Every component ends its view with `.into_any()`: the parent then holds one erased view
//! instead of the component's whole nested element type, which keeps the monomorphised
//! rendering code — most of the wasm that phones download — smaller.

pub mod app;
pub mod components;
pub mod geo;
pub mod pages;
pub mod photo;
pub mod pwa;
pub mod routes;
pub mod state;
pub mod steps;
pub mod storage;
pub mod sync;
