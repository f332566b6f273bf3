-- 0001: the schema as the stores created it before migrations were versioned. Every statement is IF NOT EXISTS,
-- so a database file made by that code (all tables present, no journal) upgrades by running this once: nothing
-- changes, and the journal then records it. Later scripts (0002_...) change the schema and run exactly once.

-- Identity: organizations, users, API keys (hash and visible prefix only) and small settings.
CREATE TABLE IF NOT EXISTS organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS users_org ON users(org_id);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NULL,
    prefix TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    models TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT NULL,
    revoked_at TEXT NULL);
CREATE INDEX IF NOT EXISTS api_keys_org ON api_keys(org_id);
CREATE TABLE IF NOT EXISTS settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL);

-- Metering: the append-only audio usage ledger, one row per metered request.
CREATE TABLE IF NOT EXISTS usage_charges (
    request_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    model TEXT NOT NULL,
    ms INTEGER NOT NULL CHECK (ms >= 0),
    period TEXT NOT NULL,
    at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS usage_charges_pool ON usage_charges(org_id, period, model);
CREATE TRIGGER IF NOT EXISTS usage_charges_append_only_update BEFORE UPDATE ON usage_charges
    BEGIN SELECT RAISE(ABORT, 'usage_charges is append-only'); END;
CREATE TRIGGER IF NOT EXISTS usage_charges_append_only_delete BEFORE DELETE ON usage_charges
    BEGIN SELECT RAISE(ABORT, 'usage_charges is append-only'); END;

-- Dubbing: dubs, voices (stock and custom) and the append-only credit ledger.
CREATE TABLE IF NOT EXISTS dubs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    source_language TEXT NULL,
    target_language TEXT NOT NULL,
    voice_id TEXT NULL,
    status TEXT NOT NULL,
    input_duration_ms INTEGER NULL,
    required_credits INTEGER NULL,
    api_credits_used INTEGER NOT NULL,
    input_format TEXT NULL,
    error_code TEXT NULL,
    error_message TEXT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dubs_status ON dubs(status);
CREATE INDEX IF NOT EXISTS dubs_user ON dubs(user_id);
CREATE TABLE IF NOT EXISTS dubbing_voices (
    id TEXT PRIMARY KEY,
    org_id TEXT NULL,
    owner_user_id TEXT NULL,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    genre TEXT NULL,
    style TEXT NULL,
    description TEXT NULL,
    status TEXT NOT NULL,
    sample_file TEXT NULL,
    sample_duration_ms INTEGER NULL,
    sample_loudness_db REAL NULL,
    error_code TEXT NULL,
    error_message TEXT NULL,
    created_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dubbing_voices_owner ON dubbing_voices(owner_user_id);
CREATE TABLE IF NOT EXISTS dubbing_credits (
    entry_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    dub_id TEXT NOT NULL,
    credits INTEGER NOT NULL,
    period TEXT NOT NULL,
    at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS dubbing_credits_org ON dubbing_credits(org_id, period);
CREATE INDEX IF NOT EXISTS dubbing_credits_dub ON dubbing_credits(dub_id);
