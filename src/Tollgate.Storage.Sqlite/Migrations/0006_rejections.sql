-- 0006: admission refusals counted per (organization, UTC hour, status, code) for the console's "recent rejections";
-- nodes add to the totals every few seconds. org_id '' holds the requests of no known organization (an unknown key).
CREATE TABLE rejection_counts (
    org_id TEXT NOT NULL,
    hour TEXT NOT NULL,
    status INTEGER NOT NULL,
    code TEXT NOT NULL,
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (org_id, hour, status, code));
