-- Time of day by UTC quarter-hour instead of by hour: every offset in use is a multiple of 15
-- minutes, so any zone's days and hours are whole quarters, and series are exact in every zone
-- (India's +5:30, Nepal's +5:45, Newfoundland's -3:30 included). Rows written before this
-- migration hold a whole hour and stay as that hour's first quarter.
ALTER TABLE analytics_hourly RENAME TO analytics_quarters;
ALTER TABLE analytics_quarters RENAME COLUMN hour TO at;
ALTER INDEX analytics_hourly_pkey RENAME TO analytics_quarters_pkey;
ALTER INDEX analytics_hourly_hour RENAME TO analytics_quarters_at;

-- Each day's set of visitors itself (the bytes of its Redis HyperLogLog), not only its estimate,
-- so that the visitors of any range are the union of its days, never a sum. Written by the flush
-- with the batch that marks the day.
ALTER TABLE analytics_visitors_daily ADD COLUMN hll bytea;
