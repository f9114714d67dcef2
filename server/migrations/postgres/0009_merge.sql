-- An admin merges an enterprise added on site into a directory entry: the inspections naming
-- it are found by this index.
CREATE INDEX inspections_enterprise ON inspections (enterprise_id);
