-- Shared links: read-only tokens of one site each, made, named and revoked by an admin
-- (src/sites/links.ts). Only a token's SHA-256 is kept: the token itself is shown once, when made.
-- A site's links go with it (src/sites/store.ts deletes them beside its other rows; the default
-- site has no row to reference).
CREATE TABLE analytics_site_links (
  id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  site smallint NOT NULL,
  name text NOT NULL,
  token_hash bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT analytics_site_links_hash UNIQUE (token_hash),
  CONSTRAINT analytics_site_links_name UNIQUE (site, name)
);
