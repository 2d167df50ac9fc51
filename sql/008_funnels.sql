-- Saved funnels (src/funnels/): 2 to 8 ordered steps, each a goal's id (an event type, or the
-- number of a configured goal in analytics_goals), and the window the steps must fall in after
-- the first. Like a goal, a funnel is a query over the event log: one saved today counts every
-- day the log keeps. A configured goal a funnel names cannot be deleted (the goals route says
-- which funnel holds it).
CREATE TABLE IF NOT EXISTS analytics_funnels (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site smallint NOT NULL DEFAULT 0,
  name text NOT NULL,
  steps text[] NOT NULL,
  window_minutes integer NOT NULL DEFAULT 1440,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT analytics_funnels_name UNIQUE (site, name),
  CONSTRAINT analytics_funnels_steps CHECK (cardinality(steps) BETWEEN 2 AND 8),
  CONSTRAINT analytics_funnels_window CHECK (window_minutes BETWEEN 1 AND 43200)
);
