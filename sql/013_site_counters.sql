-- Every counter is a site's (src/sites/). The event log, its visits, goals and funnels carried a
-- site already; the counter tables get one here, leading their keys, so that each read of one
-- site's counters stays one index range.
--
-- Every row stored before sites is the default site's (0): adding the column with its default
-- writes nothing, and the keys are rebuilt with the site in front. Nothing is copied, so nothing
-- can be lost or doubled.
ALTER TABLE analytics_daily ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_daily DROP CONSTRAINT analytics_daily_pkey, ADD PRIMARY KEY (site, event_type, date);
DROP INDEX analytics_daily_date;
CREATE INDEX analytics_daily_date ON analytics_daily (site, date);

ALTER TABLE analytics_quarters ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_quarters DROP CONSTRAINT analytics_quarters_pkey, ADD PRIMARY KEY (site, event_type, at);
DROP INDEX analytics_quarters_at;
CREATE INDEX analytics_quarters_at ON analytics_quarters (site, at);

ALTER TABLE analytics_user_daily ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_user_daily DROP CONSTRAINT analytics_user_daily_pkey,
  ADD PRIMARY KEY (site, user_id, event_type, date);
DROP INDEX analytics_user_daily_event_date;
CREATE INDEX analytics_user_daily_event_date ON analytics_user_daily (site, event_type, date);

ALTER TABLE analytics_users ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_users DROP CONSTRAINT analytics_users_pkey, ADD PRIMARY KEY (site, user_id);

ALTER TABLE analytics_feature_daily ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_feature_daily DROP CONSTRAINT analytics_feature_daily_pkey,
  ADD PRIMARY KEY (site, event_type, feature_name, date);
DROP INDEX analytics_feature_daily_event_date;
CREATE INDEX analytics_feature_daily_event_date ON analytics_feature_daily (site, event_type, date);

ALTER TABLE analytics_page_daily ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_page_daily DROP CONSTRAINT analytics_page_daily_pkey, ADD PRIMARY KEY (site, path, date);
DROP INDEX analytics_page_daily_date;
CREATE INDEX analytics_page_daily_date ON analytics_page_daily (site, date);

ALTER TABLE analytics_visitors_daily ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_visitors_daily DROP CONSTRAINT analytics_visitors_daily_pkey, ADD PRIMARY KEY (site, date);

ALTER TABLE analytics_visitors_monthly ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_visitors_monthly DROP CONSTRAINT analytics_visitors_monthly_pkey, ADD PRIMARY KEY (site, month);

ALTER TABLE analytics_dimension_daily ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_dimension_daily DROP CONSTRAINT analytics_dimension_daily_pkey,
  ADD PRIMARY KEY (site, dimension, event_type, date, value) INCLUDE (count);

ALTER TABLE analytics_dimension_monthly ADD COLUMN site smallint NOT NULL DEFAULT 0;
ALTER TABLE analytics_dimension_monthly DROP CONSTRAINT analytics_dimension_monthly_pkey,
  ADD PRIMARY KEY (site, dimension, event_type, month, value) INCLUDE (count);

