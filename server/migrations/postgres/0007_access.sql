-- Login attempts, recorded before the password is checked so that parallel guesses cannot get
-- past the limit between the check and the record; an attempt stays as a failure unless the
-- login succeeds. Counted per (user name, client address) and per client address, so guessing
-- from one address never locks the user out of another.
DROP TABLE login_failures;
CREATE TABLE login_attempts (
    id          TEXT PRIMARY KEY,
    username    TEXT NOT NULL,
    address     TEXT NOT NULL,
    at_ms       BIGINT NOT NULL
);
CREATE INDEX login_attempts_user ON login_attempts (username, address, at_ms);
CREATE INDEX login_attempts_address ON login_attempts (address, at_ms);
CREATE INDEX login_attempts_at ON login_attempts (at_ms);

-- The daily photo quota sums what one user uploaded recently.
CREATE INDEX photos_uploader ON photos (uploaded_by, created_at);
