-- The device that wrote each record's current version: the conflict rule
-- (`zhicha_core::push::is_conflict`) compares it with the writing device, so one device editing
-- its own record several times offline is never a conflict. Unknown (NULL) for versions written
-- before this column existed.
ALTER TABLE inspections ADD COLUMN last_device TEXT;
ALTER TABLE findings ADD COLUMN last_device TEXT;
ALTER TABLE enterprises ADD COLUMN last_device TEXT;
