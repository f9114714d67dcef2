//! Browser tests of the PWA (wasm-bindgen-test in headless Chromium), a fresh database per test.
#![cfg(target_arch = "wasm32")]

mod bulk;
mod cases;
mod evidence;
mod finality;
mod fire;
mod fixtures;
mod leader;
mod outbox;
mod photo;
mod photo_cache;
mod screens;
mod service;
mod shell;
mod storage;
mod tasks;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
