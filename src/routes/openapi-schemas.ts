/**
 * The named schemas of the OpenAPI document (`components.schemas`): the event bodies, taken from
 * the schema the event validator compiles, and the JSON answers of the routes. Each is referenced
 * from the operations with {@link ref}.
 */
import Type from 'typebox'
import { PENDING_KINDS } from '../counters/keys.ts'
import { MAX_BEACON_EVENTS, MAX_SERVER_EVENTS } from '../events/limits.ts'
import { BROWSER_TYPES, EVENT_TYPES } from '../events/types.ts'
import { EventSchema, ServerEventSchema } from '../events/validate.ts'

/** A reference to the named schema `name` of {@link SCHEMAS}. */
export const ref = (name: keyof typeof SCHEMAS) => ({ $ref: `#/components/schemas/${name}` })

const count = Type.Integer({ minimum: 0 })
const day = Type.String({ format: 'date' })

/**
 * The validator's event schema with `event_type` as the list it is checked against: the
 * validator checks the type by hand, to tell a browser that a type is server-only.
 */
const event = (
  schema: typeof EventSchema | typeof ServerEventSchema,
  types: readonly string[],
  description: string,
) => ({
  ...schema,
  description,
  properties: { ...schema.properties, event_type: Type.Enum([...types]) },
})

/** A ranked list of the dashboard, its items named `{[key]: name, [value]: count}`. */
const ranked = (key: string, value: string) => Type.Array(Type.Object({ [key]: Type.String(), [value]: count }))

const heldBatch = {
  batch_id: Type.String(),
  seq: Type.Integer({ description: "its place in its shard's order of moves" }),
  held_at: Type.String({ format: 'date-time' }),
  code: Type.String({ description: "Postgres's SQLSTATE" }),
  error: Type.String({ description: "Postgres's message" }),
  counters: Type.Integer({ minimum: 0, description: 'distinct counters it holds' }),
  events: Type.Optional(Type.Integer({ minimum: 0, description: 'event log rows it holds' })),
}

/** A goal as `GET /analytics/goals` lists it (src/goals/goal.ts). */
const goal = Type.Object({
  id: Type.String({ description: 'an event type (built-in goals) or a number' }),
  name: Type.String(),
  built_in: Type.Boolean(),
  event_type: Type.String(),
  page: Type.Union([Type.String(), Type.Null()], { description: 'page goals: the path pattern, * any characters' }),
  property: Type.Union([Type.Object({ key: Type.String(), value: Type.String() }), Type.Null()]),
  value: Type.Union([
    Type.Object({ property: Type.String(), currency: Type.Union([Type.String(), Type.Null()]) }),
    Type.Null(),
  ]),
})

/** A saved funnel as `GET /analytics/funnels` lists it (src/funnels/funnel.ts). */
/** A shared link as listed: never its token. */
const siteLink = Type.Object({
  id: Type.Integer(),
  site: Type.Integer(),
  name: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
})

const funnel = Type.Object({
  id: Type.String(),
  name: Type.String(),
  steps: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/Goal' }), { description: 'the goals, in order' }),
  window: Type.String({ description: 'how long after the first step the last may come: 30m, 24h, 7d…' }),
  window_minutes: Type.Integer({ minimum: 1, maximum: 43200 }),
})

/** The body of `POST /analytics/funnels`. */
export const NewFunnel = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    steps: Type.Array(Type.String(), {
      minItems: 2,
      maxItems: 8,
      description: 'goal ids in order: event types or configured goals’ numbers, each once',
    }),
    window: Type.Optional(
      Type.String({
        pattern: '^[1-9][0-9]{0,5}[mhd]$',
        default: '24h',
        description: 'minutes, hours or days, from 1m to 30d',
      }),
    ),
  },
  { additionalProperties: false },
)

/** The body of `POST /analytics/goals`. */
export const NewGoal = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    page: Type.Optional(
      Type.String({ pattern: '^/', maxLength: 512, description: 'a page goal: a path, * any characters' }),
    ),
    event_type: Type.Optional(Type.String({ description: 'an event goal: its type' })),
    property: Type.Optional(Type.Object({ key: Type.String(), value: Type.String() })),
    value: Type.Optional(
      Type.Object({
        property: Type.String({ description: 'the property holding the amount' }),
        currency: Type.Optional(Type.String({ pattern: '^[A-Z]{3}$' })),
      }),
    ),
  },
  { additionalProperties: false, description: 'Either page or event_type' },
)

