-- 0004: the Admin API's completeness. A user can be disabled (their keys refused until enabled again); a rotated key
-- carries when it stops authenticating (expires_at, checked at authentication, so exact across restarts and nodes);
-- admin tokens are records (hash and visible prefix only, as API keys), each optionally scoped to one organization;
-- the usage ledger is read per key and per user.
ALTER TABLE users ADD COLUMN disabled_at TEXT NULL;
ALTER TABLE api_keys ADD COLUMN expires_at TEXT NULL;
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE TABLE admin_tokens (
    id TEXT PRIMARY KEY,
    name TEXT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    org_id TEXT NULL REFERENCES organizations(id),
    created_at TEXT NOT NULL,
    revoked_at TEXT NULL);
CREATE INDEX usage_charges_key ON usage_charges(key_id, period);
CREATE INDEX usage_charges_user ON usage_charges(user_id, period);
