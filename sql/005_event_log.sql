-- The event log: one row per counted event, written by the same flush transaction as the counters
-- (src/log/). Partitioned by UTC day, so retention (EVENTS_RETENTION_DAYS) drops whole partitions,
-- and a range reads only its days. Partitions are made by the flush for the days it writes.
--
-- Visit dimensions are copied onto every row of the visit: a filter on them is a plain condition
-- on the row, with no join. NULL means "none" (an event of no visit, an absent UTM value).
CREATE TABLE IF NOT EXISTS analytics_events (
  at timestamptz NOT NULL,
  visit_id bigint,
  visitor bigint,
  site smallint NOT NULL DEFAULT 0,
  began boolean NOT NULL DEFAULT false,
  event_type text NOT NULL,
  path text,
  hostname text,
  feature text,
  user_id text,
  source text,
  utm_source text,
  utm_medium text,
  utm_campaign text,
  entry_page text,
  browser text,
  os text,
  device text,
  country text,
  visit_hostname text,
  props jsonb
) PARTITION BY RANGE (at);

-- Rows arrive in time order, so a BRIN index finds a range's blocks at a few bytes per thousand rows.
CREATE INDEX IF NOT EXISTS analytics_events_at ON analytics_events USING brin (at);
