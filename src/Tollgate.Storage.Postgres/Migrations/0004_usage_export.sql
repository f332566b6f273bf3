-- The usage export (GET /admin/orgs/{orgId}/usage/events) pages an organization's ledger in (at, request_id) order,
-- for one month (period) or from a time on: one index for each, so a page is a range scan, never a sort.
CREATE INDEX usage_charges_export ON usage_charges(org_id, at, request_id);
CREATE INDEX usage_charges_export_period ON usage_charges(org_id, period, at, request_id);
