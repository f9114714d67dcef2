-- Every document's rights notice (权利告知) names the bureau's 行政复议机关 and court. Empty means:
-- take the nearest ancestor's.
ALTER TABLE org_units ADD COLUMN review_authority TEXT NOT NULL DEFAULT '';
ALTER TABLE org_units ADD COLUMN court TEXT NOT NULL DEFAULT '';
