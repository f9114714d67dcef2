-- Cases (案件, issue #23; core `case`): `data` is core's `Case` as stored. A case is made on a
-- phone as 预立案 (`case.save`) and moved by acts (`case.act`); the server keeps its stage, its
-- number and its history.
CREATE TABLE cases (
    id            TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL REFERENCES org_units (id),
    enterprise_id TEXT NOT NULL,
    inspection_id TEXT,
    stage         TEXT NOT NULL,
    -- Given at 立案审批: the numbering unit, the year and M of `（简称）应急立〔年〕M号`.
    number        TEXT,
    number_org    TEXT,
    number_year   INTEGER,
    number_seq    INTEGER,
    rev           BIGINT NOT NULL,
    data          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX cases_org ON cases (org_id, stage);
CREATE INDEX cases_inspection ON cases (inspection_id);
-- No two cases of one numbering unit share a number, whatever the timing of their approvals.
CREATE UNIQUE INDEX cases_number ON cases (number_org, number_year, number_seq);

-- The last case number M given per numbering unit and year: taken and raised in the approving
-- transaction, so concurrent approvals wait for each other instead of colliding.
CREATE TABLE case_numbers (
    org_id TEXT NOT NULL,
    year   INTEGER NOT NULL,
    last   INTEGER NOT NULL,
    PRIMARY KEY (org_id, year)
);
