//! The phone's signing key (core `evidence`): made by WebCrypto, kept in IndexedDB across a
//! reopen, its private half not extractable; what it signs verifies with the check the server
//! runs (the same core function, compiled here), and a mutation changed after signing does not.

use wasm_bindgen_test::wasm_bindgen_test;
use zhicha::storage::Db;
use zhicha::sync::keys;
use zhicha_core::evidence;
use zhicha_core::model::FindingStatus;
use zhicha_core::protocol::{Mutation, MutationPayload};

use crate::fixtures::{drop_db, enterprise, finding, fresh_db, inspection};

#[wasm_bindgen_test]
async fn the_device_key_is_kept_and_cannot_be_extracted() {
    let t = fresh_db("device-key").await;
    assert!(keys::load(&t.db).await.is_none());
    let key = keys::ensure(&t.db)
        .await
        .expect("WebCrypto makes a P-256 key");
    assert_eq!(key.public_hex.len(), 130, "uncompressed SEC1 point");
    assert!(keys::private_key_is_sealed(&key));
    let refused = keys::try_export_private(&key).await;
    assert!(refused.is_err(), "the private key was exported");

    // The same key after the app is closed and opened again, and ensure() does not replace it.
    let name = t.name.clone();
    t.db.close();
    let db = Db::open(&name).await.unwrap();
    let again = keys::load(&db).await.expect("the key survives a reopen");
    assert_eq!(again.public_hex, key.public_hex);
    assert_eq!(keys::ensure(&db).await.unwrap().key_id, key.key_id);
    db.close();
    Db::delete(&name).await.unwrap();
}

#[wasm_bindgen_test]
async fn a_signed_mutation_verifies_and_a_tampered_one_does_not() {
    let t = fresh_db("signing").await;
    let key = keys::ensure(&t.db).await.unwrap();
    let device_id = t.db.device_id().await.unwrap();
    let e = enterprise();
    let i = inspection(&e);
    let f = finding(&i, FindingStatus::Draft);
    let mutation = Mutation::new(
        zhicha_core::ids::MutationId::new(),
        1,
        f.id.0,
        None,
        &MutationPayload::FindingSave(Box::new(f.clone())),
    );
    let signature = keys::sign(&key, device_id, &mutation).await.unwrap();
    assert_eq!(signature.key_id, key.key_id);
    assert_eq!(
        evidence::verify_mutation(
            &key.public_hex,
            &device_id.to_string(),
            &mutation,
            &signature
        ),
        Ok(())
    );

    let mut tampered = mutation.clone();
    tampered.payload["description"] = serde_json::json!("已整改完毕");
    assert_eq!(
        evidence::verify_mutation(
            &key.public_hex,
            &device_id.to_string(),
            &tampered,
            &signature
        ),
        Err(evidence::SignatureError::Mismatch)
    );
    // Another phone's id with this signature does not verify either.
    assert!(
        evidence::verify_mutation(
            &key.public_hex,
            &zhicha_core::ids::DeviceId::new().to_string(),
            &mutation,
            &signature
        )
        .is_err()
    );
    drop_db(t).await;
}

/// A browser that never answers the location prompt (WebKit under automation, some in-app
/// browsers) does not hold the inspector up: the fix gives up on its own shortly after its
/// timeout, with the reason to record.
#[wasm_bindgen_test]
async fn a_location_prompt_never_answered_gives_up_with_a_reason() {
    use wasm_bindgen::JsValue;
    let geolocation = web_sys::window()
        .unwrap()
        .navigator()
        .geolocation()
        .unwrap();
    let silent = js_sys::Function::new_no_args("");
    js_sys::Reflect::set(
        &geolocation,
        &JsValue::from_str("getCurrentPosition"),
        &silent,
    )
    .unwrap();
    let started = js_sys::Date::now();
    let result = zhicha::geo::position_or_reason(200).await;
    let waited = js_sys::Date::now() - started;
    js_sys::Reflect::delete_property(&geolocation, &JsValue::from_str("getCurrentPosition"))
        .unwrap();
    assert_eq!(result, Err("定位超时（未获得定位授权或信号）".to_owned()));
    assert!((1_000.0..5_000.0).contains(&waited), "waited {waited} ms");
}
