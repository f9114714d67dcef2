-- The leader's ledger and statistics (SQLite): columns of findings derived from the record, its
-- inspection and its enterprise, written by the apply path (and filled for older rows when the
-- server starts), so every ledger filter and statistic is a plain indexed column.
ALTER TABLE findings ADD COLUMN found_at TEXT;
ALTER TABLE findings ADD COLUMN found_day TEXT;
ALTER TABLE findings ADD COLUMN closed_at TEXT;
ALTER TABLE findings ADD COLUMN closed_day TEXT;
ALTER TABLE findings ADD COLUMN supervised INTEGER NOT NULL DEFAULT 0;
ALTER TABLE findings ADD COLUMN search_text TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN enterprise_id TEXT;
ALTER TABLE findings ADD COLUMN enterprise_name TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN county TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN township TEXT NOT NULL DEFAULT '';
ALTER TABLE findings ADD COLUMN sector TEXT;

-- The ledger order (found_at desc, id desc) and its keyset.
CREATE INDEX findings_ledger_order ON findings (found_at, id);
-- Counts and statistics read only this index.
CREATE INDEX findings_ledger_filter ON findings (org_id, status, level, sector, county, township,
    found_day, closed_day, supervised, deadline);
CREATE INDEX findings_enterprise ON findings (enterprise_id, found_at);

-- Who took part in which inspection (检查人员), for the inspector filter and per-inspector counts.
CREATE TABLE inspection_inspectors (
    inspection_id TEXT NOT NULL,
    user_id       TEXT NOT NULL,
    name          TEXT NOT NULL,
    org_id        TEXT NOT NULL,
    started_day   TEXT NOT NULL,
    PRIMARY KEY (inspection_id, user_id)
);
CREATE INDEX inspection_inspectors_user ON inspection_inspectors (user_id, inspection_id);
CREATE INDEX inspection_inspectors_org ON inspection_inspectors (org_id, started_day);
