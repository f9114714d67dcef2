use chrono::TimeZone as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use uuid::Uuid;

use super::*;
use crate::ids::MutationId;
use crate::protocol::{CommentPayload, MutationPayload};

fn event(seq: i64) -> Event {
    Event {
        seq,
        at: format!("2026-07-05T01:0{}:00.000Z", seq % 10),
        user_id: Some("u1".into()),
        device_id: Some("d1".into()),
        action: "finding.save".into(),
        entity: "finding".into(),
        entity_id: format!("f{seq}"),
        rev: 1,
        detail: None,
        mutation_id: Some(format!("m{seq}")),
        mutation_seq: Some(seq),
        base_rev: None,
        payload: Some(format!("{{\"n\":{seq}}}")),
        state_hash: Some(sha256_hex(format!("state {seq}").as_bytes())),
        key_id: None,
        signed_at: None,
        signature: None,
        clock_skew_ms: Some(120),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

fn chain(n: i64) -> Vec<Event> {
    let mut prev = GENESIS.to_owned();
    (1..=n)
        .map(|seq| {
            let mut e = event(seq);
            e.seal(&prev);
            prev.clone_from(&e.hash);
            e
        })
        .collect()
}

#[test]
fn a_sealed_chain_verifies_to_its_last_hash() {
    let events = chain(5);
    let (seq, hash) = verify_chain((0, GENESIS), &events).unwrap();
    assert_eq!((seq, hash.as_str()), (5, events[4].hash.as_str()));
    // A run from the middle verifies from the event before it.
    assert!(verify_chain((2, &events[1].hash), &events[2..]).is_ok());
}

#[test]
fn an_edited_event_is_found_at_its_seq() {
    let mut events = chain(5);
    events[2].payload = Some("{\"n\":99}".into());
    assert_eq!(
        verify_chain((0, GENESIS), &events),
        Err(ChainBreak::Edited { seq: 3 })
    );
    let mut events = chain(5);
    events[3].user_id = Some("someone else".into());
    assert_eq!(verify_chain((0, GENESIS), &events).unwrap_err().seq(), 4);
}

#[test]
fn a_deleted_event_breaks_the_numbering_and_a_renumbered_gap_the_link() {
    let mut events = chain(5);
    events.remove(2);
    assert_eq!(
        verify_chain((0, GENESIS), &events),
        Err(ChainBreak::Numbering {
            seq: 4,
            expected: 3
        })
    );
    // Renumbering the rest to hide the gap leaves event 3 pointing at the deleted one's hash.
    for e in &mut events[2..] {
        e.seq -= 1;
    }
    let broken = verify_chain((0, GENESIS), &events).unwrap_err();
    assert!(
        matches!(
            broken,
            ChainBreak::Unlinked {
                seq: 3,
                after: 2,
                ..
            }
        ),
        "{broken:?}"
    );
}

#[test]
fn a_reordered_pair_is_found() {
    let mut events = chain(5);
    events.swap(1, 2);
    (events[1].seq, events[2].seq) = (2, 3);
    assert_eq!(verify_chain((0, GENESIS), &events).unwrap_err().seq(), 2);
}

#[test]
fn the_clock_is_flagged_past_five_minutes() {
    let mut e = event(1);
    assert!(!e.clock_flagged());
    e.clock_skew_ms = Some(-MAX_CLOCK_SKEW_MS - 1);
    assert!(e.clock_flagged());
}

fn mutation() -> Mutation {
    Mutation::new(
        MutationId::new(),
        7,
        Uuid::now_v7(),
        Some(2),
        &MutationPayload::FindingSubmit(CommentPayload {
            comment: "已整改".into(),
        }),
    )
}

#[test]
fn a_signed_mutation_verifies_and_any_change_to_it_does_not() {
    let key = SigningKey::from_slice(&[7u8; 32]).unwrap();
    let public = key.verifying_key().to_encoded_point(false);
    let public_hex = hex(public.as_bytes());
    let at = Utc.with_ymd_and_hms(2026, 7, 5, 9, 5, 0).unwrap();
    let m = mutation();
    let signature: Signature = key.sign(&signing_message("dev-1", &m, at));
    let signed = MutationSignature {
        key_id: key_id(public.as_bytes()),
        signed_at: at,
        value: hex(&signature.to_bytes()),
    };
    assert_eq!(verify_mutation(&public_hex, "dev-1", &m, &signed), Ok(()));

    let mut other = m.clone();
    other.payload = serde_json::json!({ "comment": "未整改" });
    assert_eq!(
        verify_mutation(&public_hex, "dev-1", &other, &signed),
        Err(SignatureError::Mismatch)
    );
    let mut other = m.clone();
    other.seq += 1;
    assert!(verify_mutation(&public_hex, "dev-1", &other, &signed).is_err());
    assert!(verify_mutation(&public_hex, "dev-2", &m, &signed).is_err());
    let later = MutationSignature {
        signed_at: at + chrono::Duration::seconds(1),
        ..signed.clone()
    };
    assert!(verify_mutation(&public_hex, "dev-1", &m, &later).is_err());
    let garbled = MutationSignature {
        value: "zz".into(),
        ..signed
    };
    assert_eq!(
        verify_mutation(&public_hex, "dev-1", &m, &garbled),
        Err(SignatureError::BadSignature)
    );
}

#[test]
fn hex_round_trips_and_refuses_odd_or_foreign_text() {
    assert_eq!(unhex(&hex(&[0, 15, 255])), Some(vec![0, 15, 255]));
    assert_eq!(unhex("abc"), None);
    assert_eq!(unhex("zz"), None);
    assert_eq!(key_id(b"k").len(), 32);
}

#[test]
fn a_photo_taken_on_a_slow_phone_is_placed_on_the_servers_clock() {
    use crate::ids::{FindingId, PhotoHash};
    use crate::model::{PhotoMeta, PhotoOwner, PhotoRole};
    let at = Utc.with_ymd_and_hms(2026, 7, 5, 1, 0, 0).unwrap();
    let mut meta = PhotoMeta {
        hash: PhotoHash::of_bytes(b"p"),
        owner: PhotoOwner::Finding(FindingId::new()),
        role: PhotoRole::Evidence,
        bytes: 1,
        width: 1,
        height: 1,
        mime: "image/jpeg".into(),
        captured_at: at,
        offset_from_start_s: None,
        location: None,
        no_fix: Some("定位超时".into()),
        clock_offset_ms: None,
    };
    assert_eq!(
        meta.server_captured_at(),
        None,
        "never measured: not guessed"
    );
    meta.clock_offset_ms = Some(12 * 60 * 1000);
    assert_eq!(
        meta.server_captured_at(),
        Some(at + chrono::Duration::minutes(12))
    );
    // The field travels only when known, so older readers see the same JSON as before.
    meta.clock_offset_ms = None;
    assert!(
        !serde_json::to_string(&meta)
            .unwrap()
            .contains("clock_offset_ms")
    );
}
