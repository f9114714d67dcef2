-- Plans, 双随机 draws, tasks, yearly caps and 回避 (issue #22; core `plan`). An enterprise's 重点
-- flag and class travel in its stored JSON (`enterprises.data`), read wherever the directory is.

-- The yearly caps a bureau edited (`cap_tables` says it did, so an emptied table is kept as
-- such); a unit without a row here uses the nearest unit above it that has one, else the
-- defaults of core `plan::default_caps`.
CREATE TABLE cap_tables (
    org_id     TEXT PRIMARY KEY REFERENCES org_units (id),
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE caps (
    org_id   TEXT NOT NULL REFERENCES cap_tables (org_id),
    sector   TEXT NOT NULL,
    grade    TEXT NOT NULL,
    per_year BIGINT NOT NULL,
    PRIMARY KEY (org_id, sector, grade)
);

-- 年度执法检查计划: `data` is the plan as core's `Plan`.
CREATE TABLE plans (
    id         TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL REFERENCES org_units (id),
    year       BIGINT NOT NULL,
    data       TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX plans_org ON plans (org_id, year);

-- Every draw, kept for good: `record` is core's `DrawRecord` as served. `no` counts the draws
-- of a bureau (1, 2, …); the unique index makes two concurrent draws take different numbers.
-- Append-only: the trigger refuses any change or removal.
CREATE TABLE draws (
    id         TEXT PRIMARY KEY,
    plan_id    TEXT NOT NULL REFERENCES plans (id),
    org_id     TEXT NOT NULL REFERENCES org_units (id),
    no         BIGINT NOT NULL,
    made_at    TEXT NOT NULL,
    made_by    TEXT NOT NULL,
    input_hash TEXT NOT NULL,
    record     TEXT NOT NULL
);
CREATE UNIQUE INDEX draws_org_no ON draws (org_id, no);
CREATE INDEX draws_plan ON draws (plan_id, no);
CREATE FUNCTION draws_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'draws are append-only';
END;
$$;
CREATE TRIGGER draws_no_change BEFORE UPDATE OR DELETE ON draws
    FOR EACH ROW EXECUTE FUNCTION draws_append_only();
CREATE TRIGGER draws_no_truncate BEFORE TRUNCATE ON draws
    FOR EACH STATEMENT EXECUTE FUNCTION draws_append_only();

-- 我的任务: one enterprise for the officers a draw assigned. `officers` is a JSON array of user
-- ids, `approval` core's `Approval` as JSON; `inspection_id` is set by the first inspection
-- pushed with the task's id.
CREATE TABLE tasks (
    id             TEXT PRIMARY KEY,
    plan_id        TEXT NOT NULL REFERENCES plans (id),
    draw_id        TEXT NOT NULL REFERENCES draws (id),
    org_id         TEXT NOT NULL REFERENCES org_units (id),
    enterprise_id  TEXT NOT NULL,
    officers       TEXT NOT NULL,
    key_enterprise BIGINT NOT NULL,
    due            TEXT NOT NULL,
    campaign       TEXT NOT NULL DEFAULT '',
    approval       TEXT,
    inspection_id  TEXT,
    created_at     TEXT NOT NULL
);
CREATE INDEX tasks_org ON tasks (org_id, inspection_id);
CREATE INDEX tasks_plan ON tasks (plan_id);

-- 回避: an officer who may not inspect an enterprise; never drawn for it.
CREATE TABLE conflicts (
    user_id       TEXT NOT NULL REFERENCES users (id),
    enterprise_id TEXT NOT NULL REFERENCES enterprises (id),
    reason        TEXT NOT NULL,
    declared_by   TEXT NOT NULL,
    declared_at   TEXT NOT NULL,
    PRIMARY KEY (user_id, enterprise_id)
);
CREATE INDEX conflicts_enterprise ON conflicts (enterprise_id);

-- The ledger's and statistics' campaign filter reads the inspection's `entry.campaign` as
-- stored, so it can never disagree with the record; this index finds an inspection by it.
CREATE INDEX inspections_campaign ON inspections (((data::jsonb) #>> '{entry,campaign}'));
