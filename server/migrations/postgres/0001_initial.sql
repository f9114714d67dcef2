-- 直查 schema v1 (PostgreSQL). Append-only: never edit a migration that has shipped; add a new one.
-- Ids are UUID text, times are RFC 3339 UTC text, JSON documents are text.

CREATE TABLE org_units (
    id          TEXT PRIMARY KEY,
    parent_id   TEXT REFERENCES org_units (id),
    name        TEXT NOT NULL,
    doc_code    TEXT NOT NULL,
    region      TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    role          TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES org_units (id),
    certificate_no TEXT,
    password_hash TEXT NOT NULL,
    active        BIGINT NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);

CREATE TABLE devices (
    device_id   TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    last_seq    BIGINT NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);

-- Short device codes for offline document numbers, unique among the devices that number
-- documents under the same authority code (`org_units.doc_code`).
CREATE TABLE device_codes (
    doc_code    TEXT NOT NULL,
    device_id   TEXT NOT NULL REFERENCES devices (device_id),
    code        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (doc_code, device_id),
    UNIQUE (doc_code, code)
);

CREATE TABLE tokens (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id),
    device_id   TEXT NOT NULL REFERENCES devices (device_id),
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX tokens_user ON tokens (user_id);

CREATE TABLE login_failures (
    username    TEXT NOT NULL,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at_ms);

CREATE TABLE enterprises (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES org_units (id),
    name        TEXT NOT NULL,
    credit_code TEXT UNIQUE,
    township    TEXT NOT NULL,
    rev         BIGINT NOT NULL,
    data        TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX enterprises_org ON enterprises (org_id);

CREATE TABLE inspections (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES org_units (id),
    created_by    TEXT NOT NULL REFERENCES users (id),
    enterprise_id TEXT,
    rev           BIGINT NOT NULL,
    data          TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX inspections_org ON inspections (org_id);

CREATE TABLE findings (
    id            TEXT PRIMARY KEY,
    inspection_id TEXT NOT NULL,
    org_id        TEXT NOT NULL REFERENCES org_units (id),
    created_by    TEXT NOT NULL REFERENCES users (id),
    status        TEXT NOT NULL,
    level         TEXT NOT NULL,
    deadline      TEXT,
    flagged       BIGINT NOT NULL DEFAULT 0,
    rev           BIGINT NOT NULL,
    data          TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX findings_org_status ON findings (org_id, status);
CREATE INDEX findings_inspection ON findings (inspection_id);

-- Every version an accepted write replaced: nothing is silently overwritten.
CREATE TABLE revisions (
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    rev         BIGINT NOT NULL,
    data        TEXT NOT NULL,
    replaced_by TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (entity, entity_id, rev)
);

-- Photo bytes live in object storage; this is what the server holds and who references it.
CREATE TABLE photos (
    hash        TEXT PRIMARY KEY,
    size        BIGINT NOT NULL,
    uploaded_by TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- Which records reference which photo: from `photo.attach` (with its metadata) and from the
-- photo lists of saved inspections and findings. Decides who may fetch a photo and what a
-- receipt expects.
CREATE TABLE photo_refs (
    hash          TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    source        TEXT NOT NULL,
    inspection_id TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    data          TEXT,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (hash, owner_id, source)
);
CREATE INDEX photo_refs_inspection ON photo_refs (inspection_id);

-- The stored result of every mutation, so a replay answers the same.
CREATE TABLE acks (
    device_id   TEXT NOT NULL,
    mutation_id TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    user_id     TEXT NOT NULL,
    kind        TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    status      TEXT NOT NULL,
    rev         BIGINT,
    error       TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (device_id, mutation_id)
);

-- The change log read by pull. `seq` comes from the single counter row, updated in the writing
-- transaction, so change-log writes are serialized and commit in seq order.
CREATE TABLE change_counter (
    id   BIGINT PRIMARY KEY,
    last BIGINT NOT NULL
);
INSERT INTO change_counter (id, last) VALUES (1, 0);

CREATE TABLE change_log (
    seq        BIGINT PRIMARY KEY,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    rev        BIGINT NOT NULL,
    -- For photos (keyed by their owner): the photo hash.
    detail     TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX change_log_org ON change_log (org_id, seq);
