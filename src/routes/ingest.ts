/**
 * `POST /analytics/events`: batches from trusted back ends, `Authorization: Bearer
 * $INGEST_TOKEN`. A JSON array of at most 1000 events of any type, with optional timestamps up
 * to 30 days old. All-or-nothing: one invalid event rejects the batch with 422 and
 * `{index, field, reason}` for each problem; nothing is counted.
 *
 * An event may carry the browser's address and User-Agent (`client_ip`, `user_agent`), forwarded
 * by the back end from the browser's request: it is then hashed into that browser's visitor and
 * joins their visit if one is in progress (Recorder.server); the two values are dropped after the
 * hash, never stored or logged. A crawler's event (by that User-Agent) is not counted, as a
 * crawler's beacon is not: the answer says how many were left out (`crawlers`).
 *
 * Each event counts for a site: the one it names (`site`, an id or a domain), else the one the
 * request names (`?site=`), else the only one; with several sites and none named, the batch is a
 * 422 naming the choices. One batch may mix sites: each site's events are validated against its
 * own counted properties and go to the same group commit.
 *
 * Server batches have budgets of their own (`INGEST_MAX_IN_FLIGHT`), apart from the beacons', so
 * anonymous traffic cannot starve them; the token is checked before the body is read.
 */
import { Elysia } from 'elysia'
import type { Config } from '../config.ts'
import type { Recorder } from '../counters/recorder.ts'
import { HttpError } from '../errors.ts'
import { clientInfo } from '../events/client.ts'
import { INGEST_MAX_BYTES } from '../events/limits.ts'
import type { CountedEvent, Sender } from '../events/types.ts'
import type { FieldError } from '../events/validate.ts'
import { validateEvents } from '../events/validate.ts'
import type { Logger } from '../log.ts'
import type { Metrics } from '../metrics.ts'
import type { SiteContext } from '../sites/context.ts'
import { requireToken } from './auth.ts'
import { bodyFailure, checkMediaType, parseJson, readText } from './body.ts'
import { Slots } from './limits.ts'
import { errors, json, operation, SECURITY } from './openapi.ts'
import { ref } from './openapi-schemas.ts'
import { Refusal } from './refusal.ts'
import { readSite, type SiteParamDeps } from './site-param.ts'
import { writeErrorResponse } from './write-errors.ts'

export interface IngestDeps extends SiteParamDeps {
  config: Pick<
    Config,
    | 'ingestToken'
    | 'adminToken'
    | 'viewerToken'
    | 'pathQueryParams'
    | 'ingestMaxInFlight'
    | 'bodyTimeoutMs'
    | 'ingestSites'
  >
  metrics: Metrics
  recorder: Recorder
  log: Logger
  /** the receive time timestamps are checked against (Date.now) */
  now?: () => number
}

/** A batch's events of one site: as sent (without their `site`), and their indexes in the batch. */
interface SiteGroup {
  site: SiteContext
  raw: unknown[]
  indexes: number[]
}

/** What a batch came to: the events counted, and those left out as a crawler's. */
export interface Ingested {
  accepted: number
  crawlers?: number
}

/**
 * The events to count and their senders: an event sent with a crawler's User-Agent (isbot, or an
 * empty one: the beacon's own test) is left out, as a crawler's beacon is.
 */
function withoutCrawlers(
  events: CountedEvent[],
  senders: readonly (Sender | undefined)[],
): { events: CountedEvent[]; senders: (Sender | undefined)[]; crawlers: number } {
  const kept: CountedEvent[] = []
  const keptSenders: (Sender | undefined)[] = []
  for (let k = 0; k < events.length; k++) {
    const sender = senders[k]
    if (sender !== undefined && clientInfo(sender.userAgent).bot) continue
    kept.push(events[k]!)
    keptSenders.push(sender)
  }
  return { events: kept, senders: keptSenders, crawlers: events.length - kept.length }
}

