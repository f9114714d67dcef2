//! Evidence integrity: the server's hash-chained event log and the device signatures on
//! mutations (protocol.md § "Evidence").
//!
//! - Every change the server stores is one [`Event`]. Its hash covers its fields and the hash of
//!   the event before it, so an edited, deleted or reordered event breaks the chain at a place
//!   [`verify_chain`] names.
//! - A phone holds a non-extractable ECDSA P-256 key (WebCrypto) registered at login and signs
//!   every mutation before it is pushed: the signed bytes are [`signing_message`], the signature
//!   is the 64-byte `r‖s` WebCrypto produces, checked by [`verify_signature`].
//!
//! Everything here is pure: the server, the CLI checking an exported 案卷 and the tests share it.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::protocol::Mutation;

pub mod archive;

#[cfg(test)]
mod tests;

/// The hash before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Names the layout of [`Event::compute_hash`]'s input; a new layout gets a new name.
const EVENT_FORMAT: &str = "zhicha-event-1";
/// Names the layout of [`signing_message`].
const MUTATION_FORMAT: &str = "zhicha-mutation-1";

/// Past this difference between a phone's clock and the server's, a push is flagged (5 min).
pub const MAX_CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The bytes of lowercase or uppercase hex, or None when it is not hex of whole bytes.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The one serialization of a mutation's payload that is hashed and signed: serde_json's
/// compact form of the value (object keys in the order serde_json keeps them, the same on
/// the phone and on the server, which both parse and print with serde_json).
pub fn payload_text(payload: &serde_json::Value) -> String {
    payload.to_string()
}

/// SHA-256 of [`payload_text`].
pub fn payload_hash(payload: &serde_json::Value) -> String {
    sha256_hex(payload_text(payload).as_bytes())
}

/// RFC 3339 with milliseconds and `Z`, the one spelling of a time inside hashed input.
pub fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A device's signature on a mutation, sent with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MutationSignature {
    /// [`key_id`] of the device key that signed.
    pub key_id: String,
    /// The phone's clock when it signed.
    pub signed_at: DateTime<Utc>,
    /// The 64-byte P-256 signature `r‖s` over [`signing_message`], in hex.
    pub value: String,
}

/// The id of a public key: the first 16 bytes of the SHA-256 of its SEC1 bytes, in hex.
pub fn key_id(public_key: &[u8]) -> String {
    sha256_hex(public_key)[..32].to_owned()
}

/// The bytes a device signs for `mutation`, pushed from `device_id`, at `signed_at`: a JSON
/// array of the format name and every field that says what the mutation does, the payload by
/// its hash.
pub fn signing_message(device_id: &str, mutation: &Mutation, signed_at: DateTime<Utc>) -> Vec<u8> {
    SignedParts {
        device_id,
        mutation_id: &mutation.mutation_id.to_string(),
        seq: i64::try_from(mutation.seq).unwrap_or(i64::MAX),
        kind: mutation.kind.as_str(),
        entity_id: &mutation.entity_id.to_string(),
        base_rev: mutation.base_rev,
        payload_hash: &payload_hash(&mutation.payload),
        signed_at: &time_text(signed_at),
    }
    .message()
}

/// What a device signs of a mutation, field by field: enough to check a signature from an
/// [`Event`] without the mutation itself.
#[derive(Debug, Clone, Copy)]
pub struct SignedParts<'a> {
    pub device_id: &'a str,
    pub mutation_id: &'a str,
    pub seq: i64,
    pub kind: &'a str,
    pub entity_id: &'a str,
    pub base_rev: Option<i64>,
    pub payload_hash: &'a str,
    /// As [`time_text`] spells it.
    pub signed_at: &'a str,
}

impl SignedParts<'_> {
    /// The signed bytes: a JSON array of the format name and the fields.
    pub fn message(&self) -> Vec<u8> {
        serde_json::json!([
            MUTATION_FORMAT,
            self.device_id,
            self.mutation_id,
            self.seq,
            self.kind,
            self.entity_id,
            self.base_rev,
            self.payload_hash,
            self.signed_at,
        ])
        .to_string()
        .into_bytes()
    }
}

/// Why a signature is not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("设备公钥无法读取")]
    BadKey,
    #[error("签名格式不对")]
    BadSignature,
    #[error("签名与内容不符")]
    Mismatch,
}

/// Checks an ECDSA P-256 / SHA-256 signature (`r‖s`, as WebCrypto makes it) of `message` by
/// the key whose uncompressed SEC1 bytes are `public_key`.
pub fn verify_signature(
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::{Signature, VerifyingKey};
    let key = VerifyingKey::from_sec1_bytes(public_key).map_err(|_| SignatureError::BadKey)?;
    let signature = Signature::from_slice(signature).map_err(|_| SignatureError::BadSignature)?;
    key.verify(message, &signature)
        .map_err(|_| SignatureError::Mismatch)
}

/// Checks `mutation`'s signature against `public_key` (hex SEC1) for `device_id`.
pub fn verify_mutation(
    public_key_hex: &str,
    device_id: &str,
    mutation: &Mutation,
    signature: &MutationSignature,
) -> Result<(), SignatureError> {
    let key = unhex(public_key_hex).ok_or(SignatureError::BadKey)?;
    let value = unhex(&signature.value).ok_or(SignatureError::BadSignature)?;
    let message = signing_message(device_id, mutation, signature.signed_at);
    verify_signature(&key, &message, &value)
}

