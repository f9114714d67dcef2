//! Browser tests of the PWA (wasm-bindgen-test in headless Chromium), a fresh database per test.
#![cfg(target_arch = "wasm32")]

mod bulk;
mod cases;
mod dossier;
mod drafts;
mod evidence;
mod finality;
mod fire;
mod fixtures;
mod home;
mod leader;
mod leader_phone;
mod outbox;
mod photo;
mod photo_cache;
mod runner;
mod screens;
mod service;
mod shell;
mod storage;
mod tasks;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
