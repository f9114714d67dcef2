-- The hash-chained event log (core `evidence`): one row per stored change, in the order of the
-- change log (written under its counter's lock), each hashing its fields and the previous hash.
-- Append-only: nothing in the server updates or deletes a row.
CREATE TABLE events (
    seq           BIGINT PRIMARY KEY,
    at            TEXT NOT NULL,
    user_id       TEXT,
    device_id     TEXT,
    action        TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    rev           BIGINT NOT NULL,
    detail        TEXT,
    mutation_id   TEXT,
    mutation_seq  BIGINT,
    base_rev      BIGINT,
    payload       TEXT,
    state_hash    TEXT,
    key_id        TEXT,
    signed_at     TEXT,
    signature     TEXT,
    clock_skew_ms BIGINT,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX events_entity ON events (entity_id, seq);

-- Device keys registered at login (ECDSA P-256, the phone's WebCrypto key). From `from_seq` on,
-- every mutation of the device must carry a valid signature by one of its keys.
CREATE TABLE device_keys (
    key_id     TEXT PRIMARY KEY,
    device_id  TEXT NOT NULL,
    user_id    TEXT NOT NULL,
    public_key TEXT NOT NULL,
    from_seq   BIGINT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX device_keys_device ON device_keys (device_id);
