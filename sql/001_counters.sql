-- Counters flushed from Redis. Every table's primary key is the key its upsert conflicts on;
-- counts are bigint because a busy site passes 2^31 page views.

CREATE TABLE analytics_daily (
    event_type  text        NOT NULL,
    date        date        NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_type, date)
);
CREATE INDEX analytics_daily_date ON analytics_daily (date);

-- One row per event type and UTC hour; daily series in other time zones are built from these.
CREATE TABLE analytics_hourly (
    event_type  text        NOT NULL,
    hour        timestamptz NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_type, hour)
);
CREATE INDEX analytics_hourly_hour ON analytics_hourly (hour);

-- user_id is text: this service does not own a users table.
CREATE TABLE analytics_user_daily (
    user_id     text        NOT NULL,
    event_type  text        NOT NULL,
    date        date        NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, event_type, date)
);
CREATE INDEX analytics_user_daily_event_date ON analytics_user_daily (event_type, date);

-- Distinct user ids ever counted, so "total users" is one index-only count, not a scan.
CREATE TABLE analytics_users (
    user_id     text        PRIMARY KEY,
    first_seen  date        NOT NULL
);

CREATE TABLE analytics_feature_daily (
    event_type    text        NOT NULL,
    feature_name  text        NOT NULL,
    date          date        NOT NULL,
    count         bigint      NOT NULL DEFAULT 0,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_type, feature_name, date)
);
CREATE INDEX analytics_feature_daily_event_date ON analytics_feature_daily (event_type, date);

CREATE TABLE analytics_page_daily (
    path        text        NOT NULL,
    date        date        NOT NULL,
    count       bigint      NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (path, date)
);
CREATE INDEX analytics_page_daily_date ON analytics_page_daily (date);

-- Daily unique visitors: an absolute HyperLogLog estimate per day, not a sum.
CREATE TABLE analytics_visitors_daily (
    date        date        PRIMARY KEY,
    visitors    bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per flushed batch. The unique batch_id, inserted in the same transaction as the
-- batch's counts, is what makes a replayed or concurrent flush of the same batch a no-op.
CREATE TABLE analytics_flush_log (
    id                bigserial   PRIMARY KEY,
    batch_id          text        NOT NULL UNIQUE,
    seq               bigint      NOT NULL,
    counters_flushed  integer     NOT NULL,
    duration_ms       integer     NOT NULL,
    flushed_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX analytics_flush_log_seq ON analytics_flush_log (seq);
