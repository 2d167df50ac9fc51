-- Each month's visitors as one set: the union of its days' HyperLogLogs, kept by the flush in the
-- same transaction as the days. A range of many months reads one set a month and only its edge
-- days one by one (a year's union loads 14 sets, not 365).
CREATE TABLE IF NOT EXISTS analytics_visitors_monthly (
  month date PRIMARY KEY,
  hll bytea NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
