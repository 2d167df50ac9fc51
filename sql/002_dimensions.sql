-- Visits and counted properties by dimension and day. A visit's dimensions (source, utm_*,
-- entry_page, browser, os, device, country, hostname) are kept under event_type 'visit'; a
-- counted property is the dimension 'prop:<key>' under the event type that carried it.
--
-- The primary key leads with what every read filters on (dimension, event type, a range of
-- days), so a top-N over any range is one index range scan; value last makes each row the
-- upsert's conflict target.
CREATE TABLE analytics_dimension_daily (
    dimension   text        NOT NULL,
    event_type  text        NOT NULL,
    date        date        NOT NULL,
    value       text        NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dimension, event_type, date, value)
);
