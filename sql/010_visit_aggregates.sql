-- What each (visit, UTC day) row's events add up to, kept by the flush as it stores them: the
-- visit-quality reads (src/filters/quality.ts) sum a visit's rows of the range's days instead of
-- grouping every event of the range by visit.
--
-- - first_at, last_at: the times of its first and last event of that day (NULL: no events);
-- - events: how many events it has that day; views: how many of them are page views.
--
-- A row of the log with a visit id always has its (visit, day) row now, even when its visit's
-- values were not known to the flush (their columns NULL until a later batch knows them), so the
-- aggregates hold every event of a visit. The rows as they are are given theirs here, and the
-- (visit, day) pairs that had events but no row (values not known) get one without values.
ALTER TABLE analytics_visits
  ADD COLUMN first_at timestamptz,
  ADD COLUMN last_at timestamptz,
  ADD COLUMN events integer NOT NULL DEFAULT 0,
  ADD COLUMN views integer NOT NULL DEFAULT 0;

-- page_view is 8 in EVENT_TYPES (src/events/types.ts, which never reorders)
INSERT INTO analytics_visits AS v (visit_id, day, first_at, last_at, events, views)
SELECT visit_id, (at AT TIME ZONE 'UTC')::date, min(at), max(at), count(*), count(*) FILTER (WHERE event_type = 8)
FROM analytics_events
WHERE visit_id IS NOT NULL
GROUP BY 1, 2
ON CONFLICT (visit_id, day) DO UPDATE SET first_at = excluded.first_at, last_at = excluded.last_at,
  events = excluded.events, views = excluded.views;
