-- 0003: Platform API jobs (POST /api_service) and their files. A job's audio lives in the blob store (blob_key) until
-- the job is done; a realtime job keeps only the SHA-256 of its one-time token.
CREATE TABLE platform_jobs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    submission TEXT NOT NULL,
    flags INTEGER NOT NULL,
    status TEXT NOT NULL,
    error_code TEXT NULL,
    error_detail TEXT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    finalized_at TEXT NULL,
    completed_at TEXT NULL,
    expires_at TEXT NULL,
    token_hash TEXT NULL,
    token_used_at TEXT NULL);
CREATE INDEX platform_jobs_status ON platform_jobs(status, expires_at);

CREATE TABLE platform_files (
    job_id TEXT NOT NULL REFERENCES platform_jobs(id),
    idx INTEGER NOT NULL,
    filename TEXT NULL,
    file_extension TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    status TEXT NOT NULL,
    api_calls_charged INTEGER NOT NULL,
    error_code TEXT NULL,
    error_detail TEXT NULL,
    result_json TEXT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (job_id, idx));
