-- Configured goals (src/goals/): what counts as a conversion beyond the event types, which are
-- goals without configuration. A goal is a query over the event log, not a counter: one made
-- today converts over every day the log keeps.
--
-- A page goal names page views whose path matches `page` (`*` matches any characters); an event
-- goal names an event type, and optionally a property the event must carry with a value. Either
-- may sum a numeric property of its conversions as their value (revenue), in one currency.
CREATE TABLE IF NOT EXISTS analytics_goals (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site smallint NOT NULL DEFAULT 0,
  name text NOT NULL,
  event_type text NOT NULL,
  page text,
  property_key text,
  property_value text,
  value_property text,
  currency text,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT analytics_goals_name UNIQUE (site, name),
  CONSTRAINT analytics_goals_page CHECK (page IS NULL OR event_type = 'page_view'),
  CONSTRAINT analytics_goals_property CHECK ((property_key IS NULL) = (property_value IS NULL)),
  CONSTRAINT analytics_goals_currency CHECK (currency IS NULL OR value_property IS NOT NULL)
);
