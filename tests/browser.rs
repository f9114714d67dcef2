//! Browser tests of the PWA (wasm-bindgen-test in headless Chromium), a fresh database per test.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::{wasm_bindgen_test, wasm_bindgen_test_configure};
use zhicha::storage::{Db, META};

wasm_bindgen_test_configure!(run_in_browser);

fn fresh_name(test: &str) -> String {
    format!("zhicha-test-{test}-{}", uuid::Uuid::now_v7())
}

#[wasm_bindgen_test]
async fn database_opens_with_its_stores_and_keeps_a_value() {
    let name = fresh_name("open");
    let db = Db::open(&name).await.expect("open");
    assert!(db.store_names().iter().any(|s| s == META));
    db.put_meta("device_id", &"dev-1".to_owned()).await.expect("put");
    db.close();

    let db = Db::open(&name).await.expect("reopen");
    let value: Option<String> = db.get_meta("device_id").await.expect("get");
    assert_eq!(value.as_deref(), Some("dev-1"));
    let missing: Option<String> = db.get_meta("nothing").await.expect("get missing");
    assert_eq!(missing, None);
    db.close();
    Db::delete(&name).await.expect("delete");
}
