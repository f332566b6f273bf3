-- 0007: an organization's Platform jobs and dubs, newest first, a page at a time (the console's activity lists).
CREATE INDEX platform_jobs_org ON platform_jobs(org_id, created_at, id);
CREATE INDEX dubs_org ON dubs(org_id, created_at, id);