/// One stored change, as kept in the server's event log and copied into an exported 案卷.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in the chain, from 1, without gaps.
    pub seq: i64,
    /// Server time of the write.
    pub at: String,
    /// Who wrote: the user, and the device for a pushed mutation.
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    /// The mutation kind (`finding.save` …), or what else wrote (`merge`, `import`).
    pub action: String,
    /// The entity kind and id written (for a photo: its owner), and its new revision.
    pub entity: String,
    pub entity_id: String,
    pub rev: i64,
    /// For a photo: its SHA-256.
    pub detail: Option<String>,
    pub mutation_id: Option<String>,
    /// The mutation's seq and base revision, as signed.
    pub mutation_seq: Option<i64>,
    pub base_rev: Option<i64>,
    /// The mutation's payload as signed ([`payload_text`]); its hash is in the chain.
    pub payload: Option<String>,
    /// SHA-256 of the record as stored after this change.
    pub state_hash: Option<String>,
    /// The device's signature, when the mutation was signed.
    pub key_id: Option<String>,
    pub signed_at: Option<String>,
    pub signature: Option<String>,
    /// Server time minus the phone's clock at the push, in ms.
    pub clock_skew_ms: Option<i64>,
    pub prev_hash: String,
    pub hash: String,
}

impl Event {
    /// The hash of this event's fields chained to `prev_hash` (the stored `hash` is not read).
    pub fn compute_hash(&self) -> String {
        let payload_hash = self.payload.as_deref().map(|p| sha256_hex(p.as_bytes()));
        let input = serde_json::json!([
            EVENT_FORMAT,
            self.prev_hash,
            self.seq,
            self.at,
            self.user_id,
            self.device_id,
            self.action,
            self.entity,
            self.entity_id,
            self.rev,
            self.detail,
            self.mutation_id,
            self.mutation_seq,
            self.base_rev,
            payload_hash,
            self.state_hash,
            self.key_id,
            self.signed_at,
            self.signature,
            self.clock_skew_ms,
        ]);
        sha256_hex(input.to_string().as_bytes())
    }

    /// Sets `prev_hash` and `hash` for an event appended after `prev_hash`.
    pub fn seal(&mut self, prev_hash: &str) {
        prev_hash.clone_into(&mut self.prev_hash);
        self.hash = self.compute_hash();
    }

    /// Checks the device signature this event carries against `public_key_hex`: Ok(false)
    /// when the event is unsigned.
    pub fn verify_signature(&self, public_key_hex: &str) -> Result<bool, SignatureError> {
        let (Some(signature), Some(signed_at), Some(device_id), Some(mutation_id), Some(seq)) = (
            &self.signature,
            &self.signed_at,
            &self.device_id,
            &self.mutation_id,
            self.mutation_seq,
        ) else {
            return Ok(false);
        };
        let payload_hash = sha256_hex(self.payload.as_deref().unwrap_or_default().as_bytes());
        let message = SignedParts {
            device_id,
            mutation_id,
            seq,
            kind: &self.action,
            entity_id: &self.entity_id,
            base_rev: self.base_rev,
            payload_hash: &payload_hash,
            signed_at,
        }
        .message();
        let key = unhex(public_key_hex).ok_or(SignatureError::BadKey)?;
        let value = unhex(signature).ok_or(SignatureError::BadSignature)?;
        verify_signature(&key, &message, &value).map(|()| true)
    }

    /// True when the phone's clock was off by more than [`MAX_CLOCK_SKEW_MS`].
    pub fn clock_flagged(&self) -> bool {
        self.clock_skew_ms
            .is_some_and(|skew| skew.abs() > MAX_CLOCK_SKEW_MS)
    }
}

/// The first place a chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    /// An event's fields no longer give its stored hash: the event was edited.
    #[error("event {seq}: its content does not match its hash (edited)")]
    Edited { seq: i64 },
    /// An event does not follow the one before it: one was deleted or the order changed.
    #[error(
        "event {seq}: does not follow event {after} (its previous hash is {found}, expected {expected})"
    )]
    Unlinked {
        seq: i64,
        after: i64,
        expected: String,
        found: String,
    },
    /// The numbering skips or repeats: events were deleted, inserted or moved.
    #[error("event {seq}: expected number {expected} here (deleted, inserted or reordered)")]
    Numbering { seq: i64, expected: i64 },
}

impl ChainBreak {
    /// The seq of the event where the chain breaks.
    pub fn seq(&self) -> i64 {
        match self {
            Self::Edited { seq } | Self::Unlinked { seq, .. } | Self::Numbering { seq, .. } => *seq,
        }
    }
}

/// Walks a contiguous run of events in stored order, starting after `prev` (`(seq, hash)` of
/// the event before the run, `(0, GENESIS)` from the start). Ok with the last `(seq, hash)`, or
/// the first break.
pub fn verify_chain<'a>(
    prev: (i64, &str),
    events: impl IntoIterator<Item = &'a Event>,
) -> Result<(i64, String), ChainBreak> {
    let (mut last_seq, mut last_hash) = (prev.0, prev.1.to_owned());
    for event in events {
        if event.seq != last_seq + 1 {
            return Err(ChainBreak::Numbering {
                seq: event.seq,
                expected: last_seq + 1,
            });
        }
        if event.prev_hash != last_hash {
            return Err(ChainBreak::Unlinked {
                seq: event.seq,
                after: last_seq,
                expected: last_hash,
                found: event.prev_hash.clone(),
            });
        }
        if event.compute_hash() != event.hash {
            return Err(ChainBreak::Edited { seq: event.seq });
        }
        last_seq = event.seq;
        last_hash.clone_from(&event.hash);
    }
    Ok((last_seq, last_hash))
}
