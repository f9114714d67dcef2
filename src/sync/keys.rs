//! The phone's signing key (core `evidence`): an ECDSA P-256 key pair made with WebCrypto, the
//! private half non-extractable, kept in IndexedDB as the browser's own key object (the bytes
//! never reach the app). Its public half is registered at login; every mutation is signed with
//! it just before it is pushed.

use chrono::Utc;
use js_sys::{Array, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};
use zhicha_core::evidence::{self, MutationSignature};
use zhicha_core::ids::DeviceId;
use zhicha_core::protocol::Mutation;

use crate::storage::Db;

/// The key pair under this `meta` key: `{ private: CryptoKey, public: hex }`.
const META_KEY: &str = "device_key";

/// This phone's key: the private key object, and the public key as registered.
#[derive(Clone)]
pub struct DeviceKey {
    private: CryptoKey,
    /// Uncompressed SEC1 bytes of the public key, hex.
    pub public_hex: String,
    pub key_id: String,
}

fn subtle() -> Option<SubtleCrypto> {
    let crypto = web_sys::window()?.crypto().ok()?;
    Some(crypto.subtle())
}

fn set(object: &Object, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

fn algorithm(extra: &[(&str, &str)]) -> Object {
    let a = Object::new();
    set(&a, "name", &JsValue::from_str("ECDSA"));
    for (k, v) in extra {
        set(&a, k, &JsValue::from_str(v));
    }
    a
}

fn error_text(e: &JsValue) -> String {
    e.as_string()
        .or_else(|| {
            Reflect::get(e, &JsValue::from_str("message"))
                .ok()
                .and_then(|m| m.as_string())
        })
        .unwrap_or_else(|| format!("{e:?}"))
}

/// The stored key, if this phone has one.
pub async fn load(db: &Db) -> Option<DeviceKey> {
    let stored = db.get_meta_raw(META_KEY).await.ok()??;
    let private = Reflect::get(&stored, &JsValue::from_str("private"))
        .ok()?
        .dyn_into::<CryptoKey>()
        .ok()?;
    let public_hex = Reflect::get(&stored, &JsValue::from_str("public"))
        .ok()?
        .as_string()?;
    let key_id = evidence::key_id(&evidence::unhex(&public_hex)?);
    Some(DeviceKey {
        private,
        public_hex,
        key_id,
    })
}

/// The stored key, or a new one made and stored now. Err when the browser cannot make one
/// (no WebCrypto, or no ECDSA): the app then works unsigned, as an older app did.
pub async fn ensure(db: &Db) -> Result<DeviceKey, String> {
    if let Some(key) = load(db).await {
        return Ok(key);
    }
    let subtle = subtle().ok_or("此浏览器不提供 WebCrypto")?;
    let usages = Array::of2(&JsValue::from_str("sign"), &JsValue::from_str("verify"));
    let pair = subtle
        .generate_key_with_object(&algorithm(&[("namedCurve", "P-256")]), false, &usages)
        .map_err(|e| error_text(&e))?;
    let pair = JsFuture::from(pair).await.map_err(|e| error_text(&e))?;
    let private: CryptoKey = Reflect::get(&pair, &JsValue::from_str("privateKey"))
        .map_err(|e| error_text(&e))?
        .dyn_into()
        .map_err(|_| "生成的私钥无法读取".to_owned())?;
    let public: CryptoKey = Reflect::get(&pair, &JsValue::from_str("publicKey"))
        .map_err(|e| error_text(&e))?
        .dyn_into()
        .map_err(|_| "生成的公钥无法读取".to_owned())?;
    let raw = subtle
        .export_key("raw", &public)
        .map_err(|e| error_text(&e))?;
    let raw = JsFuture::from(raw).await.map_err(|e| error_text(&e))?;
    let bytes = Uint8Array::new(&raw).to_vec();
    let public_hex = evidence::hex(&bytes);
    let stored = Object::new();
    set(&stored, "private", &private);
    set(&stored, "public", &JsValue::from_str(&public_hex));
    db.put_meta_raw(META_KEY, &stored)
        .await
        .map_err(|e| e.to_string())?;
    Ok(DeviceKey {
        private,
        key_id: evidence::key_id(&bytes),
        public_hex,
    })
}

/// Signs `mutation` as pushed from `device_id`, now.
pub async fn sign(
    key: &DeviceKey,
    device_id: DeviceId,
    mutation: &Mutation,
) -> Result<MutationSignature, String> {
    let subtle = subtle().ok_or("此浏览器不提供 WebCrypto")?;
    let signed_at = Utc::now();
    let message = evidence::signing_message(&device_id.to_string(), mutation, signed_at);
    let promise = subtle
        .sign_with_object_and_u8_array(&algorithm(&[("hash", "SHA-256")]), &key.private, &message)
        .map_err(|e| error_text(&e))?;
    let value = JsFuture::from(promise).await.map_err(|e| error_text(&e))?;
    Ok(MutationSignature {
        key_id: key.key_id.clone(),
        signed_at,
        value: evidence::hex(&Uint8Array::new(&value).to_vec()),
    })
}

/// True when the stored private key cannot be exported (what the browser promises for a key
/// made non-extractable).
pub fn private_key_is_sealed(key: &DeviceKey) -> bool {
    !key.private.extractable()
}

/// Tries to export the private key, as an attacker with the page's access would: the
/// browser's refusal, as text.
pub async fn try_export_private(key: &DeviceKey) -> Result<(), String> {
    let subtle = subtle().ok_or("此浏览器不提供 WebCrypto")?;
    let promise = subtle
        .export_key("pkcs8", &key.private)
        .map_err(|e| error_text(&e))?;
    JsFuture::from(promise)
        .await
        .map(|_| ())
        .map_err(|e| error_text(&e))
}