export const SCHEMAS = {
  Error: Type.Object(
    {
      error: Type.String({ description: 'what was wrong, in words a client can act on' }),
      parameter: Type.Optional(Type.String({ description: 'the query or path parameter at fault (422)' })),
    },
    { description: 'Every error answer; some carry more fields (retry_after, expected, detail)' },
  ),
  InvalidEvents: Type.Object(
    {
      error: Type.String(),
      errors: Type.Array(
        Type.Object({
          index: Type.Integer({ minimum: -1, description: "the event's place in the body; -1 for the body itself" }),
          field: Type.String({ examples: ['event_type', 'properties.path', '(event)', '(body)'] }),
          reason: Type.String(),
        }),
      ),
    },
    { description: 'Invalid events (422): every problem found; nothing was counted' },
  ),
  BrowserEvent: event(EventSchema, BROWSER_TYPES, 'One event a browser may send'),
  Event: (() => {
    const schema = event(
      ServerEventSchema,
      EVENT_TYPES,
      'One event a back end may send (timestamp: ISO-8601 or epoch ms, up to 30 days old). ' +
        "With client_ip and user_agent (both or neither), the browser's, it joins that visitor's visit if one is in progress",
    )
    // read by the ingest route before the event's own checks (src/routes/ingest.ts)
    const site = Type.Union([Type.String(), Type.Integer({ minimum: 0 })], {
      description: "the site it counts for, by id or domain; the request's ?site=, or the only site, when absent",
    })
    return { ...schema, properties: { ...schema.properties, site } }
  })(),
  Beacon: Type.Union([
    Type.Unsafe({ $ref: '#/components/schemas/BrowserEvent' }),
    Type.Array(Type.Unsafe({ $ref: '#/components/schemas/BrowserEvent' }), {
      minItems: 1,
      maxItems: MAX_BEACON_EVENTS,
    }),
  ]),
  EventBatch: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/Event' }), {
    minItems: 1,
    maxItems: MAX_SERVER_EVENTS,
    description: 'All-or-nothing: one invalid event rejects the batch',
  }),
  Accepted: Type.Object({
    accepted: Type.Integer({ minimum: 0, description: 'events counted' }),
    crawlers: Type.Optional(
      Type.Integer({
        minimum: 1,
        description: "events sent with a crawler's user_agent, answered and not counted (present only when some were)",
      }),
    ),
  }),
  Flushed: Type.Object({ flushed: Type.Integer({ minimum: 0, description: 'counters written' }) }),
  Health: Type.Object({ status: Type.Literal('ok') }),
  Ready: Type.Object({
    status: Type.Enum(['ready', 'unavailable']),
    redis: Type.Enum(['ok', 'unavailable']),
    postgres: Type.Enum(['ok', 'unavailable']),
    held_batches: Type.Union([count, Type.Null()], { description: 'flush batches set aside; null without Redis' }),
    log_dropped_rows: Type.Union([count, Type.Null()], {
      description: 'event log rows dropped past EVENTS_PENDING_MAX that Redis remembers; null without Redis',
    }),
    redis_config: Type.Union(
      [
        Type.Object({
          maxmemory_policy: Type.Union([Type.String(), Type.Null()], {
            description: 'an evicting one if any cluster master has one; null when INFO does not show it',
          }),
          aof_enabled: Type.Union([Type.Boolean(), Type.Null()], {
            description: 'on every master; null when INFO does not show it',
          }),
          used_memory: Type.Integer({ minimum: 0, description: 'bytes (of a cluster, the fullest master)' }),
          maxmemory: Type.Integer({ minimum: 0, description: 'bytes; 0 = no limit' }),
          memory_ratio: Type.Union([Type.Number({ minimum: 0 }), Type.Null()], {
            description: 'used_memory / maxmemory; null without a limit. The dashboard warns past 0.9',
          }),
        }),
        Type.Null(),
      ],
      { description: 'how Redis is run, from its INFO; null when Redis or its INFO does not answer' },
    ),
  }),
  Stats: Type.Object({
    metric: Type.Enum([
      'events',
      'visits',
      'visitors',
      'bounce_rate',
      'visit_duration',
      'views_per_visit',
      'conversions',
      'conversion_rate',
    ]),
    event_type: Type.Union([Type.String(), Type.Null()]),
    granularity: Type.Enum(['hour', 'day', 'week', 'month']),
    tz: Type.String(),
    from: day,
    to: day,
    series: Type.Array(
      Type.Object({
        t: Type.String({ description: 'the day, or the hour as ISO-8601' }),
        count,
        value: Type.Optional(
          Type.Union([Type.Number(), Type.Null()], {
            description:
              'visit-quality metrics: the figure of the visits counted (null for none); conversion_rate: the rate, percent',
          }),
        ),
        visitors: Type.Optional(count),
        goal_value: Type.Optional(Type.Number({ description: 'a goal with a value: its conversions’ value' })),
      }),
    ),
    total: Type.Integer({
      minimum: 0,
      description: 'for visitors, the union of the days; for a visit-quality metric, the visits',
    }),
    partial: Type.Optional(Type.Boolean({ description: 'visitors only: some days could not be read whole' })),
    value: Type.Optional(
      Type.Union([Type.Number(), Type.Null()], {
        description: "visit-quality metrics: the range's figure (null without visits); conversion_rate: the rate",
      }),
    ),
    quality: Type.Optional(
      Type.Object(
        {
          bounce_rate: Type.Union([Type.Number(), Type.Null()]),
          visit_duration: Type.Union([Type.Number(), Type.Null()]),
          views_per_visit: Type.Union([Type.Number(), Type.Null()]),
        },
        { description: "visit-quality metrics: the range's figure of each of the three, from the same visits" },
      ),
    ),
    visitors: Type.Optional(
      Type.Integer({ minimum: 0, description: "conversion metrics: the range's unique visitors" }),
    ),
    goal_value: Type.Optional(Type.Number({ description: "a goal with a value: the range's" })),
  }),
  Top: Type.Object({
    dimension: Type.String(),
    event_type: Type.Union([Type.String(), Type.Null()]),
    from: day,
    to: day,
    items: Type.Array(
      Type.Object({
        name: Type.String(),
        count,
        ...Object.fromEntries(
          ['bounce_rate', 'visit_duration', 'views_per_visit', 'conversion_rate'].map((m) => [
            m,
            Type.Optional(
              Type.Union([Type.Number(), Type.Null()], { description: `with metrics=${m}: the item's figure` }),
            ),
          ]),
        ),
        conversions: Type.Optional(count),
        goal_value: Type.Optional(Type.Number()),
      }),
    ),
    total: Type.Integer({ minimum: 0, description: "the range's visits (visit dimensions) or events" }),
  }),
  Goal: goal,
  NewGoal,
  Goals: Type.Object({
    goals: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/Goal' })),
    manage: Type.Boolean({
      description: 'whether the token asking may add and delete goals (the admin token; the dashboard shows its form)',
    }),
  }),
  Site: Type.Object({
    id: Type.Integer({ minimum: 0, maximum: 32767, description: '0: the default site, built from the environment' }),
    name: Type.String(),
    domains: Type.Array(Type.String(), { description: 'host names without www.; their pages count for the site' }),
    time_zone: Type.String(),
    allowed_origins: Type.Array(Type.String(), {
      description: 'empty: any origin of one of its domains (for the default site, any origin)',
    }),
    counted_properties: Type.Array(Type.String()),
  }),
  SiteSettings: Type.Object(
    {
      name: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
      domains: Type.Optional(Type.Array(Type.String(), { maxItems: 20, description: 'required to create a site' })),
      time_zone: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'null: the default' })),
      allowed_origins: Type.Optional(Type.Union([Type.Array(Type.String(), { maxItems: 20 }), Type.Null()])),
      counted_properties: Type.Optional(Type.Union([Type.Array(Type.String(), { maxItems: 20 }), Type.Null()])),
    },
    { additionalProperties: false },
  ),
  Overview: Type.Object({
    sites: Type.Array(
      Type.Object({
        id: Type.Integer(),
        name: Type.String(),
        domains: Type.Array(Type.String()),
        time_zone: Type.String(),
        from: Type.String({ format: 'date' }),
        to: Type.String({ format: 'date' }),
        visitors: Type.Integer(),
        visits: Type.Integer(),
        page_views: Type.Integer(),
        trend: Type.Array(
          Type.Object({ t: Type.String({ format: 'date' }), visits: Type.Integer(), page_views: Type.Integer() }),
        ),
      }),
    ),
  }),
  SiteLink: siteLink,
  NewSiteLink: Type.Object({
    ...siteLink.properties,
    token: Type.String({ description: 'the read-only token, shown this once: only its digest is kept' }),
    url: Type.String({ description: 'the dashboard signed in with it, relative to this service (dashboard#token=…)' }),
  }),
  SiteLinks: Type.Object({ links: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/SiteLink' })) }),
  Sites: Type.Object({
    sites: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/Site' })),
    manage: Type.Boolean({
      description: 'whether the token asking may add, change and delete sites (the admin token)',
    }),
  }),
  Funnel: funnel,
  NewFunnel,
  Funnels: Type.Object({
    funnels: Type.Array(Type.Unsafe({ $ref: '#/components/schemas/Funnel' })),
    manage: Type.Boolean({ description: 'whether the token asking may save and delete funnels (the admin token)' }),
  }),
  FunnelResult: Type.Object({
    from: day,
    to: day,
    tz: Type.String(),
    funnel: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()], {
      description: 'the saved funnel read, or null for steps given in the query',
    }),
    window: Type.String(),
    window_minutes: Type.Integer({ minimum: 1 }),
    steps: Type.Array(
      Type.Object({
        goal: Type.Unsafe({ $ref: '#/components/schemas/Goal' }),
        visitors: Type.Integer({ minimum: 0, description: 'unique visitors who reached the step' }),
        conversion_rate: Type.Union([Type.Number(), Type.Null()], {
          description: 'percent of the first step’s visitors',
        }),
        dropoff: Type.Integer({ minimum: 0, description: 'visitors of the step before who did not reach it' }),
        dropoff_rate: Type.Union([Type.Number(), Type.Null()], {
          description: 'percent of the step before’s visitors',
        }),
      }),
    ),
    conversion_rate: Type.Union([Type.Number(), Type.Null()], {
      description: 'percent of the first step’s visitors who reached the last',
    }),
  }),
  Conversions: Type.Object({
    from: day,
    to: day,
    tz: Type.String(),
    visitors: Type.Integer({ minimum: 0, description: 'unique visitors of the rows that pass the filters' }),
    goals: Type.Array(
      Type.Object({
        goal: Type.Unsafe({ $ref: '#/components/schemas/Goal' }),
        conversions: Type.Integer({ minimum: 0, description: 'unique visitors who completed it' }),
        conversion_rate: Type.Union([Type.Number(), Type.Null()], { description: 'percent of the visitors' }),
        value: Type.Optional(Type.Number({ description: 'goals with a value: their conversions’ value' })),
        value_per_conversion: Type.Optional(Type.Union([Type.Number(), Type.Null()])),
      }),
    ),
  }),
  Dashboard: Type.Object({
    day: day,
    time_zone: Type.String(),
    total_generations: count,
    total_users: count,
    generations_today: count,
    signups_today: count,
    page_views_today: count,
    visitors_today: count,
    visitors_7d: count,
    visitors_30d: count,
    visits_today: count,
    hourly_generations: Type.Record(Type.String(), count),
    daily_trend: Type.Record(Type.String(), count),
    top_features: ranked('feature', 'usage'),
    top_pages: ranked('path', 'views'),
    top_sources: ranked('source', 'visits'),
    top_countries: ranked('country', 'visits'),
    devices: ranked('device', 'visits'),
    browsers: ranked('browser', 'visits'),
  }),
  LogCheck: Type.Object({
    from: day,
    to: day,
    tz: Type.String(),
    days: Type.Array(
      Type.Object({
        day,
        events: Type.Object({ counters: count, log: count }),
        visits: Type.Object({ counters: count, log: count }),
        same: Type.Boolean(),
      }),
    ),
    drift: Type.Integer({ minimum: 0, description: 'days where the counters and the log differ' }),
    dropped: Type.Record(Type.String(), count, {
      description: 'log rows dropped past EVENTS_PENDING_MAX, by UTC day (as long as Redis remembers)',
    }),
  }),
  UserCounts: Type.Object({
    events: Type.Record(Type.String(), Type.Object({ today: count, this_month: count, total: count }), {
      description: 'each event type counted for the user',
    }),
    generations_today: count,
    generations_this_month: count,
    generations_total: count,
  }),
  HeldBatches: Type.Object({ held: Type.Array(Type.Object(heldBatch)) }),
  HeldExport: Type.Object({
    ...heldBatch,
    hashes: Type.Object(
      Object.fromEntries(PENDING_KINDS.map((kind) => [kind, Type.Optional(Type.Record(Type.String(), Type.String()))])),
      { description: "each pending kind's fields and counts" },
    ),
    rows: Type.Array(Type.String(), { description: "the event log's rows, as Redis holds them" }),
  }),
  Retried: Type.Object({
    ...Object.fromEntries(Object.entries(heldBatch).map(([name, schema]) => [name, Type.Optional(schema)])),
    batch_id: Type.String(),
    written: Type.Boolean({ description: 'false: held again; the other fields then say why' }),
  }),
} as const
