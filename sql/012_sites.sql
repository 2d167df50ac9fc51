-- Sites: one deployment counts several products, each with its own domains, time zone, allowed
-- origins and counted properties (src/sites/).
--
-- Site 0 is the deployment's default site. It exists without a row here, built from the
-- environment (TIME_ZONE, ALLOWED_ORIGINS, COUNTED_PROPERTIES), and every counter and log row
-- stored before sites is its own; a row of id 0 gives it a name, domains or settings of its own.
-- A NULL setting is the default: the environment's for site 0; for another site the deployment's
-- TIME_ZONE, its domains' own origins, and no counted properties.
CREATE TABLE analytics_sites (
  id smallint PRIMARY KEY CHECK (id >= 0),
  name text NOT NULL,
  time_zone text,
  allowed_origins text[],
  counted_properties text[],
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT analytics_sites_name UNIQUE (name)
);

-- A domain (a host name, lower-case, without `www.`) counts for one site.
CREATE TABLE analytics_site_domains (
  domain text PRIMARY KEY,
  site smallint NOT NULL REFERENCES analytics_sites (id) ON DELETE CASCADE
);
CREATE INDEX analytics_site_domains_site ON analytics_site_domains (site);
