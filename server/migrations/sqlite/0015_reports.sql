-- 举报 from the public page (issue #23; core `complaint`): the report, its photos, and the
-- one-use questions a sender answers first. `address` is the SHA-256 of the sender's address,
-- kept only to limit how many reports one address sends.
CREATE TABLE reports (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL REFERENCES org_units (id),
    text        TEXT NOT NULL,
    place       TEXT NOT NULL,
    contact     TEXT NOT NULL,
    photos      INTEGER NOT NULL,
    address     TEXT NOT NULL,
    received_ms BIGINT NOT NULL,
    status      TEXT NOT NULL,
    handled_by  TEXT,
    updated_at  TEXT NOT NULL
);
CREATE INDEX reports_org ON reports (org_id, received_ms);
CREATE INDEX reports_address ON reports (address, received_ms);

CREATE TABLE report_photos (
    report_id TEXT NOT NULL REFERENCES reports (id),
    n         INTEGER NOT NULL,
    mime      TEXT NOT NULL,
    data      TEXT NOT NULL,
    PRIMARY KEY (report_id, n)
);

CREATE TABLE report_challenges (
    id         TEXT PRIMARY KEY,
    answer     TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
