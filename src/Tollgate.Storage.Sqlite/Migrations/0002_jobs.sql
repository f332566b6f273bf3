-- 0002: durable jobs (the job engine's claims, retries and resumption; DESIGN 3.5). One row per job; due work is
-- found through jobs_due, expired claims through jobs_claim.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    max_attempts INTEGER NOT NULL,
    next_attempt_at TEXT NOT NULL,
    claim_holder TEXT NULL,
    claimed_until TEXT NULL,
    last_error TEXT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL);
CREATE INDEX jobs_due ON jobs(state, next_attempt_at);
CREATE INDEX jobs_claim ON jobs(state, claimed_until);
CREATE INDEX jobs_subject ON jobs(subject);