export function ingestRoute(deps: IngestDeps): (request: Request) => Promise<Response> {
  const { config, metrics, recorder, log } = deps
  const now = deps.now ?? Date.now
  const reading = new Slots(config.ingestMaxInFlight)
  const writing = new Slots(config.ingestMaxInFlight)
  const body = { limit: INGEST_MAX_BYTES, timeoutMs: config.bodyTimeoutMs }

  const rejectedBot = metrics.rejected.labels('bot')
  /** Whether INGEST_TOKEN may write for a site: INGEST_SITES names it (by id or domain), or is empty. */
  const mayWrite = (site: number): boolean =>
    config.ingestSites.length === 0 || config.ingestSites.some((name) => deps.sites.resolve(name)?.id === site)

  async function ingest(request: Request): Promise<Ingested> {
    try {
      requireToken(request, config.ingestToken, 'INGEST_TOKEN', {
        tokens: [config.adminToken, config.viewerToken],
        reason: 'events are sent with INGEST_TOKEN, not with the admin or viewer token',
      })
    } catch (err) {
      if (!(err instanceof HttpError)) throw err
      throw new Refusal('unauthorized', err.status, err.reason, err.details, err.headers)
    }
    checkMediaType(request, ['application/json'])
    let text: string
    {
      using _slot = reading.take()
      // a timer in JS, not the socket's: a back end that sends too slowly gets a 408 it can read
      const started = performance.now()
      try {
        text = await readText(request, body)
      } catch (err) {
        throw bodyFailure(err, started, body)
      }
    }
    const raw = parseJson(text, 'a JSON array of events')
    const { groups, errors } = bySite(raw, new URL(request.url).searchParams.get('site') ?? undefined)
    const counted: { site: SiteContext; events: CountedEvent[]; senders?: (Sender | undefined)[] }[] = []
    // with an event of no site, nothing of the batch is counted: its other errors are not looked for
    for (const group of errors.length > 0 ? [] : groups) {
      const validated = validateEvents(group.raw, {
        source: 'server',
        now: now(),
        keepQueryParams: config.pathQueryParams,
        countedProperties: group.site.site.countedProperties,
      })
      // an error's index is the event's own in the batch, not in its site's part of it
      for (const e of validated.errors) errors.push(e.index < 0 ? e : { ...e, index: group.indexes[e.index]! })
      counted.push({ site: group.site, events: validated.events, senders: validated.senders })
    }
    if (errors.length > 0) {
      errors.sort((a, b) => a.index - b.index)
      throw new Refusal('invalid', 422, 'invalid events; none were counted', { errors })
    }
    for (const { site } of counted) {
      if (!mayWrite(site.site.id)) {
        throw new Refusal(
          'unauthorized',
          403,
          `INGEST_TOKEN may not write for site ${site.site.id} (${site.site.name}): INGEST_SITES names the sites it may; nothing was counted`,
        )
      }
    }
    using _slot = writing.take()
    let accepted = 0
    let crawlers = 0
    await Promise.all(
      counted.map(({ site, events, senders }) => {
        // a back end that does not say who the browser was: its events belong to no visit (visit.ts)
        if (senders === undefined) {
          accepted += events.length
          return recorder.server(events, request, undefined, site)
        }
        const kept = withoutCrawlers(events, senders)
        crawlers += kept.crawlers
        accepted += kept.events.length
        return kept.events.length > 0 ? recorder.server(kept.events, request, kept.senders, site) : undefined
      }),
    )
    if (crawlers > 0) rejectedBot.inc(crawlers)
    return crawlers > 0 ? { accepted, crawlers } : { accepted }
  }

  /**
   * The batch's events by site, each with its index in the batch and without its `site`, and the
   * errors of the events whose site cannot be found. A body that is no array is one group, for
   * the validation to refuse.
   */
  function bySite(raw: unknown, named: string | undefined): { groups: SiteGroup[]; errors: FieldError[] } {
    const errors: FieldError[] = []
    if (!Array.isArray(raw) || raw.length === 0) {
      // the validation refuses it: any site's rules do
      return { groups: [{ site: deps.contexts.of(deps.sites.list()[0]!), raw: raw as unknown[], indexes: [] }], errors }
    }
    // each name looked up once a batch: a thousand events name a few sites
    const found = new Map<string | undefined, SiteContext | string>()
    const find = (value: string | undefined): SiteContext | string => {
      let site = found.get(value)
      if (site !== undefined) return site
      try {
        site = readSite(deps, value)
      } catch (err) {
        if (!(err instanceof HttpError)) throw err
        // no site named where one must be: the whole request's fault, with the choices
        if (value === undefined) throw new Refusal('invalid', err.status, err.reason, err.details)
        site = err.reason
      }
      found.set(value, site)
      return site
    }
    const groups = new Map<SiteContext, SiteGroup>()
    raw.forEach((event, index) => {
      let value = named
      let rest = event
      if (typeof event === 'object' && event !== null && !Array.isArray(event) && 'site' in event) {
        const { site: own, ...others } = event as Record<string, unknown>
        rest = others
        if (typeof own !== 'string' && !(typeof own === 'number' && Number.isInteger(own))) {
          errors.push({ index, field: 'site', reason: 'must be a site id or one of its domains' })
          return
        }
        value = String(own)
      }
      const site = find(value)
      if (typeof site === 'string') {
        errors.push({ index, field: 'site', reason: site })
        return
      }
      let group = groups.get(site)
      if (group === undefined) {
        group = { site, raw: [], indexes: [] }
        groups.set(site, group)
      }
      group.raw.push(rest)
      group.indexes.push(index)
    })
    return { groups: [...groups.values()], errors }
  }

  return async (request) => {
    try {
      return Response.json(await ingest(request), { status: 202 })
    } catch (err) {
      return writeErrorResponse(err, { metrics, log, route: 'POST /analytics/events' })
    }
  }
}

export const ingest = (deps: IngestDeps) => {
  const handle = ingestRoute(deps)
  return new Elysia({ name: 'ingest' }).post('/analytics/events', ({ request }) => handle(request), {
    parse: 'none',
    ...operation({
      summary: 'Server events, all-or-nothing',
      description: `At most ${INGEST_MAX_BYTES} bytes; timestamps up to 30 days old. Nothing is counted unless all are valid. Each event counts for the site its \`site\` names, else the one \`?site=\` names, else the only one (with several, naming none is a 422 listing them in \`choices\`).`,
      parameters: [
        {
          name: 'site',
          in: 'query',
          required: false,
          schema: { type: 'string' },
          description: 'the site of the events that name none: an id or a domain',
        },
      ],
      tags: ['ingest'],
      security: SECURITY.ingest,
      requestBody: { required: true, content: { 'application/json': { schema: ref('EventBatch') } } },
      responses: {
        202: json("every event stored (but those sent with a crawler's user_agent: not counted)", 'Accepted'),
        ...errors(400, 401, 403, 408, 413, 415),
        422: json('invalid events; none were counted', 'InvalidEvents'),
        ...errors(503),
      },
    }),
  })
}
