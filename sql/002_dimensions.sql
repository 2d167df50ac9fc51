-- Visits and counted properties by dimension. A visit's dimensions (source, utm_*, entry_page,
-- browser, os, device, country, hostname) are kept under event_type 'visit'; a counted property
-- is the dimension 'prop:<key>' under the event type that carried it.
--
-- The primary key leads with what every read filters on (dimension, event type, a range of
-- days), so a top-N over any range is one index range scan, and it carries the count, so the scan
-- never visits the table (an index-only scan); value last makes each row the upsert's conflict
-- target.
CREATE TABLE analytics_dimension_daily (
    dimension   text        NOT NULL,
    event_type  text        NOT NULL,
    date        date        NOT NULL,
    value       text        NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dimension, event_type, date, value) INCLUDE (count)
);

-- The same counts by calendar month (the months of the daily rows' days, which are TIME_ZONE's),
-- written by the flush in the same transaction as the daily rows, so the two never disagree. A
-- range of 400 days reads its whole months here and only its edge days in the daily table:
-- thirteen rows per value instead of four hundred.
CREATE TABLE analytics_dimension_monthly (
    dimension   text        NOT NULL,
    event_type  text        NOT NULL,
    month       date        NOT NULL,
    value       text        NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dimension, event_type, month, value) INCLUDE (count),
    CHECK (extract(day FROM month) = 1)
);
