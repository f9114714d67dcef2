-- Statistics read these in group order without sorting: region × sector × level × status, and
-- findings per inspection (for the per-inspector counts). Both cover the statistics filters.
CREATE INDEX findings_stats ON findings (county, township, sector, level, status, deadline,
    org_id, found_day);
CREATE INDEX findings_stats_inspection ON findings (inspection_id, status, org_id, level, sector,
    county, township, found_day);
