-- +goose Up
-- Application tokens: credentials an admin mints for one application. Only
-- the SHA-256 of a token is kept (the token is shown once, when minted), so
-- that a copy of the database lets no one in. revoked_at is 0 while the
-- token is live.
CREATE TABLE app_tokens (
    id             TEXT PRIMARY KEY,
    application_id TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    token_hash     TEXT NOT NULL UNIQUE,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    revoked_at     BIGINT NOT NULL DEFAULT 0
);
-- Listing one application's tokens by id, the cursor order.
CREATE INDEX app_tokens_by_application ON app_tokens (application_id, id);

-- +goose Down
DROP TABLE app_tokens;
