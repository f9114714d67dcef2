-- Statistics without table lookups (measured on SQLite with 100,000 findings: the 重大隐患
-- series scanned the whole findings table, the per-inspector counts looked up every
-- inspection_inspectors row for its name).
-- The 重大隐患 series: major findings only, with every statistics filter and both months.
CREATE INDEX findings_major ON findings (level, status, org_id, county, township, sector,
    found_day, closed_day);
-- Inspections per inspector, filtered by team and start day, name included.
CREATE INDEX inspection_inspectors_work ON inspection_inspectors (user_id, org_id, started_day,
    name);
-- Findings per inspector: from an inspection to its inspectors and their names.
CREATE INDEX inspection_inspectors_people ON inspection_inspectors (inspection_id, user_id, name);
