-- 0001: the PostgreSQL schema, the same tables and columns the SQLite migrations make (the stores of
-- Tollgate.Storage.Relational read and write both with the same SQL), in PostgreSQL's own types: times are timestamptz
-- (to the millisecond, UTC), counts bigint, ids text in the "C" collation so that ORDER BY id is byte order whatever
-- the database's locale (as in SQLite). Later scripts (0002_...) change the schema and run exactly once.

-- Identity: organizations, users, API keys (hash and visible prefix only) and small settings.
CREATE TABLE organizations (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    created_at timestamptz NOT NULL);
CREATE TABLE users (
    id text COLLATE "C" PRIMARY KEY,
    org_id text COLLATE "C" NOT NULL REFERENCES organizations(id),
    name text NOT NULL,
    created_at timestamptz NOT NULL);
CREATE INDEX users_org ON users(org_id);
CREATE TABLE api_keys (
    id text COLLATE "C" PRIMARY KEY,
    org_id text COLLATE "C" NOT NULL REFERENCES organizations(id),
    user_id text COLLATE "C" NOT NULL REFERENCES users(id),
    name text NULL,
    prefix text NOT NULL,
    hash text COLLATE "C" NOT NULL UNIQUE,
    models text NOT NULL,
    created_at timestamptz NOT NULL,
    last_used_at timestamptz NULL,
    revoked_at timestamptz NULL);
CREATE INDEX api_keys_org ON api_keys(org_id);
CREATE TABLE settings (
    name text COLLATE "C" PRIMARY KEY,
    value text NOT NULL);

-- Metering: the append-only audio usage ledger, one row per metered request; seq keeps the order rows were written in.
CREATE TABLE usage_charges (
    request_id text COLLATE "C" PRIMARY KEY,
    seq bigint GENERATED ALWAYS AS IDENTITY,
    org_id text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    key_id text COLLATE "C" NOT NULL,
    model text COLLATE "C" NOT NULL,
    ms bigint NOT NULL CHECK (ms >= 0),
    period text COLLATE "C" NOT NULL,
    at timestamptz NOT NULL);
CREATE INDEX usage_charges_pool ON usage_charges(org_id, period, model);
CREATE FUNCTION usage_charges_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'usage_charges is append-only';
END
$$;
CREATE TRIGGER usage_charges_append_only_rows BEFORE UPDATE OR DELETE ON usage_charges
    FOR EACH ROW EXECUTE FUNCTION usage_charges_append_only();
CREATE TRIGGER usage_charges_append_only_truncate BEFORE TRUNCATE ON usage_charges
    FOR EACH STATEMENT EXECUTE FUNCTION usage_charges_append_only();

-- Dubbing: dubs, voices (stock and custom) and the append-only credit ledger.
CREATE TABLE dubs (
    id text COLLATE "C" PRIMARY KEY,
    org_id text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    name text NOT NULL,
    source_language text NULL,
    target_language text NOT NULL,
    voice_id text COLLATE "C" NULL,
    status text NOT NULL,
    input_duration_ms bigint NULL,
    required_credits bigint NULL,
    api_credits_used bigint NOT NULL,
    input_format text NULL,
    error_code text NULL,
    error_message text NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL);
CREATE INDEX dubs_status ON dubs(status);
CREATE INDEX dubs_user ON dubs(user_id);
CREATE TABLE dubbing_voices (
    id text COLLATE "C" PRIMARY KEY,
    org_id text COLLATE "C" NULL,
    owner_user_id text COLLATE "C" NULL,
    name text NOT NULL,
    language text NOT NULL,
    genre text NULL,
    style text NULL,
    description text NULL,
    status text NOT NULL,
    sample_file text NULL,
    sample_duration_ms bigint NULL,
    sample_loudness_db double precision NULL,
    error_code text NULL,
    error_message text NULL,
    created_at timestamptz NOT NULL);
CREATE INDEX dubbing_voices_owner ON dubbing_voices(owner_user_id);
CREATE TABLE dubbing_credits (
    entry_id text COLLATE "C" PRIMARY KEY,
    org_id text COLLATE "C" NOT NULL,
    dub_id text COLLATE "C" NOT NULL,
    credits bigint NOT NULL,
    period text COLLATE "C" NOT NULL,
    at timestamptz NOT NULL);
CREATE INDEX dubbing_credits_org ON dubbing_credits(org_id, period);
CREATE INDEX dubbing_credits_dub ON dubbing_credits(dub_id);

-- Jobs: the job engine's claims, retries and resumption (DESIGN 3.5). Due work is found through jobs_due, expired
-- claims through jobs_claim.
CREATE TABLE jobs (
    id text COLLATE "C" PRIMARY KEY,
    kind text COLLATE "C" NOT NULL,
    subject text COLLATE "C" NOT NULL,
    state text NOT NULL,
    attempts bigint NOT NULL,
    max_attempts bigint NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    claim_holder text NULL,
    claimed_until timestamptz NULL,
    last_error text NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL);
CREATE INDEX jobs_due ON jobs(state, next_attempt_at);
CREATE INDEX jobs_claim ON jobs(state, claimed_until);
CREATE INDEX jobs_subject ON jobs(subject);
