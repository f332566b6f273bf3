-- 0005: admission refusals counted per (organization, UTC hour, status, code) for the console's "recent rejections";
-- nodes add to the totals every few seconds. org_id '' holds the requests of no known organization (an unknown key).
CREATE TABLE rejection_counts (
    org_id text COLLATE "C" NOT NULL,
    hour timestamptz NOT NULL,
    status integer NOT NULL,
    code text COLLATE "C" NOT NULL,
    count bigint NOT NULL CHECK (count >= 0),
    PRIMARY KEY (org_id, hour, status, code));
