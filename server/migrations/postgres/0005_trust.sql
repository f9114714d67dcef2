-- Sync you can trust (PostgreSQL): who proved they hold a photo's bytes, who wrote each photo
-- reference and whether it was checked, and the device and conflict of each kept revision.

-- Everyone who uploaded a photo's bytes (a repeat upload of a held photo counts: the bytes
-- matched its hash). May reference the photo in their records.
CREATE TABLE photo_uploads (
    hash        TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    -- The uploader's org unit at the time: their team's references of the photo count.
    org_id      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (hash, user_id)
);
INSERT INTO photo_uploads (hash, user_id, org_id, created_at)
SELECT p.hash, p.uploaded_by, u.org_id, p.created_at
FROM photos p JOIN users u ON u.id = p.uploaded_by;

-- Who wrote a reference. `checked` = 1: the server held the bytes when it was written and the
-- writer was allowed to use them; 0: written before the bytes arrived, so it counts only once
-- its writer, or someone of the record's team, uploads them. Older references stay trusted.
ALTER TABLE photo_refs ADD COLUMN referenced_by TEXT;
ALTER TABLE photo_refs ADD COLUMN checked BIGINT NOT NULL DEFAULT 1;

-- The device of the write that replaced a kept version, and whether that write was a conflict
-- (for a lifecycle action the reason is the action's name, so the reason alone cannot say).
ALTER TABLE revisions ADD COLUMN device_id TEXT;
ALTER TABLE revisions ADD COLUMN conflict BIGINT NOT NULL DEFAULT 0;
UPDATE revisions SET conflict = 1 WHERE reason = 'conflict';
