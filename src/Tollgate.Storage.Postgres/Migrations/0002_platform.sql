-- 0002: Platform API jobs (POST /api_service) and their files, the tables and columns of SQLite's 0003_platform.sql in
-- PostgreSQL's types (as 0001: times timestamptz, counts bigint, ids text in the "C" collation). A job's audio lives in
-- the blob store (blob_key) until the job is done; a realtime job keeps only the SHA-256 of its one-time token.
CREATE TABLE platform_jobs (
    id text COLLATE "C" PRIMARY KEY,
    org_id text COLLATE "C" NOT NULL,
    user_id text COLLATE "C" NOT NULL,
    key_id text COLLATE "C" NOT NULL,
    submission text NOT NULL,
    flags bigint NOT NULL,
    status text NOT NULL,
    error_code text NULL,
    error_detail text NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    finalized_at timestamptz NULL,
    completed_at timestamptz NULL,
    expires_at timestamptz NULL,
    token_hash text COLLATE "C" NULL,
    token_used_at timestamptz NULL);
CREATE INDEX platform_jobs_status ON platform_jobs(status, expires_at);

CREATE TABLE platform_files (
    job_id text COLLATE "C" NOT NULL REFERENCES platform_jobs(id),
    idx bigint NOT NULL,
    filename text NULL,
    file_extension text NOT NULL,
    blob_key text NOT NULL,
    duration_ms bigint NOT NULL,
    status text NOT NULL,
    api_calls_charged bigint NOT NULL,
    error_code text NULL,
    error_detail text NULL,
    result_json text NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (job_id, idx));
