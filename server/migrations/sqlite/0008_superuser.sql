-- An admin manages his own bureau (his org unit's subtree). A region-wide admin is marked here,
-- only from the command line (`user superuser NAME`).
ALTER TABLE users ADD COLUMN superuser INTEGER NOT NULL DEFAULT 0;
