-- 0003: the Admin API's completeness, the columns and tables of SQLite's 0004_admin.sql in PostgreSQL's types. A user
-- can be disabled; a rotated key carries when it stops authenticating (expires_at, checked at authentication); admin
-- tokens are records (hash and visible prefix only), each optionally scoped to one organization; the usage ledger is
-- read per key and per user.
ALTER TABLE users ADD COLUMN disabled_at timestamptz NULL;
ALTER TABLE api_keys ADD COLUMN expires_at timestamptz NULL;
CREATE INDEX api_keys_user ON api_keys(user_id);
CREATE TABLE admin_tokens (
    id text COLLATE "C" PRIMARY KEY,
    name text NULL,
    prefix text NOT NULL,
    hash text COLLATE "C" NOT NULL UNIQUE,
    org_id text COLLATE "C" NULL REFERENCES organizations(id),
    created_at timestamptz NOT NULL,
    revoked_at timestamptz NULL);
CREATE INDEX usage_charges_key ON usage_charges(key_id, period);
CREATE INDEX usage_charges_user ON usage_charges(user_id, period);
