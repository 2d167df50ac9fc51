-- The event log, normalized (was sql/005, 006): about 90 bytes per stored event, indexes included,
-- where copying each visit's values onto every row took 173-204 (bench/log-layouts.ts).
--
-- - analytics_values: every repeated string (paths, hosts, features, the visits' values) once,
--   under an integer id. Ids are only ever added, never reused or deleted.
-- - analytics_events: one row per counted event; strings as ids into analytics_values, the event
--   type as its place in EVENT_TYPES (src/events/types.ts, which never reorders), props as before.
-- - analytics_visits: a visit's values (as ids), once per visit and UTC day it has events on
--   (nearly always one day). `began_at` is the time of the row that began it, on the row of the
--   day it began (NULL on the others). Partitioned by that day like the events, so the visits of
--   any range's rows are in the range's own days, and retention drops the two tables' days
--   together without leaving a kept event without its visit.
--
-- Both logs are partitioned by UTC day (src/log/partitions.ts); the data of analytics_events as it
-- was is moved into the new tables here, in the migration's transaction.
CREATE TABLE analytics_values (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  value text NOT NULL,
  CONSTRAINT analytics_values_value UNIQUE (value)
);

DROP INDEX IF EXISTS analytics_events_began;
DROP INDEX IF EXISTS analytics_events_at;
ALTER TABLE analytics_events RENAME TO analytics_events_v1;
DO $$
DECLARE r record;
BEGIN
  FOR r IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'analytics_events_v1'::regclass LOOP
    EXECUTE format('ALTER TABLE %I RENAME TO %I', r.relname, left('v1_' || r.relname, 63));
  END LOOP;
END $$;

-- Columns in order of alignment: the 8-byte ones, the 4-byte ids, the two 2-byte ones, then the
-- rarely set varlena ones. A row of a visit's page view is 72 bytes with its header (no padding).
CREATE TABLE analytics_events (
  at timestamptz NOT NULL,
  visit_id bigint,
  visitor bigint,
  path integer,
  hostname integer,
  feature integer,
  event_type smallint NOT NULL,
  site smallint NOT NULL DEFAULT 0,
  user_id text,
  props jsonb
) PARTITION BY RANGE (at);

-- Rows arrive in time order: a BRIN index finds a range's blocks at a few bytes per thousand rows.
CREATE INDEX analytics_events_at ON analytics_events USING brin (at);

CREATE TABLE analytics_visits (
  visit_id bigint NOT NULL,
  began_at timestamptz,
  day date NOT NULL,
  source integer,
  utm_source integer,
  utm_medium integer,
  utm_campaign integer,
  entry_page integer,
  browser integer,
  os integer,
  device integer,
  country integer,
  hostname integer,
  site smallint NOT NULL DEFAULT 0,
  -- the flush's upsert conflicts on it; reads find a visit's values by it
  CONSTRAINT analytics_visits_key UNIQUE (visit_id, day)
) PARTITION BY RANGE (day);

-- The rows as they were: each day's partitions, then the strings, the events and the visits.
DO $$
DECLARE d date;
BEGIN
  FOR d IN SELECT DISTINCT (at AT TIME ZONE 'UTC')::date FROM analytics_events_v1 ORDER BY 1 LOOP
    EXECUTE format('CREATE TABLE %I PARTITION OF analytics_events FOR VALUES FROM (%L) TO (%L)',
      'analytics_events_' || to_char(d, 'YYYYMMDD'), d::text || ' 00:00:00+00', (d + 1)::text || ' 00:00:00+00');
    EXECUTE format('CREATE TABLE %I PARTITION OF analytics_visits FOR VALUES FROM (%L) TO (%L)',
      'analytics_visits_' || to_char(d, 'YYYYMMDD'), d::text, (d + 1)::text);
  END LOOP;
END $$;

INSERT INTO analytics_values (value)
SELECT DISTINCT v FROM analytics_events_v1,
  LATERAL (VALUES (path), (hostname), (feature), (source), (utm_source), (utm_medium), (utm_campaign),
    (entry_page), (browser), (os), (device), (country), (visit_hostname)) AS x(v)
WHERE v IS NOT NULL
ORDER BY 1;

INSERT INTO analytics_events (at, visit_id, visitor, path, hostname, feature, event_type, site, user_id, props)
SELECT e.at, e.visit_id, e.visitor, p.id, h.id, f.id,
  array_position(ARRAY['generation_started', 'generation_completed', 'generation_failed', 'user_signup',
    'user_login', 'feature_used', 'asset_downloaded', 'asset_shared', 'page_view', 'subscription_started',
    'subscription_canceled'], e.event_type) - 1,
  e.site, e.user_id, e.props
FROM analytics_events_v1 e
LEFT JOIN analytics_values p ON p.value = e.path
LEFT JOIN analytics_values h ON h.value = e.hostname
LEFT JOIN analytics_values f ON f.value = e.feature
ORDER BY e.at;

-- a visit's rows all carry its values; a row whose values were not known (NULL source) adds none
INSERT INTO analytics_visits (visit_id, began_at, day, source, utm_source, utm_medium, utm_campaign, entry_page,
  browser, os, device, country, hostname, site)
SELECT visit_id, min(at) FILTER (WHERE began), (at AT TIME ZONE 'UTC')::date,
  (SELECT id FROM analytics_values WHERE value = min(source)),
  (SELECT id FROM analytics_values WHERE value = min(utm_source)),
  (SELECT id FROM analytics_values WHERE value = min(utm_medium)),
  (SELECT id FROM analytics_values WHERE value = min(utm_campaign)),
  (SELECT id FROM analytics_values WHERE value = min(entry_page)),
  (SELECT id FROM analytics_values WHERE value = min(browser)),
  (SELECT id FROM analytics_values WHERE value = min(os)),
  (SELECT id FROM analytics_values WHERE value = min(device)),
  (SELECT id FROM analytics_values WHERE value = min(country)),
  (SELECT id FROM analytics_values WHERE value = min(visit_hostname)),
  min(site)
FROM analytics_events_v1
WHERE visit_id IS NOT NULL AND source IS NOT NULL
GROUP BY visit_id, (at AT TIME ZONE 'UTC')::date
ORDER BY 2 NULLS LAST;

DROP TABLE analytics_events_v1;
