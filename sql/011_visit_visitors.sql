-- Who each (visit, UTC day) row's visit is and what kinds of event it had that day, kept by the
-- flush beside the aggregates of sql/010: the conversions' reads (src/filters/conversions.ts)
-- take a group's visitors and the visitors who completed a goal that is an event type alone (every
-- built-in goal) from the range's visit rows, a tenth of its events, instead of grouping every
-- event of the range by visitor.
--
-- - visitor: the visitor hash of the visit's rows (a visit is one visitor's: src/events/visit.ts);
--   NULL when none of that day's rows knew it (their visit's values were not known, row.ts);
-- - types: bit t set when the visit had an event of type t (its place in EVENT_TYPES,
--   src/events/types.ts, which never reorders) that day, among its rows with the visitor: a row
--   of a visit whose values were dropped past the log's bound has none, and converts no one; bit
--   30 set when the day has such a row (its first_at or last_at may be that row's).
--
-- They add 16 bytes to a visit's row with its alignment (171 bytes with its index, measured on the
-- log of bench/filters.ts): about 1.6 a stored event at ten events a visit.
ALTER TABLE analytics_visits
  ADD COLUMN visitor bigint,
  ADD COLUMN types integer NOT NULL DEFAULT 0;

UPDATE analytics_visits AS v SET visitor = e.visitor, types = e.types
FROM (SELECT visit_id, (at AT TIME ZONE 'UTC')::date AS day, max(visitor) AS visitor,
    coalesce(bit_or(1 << event_type) FILTER (WHERE visitor IS NOT NULL), 0)
      | CASE WHEN bool_or(visitor IS NULL) THEN 1 << 30 ELSE 0 END AS types
  FROM analytics_events WHERE visit_id IS NOT NULL GROUP BY 1, 2) e
WHERE v.visit_id = e.visit_id AND v.day = e.day;
