-- The server's own signing keys (ECDSA P-256), made on first use and kept here, so every replica
-- signs with the same key. `purpose` names what a key signs: `archive`, the manifests of exported
-- 案卷 (core `evidence::archive`). The secret is the 32-byte scalar in hex; a backup of the
-- database holds it, as it holds everything else the server trusts.
CREATE TABLE server_keys (
    purpose    TEXT PRIMARY KEY,
    key_id     TEXT NOT NULL UNIQUE,
    secret_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);
