/**
 * A funnel: 2 to 8 ordered steps, each a goal's id (an event type or a configured goal's number),
 * and a window, written as minutes, hours or days (`30m`, `24h`, `7d`), from 1 minute to 30
 * days, 24 hours when absent. How visitors are counted through it: src/filters/funnel.ts.
 *
 * @example
 * parseWindow('7d', 'window')                                    // 604800000
 * parseFunnelBody({ name: 'Sign-up', steps: ['1', 'user_signup'] }) // its fields, or 422 naming one
 */
import { HttpError } from '../errors.ts'
import { PRINTABLE_PATTERN } from '../events/limits.ts'
import { DEFAULT_WINDOW_MS, MAX_STEPS, MAX_WINDOW_MS, MIN_STEPS, MIN_WINDOW_MS, MINUTE_MS } from '../filters/funnel.ts'
import { type Goal, goalJson } from '../goals/goal.ts'

export interface Funnel {
  id: string
  name: string
  /** goal ids, in order */
  steps: string[]
  windowMs: number
}

export const MAX_FUNNELS = 50
export const MAX_FUNNEL_NAME_LENGTH = 100

const invalid = (field: string, reason: string) => new HttpError(422, `${field} ${reason}`, { field })
const PRINTABLE = new RegExp(PRINTABLE_PATTERN)
const WINDOW = /^([1-9][0-9]{0,5})([mhd])$/
const UNIT_MS = { m: MINUTE_MS, h: 60 * MINUTE_MS, d: 1440 * MINUTE_MS } as const

/** A window's text (`90m`, `24h`, `7d`) in ms, or 422 naming `field`. */
export function parseWindow(raw: unknown, field: string): number {
  if (raw === undefined) return DEFAULT_WINDOW_MS
  const m = typeof raw === 'string' ? WINDOW.exec(raw) : null
  const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : Number.NaN
  if (!(ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS)) {
    throw invalid(
      field,
      `must be minutes, hours or days such as 30m, 24h or 7d, from 1m to 30d (got ${JSON.stringify(raw)?.slice(0, 40)})`,
    )
  }
  return ms
}

/** A window in its largest whole unit: 1440 minutes is `1d`, 90 minutes `90m`. */
export function windowText(ms: number): string {
  const minutes = Math.round(ms / MINUTE_MS)
  if (minutes % 1440 === 0) return `${minutes / 1440}d`
  if (minutes % 60 === 0) return `${minutes / 60}h`
  return `${minutes}m`
}

/** Steps as sent (an array of ids, or a comma list in a query), checked for their number and repeats. */
export function parseStepIds(raw: unknown, field: string): string[] {
  const ids = typeof raw === 'string' ? raw.split(',').map((s) => s.trim()) : raw
  if (!Array.isArray(ids) || !ids.every((s) => typeof s === 'string' && s.length > 0 && s.length <= 64)) {
    throw invalid(field, 'must be goal ids in order, such as ["page_view","3","user_signup"] (GET /analytics/goals)')
  }
  if (ids.length < MIN_STEPS || ids.length > MAX_STEPS) {
    throw invalid(field, `has ${ids.length} steps; a funnel has ${MIN_STEPS} to ${MAX_STEPS}`)
  }
  ids.forEach((id, i) => {
    const first = ids.indexOf(id)
    // one event may stand for consecutive steps: a goal twice would be reached by one event
    if (first !== i)
      throw invalid(field, `names the goal ${JSON.stringify(id)} twice (steps ${first + 1} and ${i + 1})`)
  })
  return ids as string[]
}

const BODY_FIELDS = new Set(['name', 'steps', 'window'])

/** A new funnel's fields from `POST /analytics/funnels`' JSON body (goals not yet looked up), or 422. */
export function parseFunnelBody(body: unknown): Omit<Funnel, 'id'> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(
      422,
      'the body must be a JSON object such as {"name":"Sign-up","steps":["page_view","user_signup"]}',
    )
  }
  const b = body as Record<string, unknown>
  for (const key of Object.keys(b)) {
    if (!BODY_FIELDS.has(key)) throw invalid(key, `is not a field of a funnel; they are ${[...BODY_FIELDS].join(', ')}`)
  }
  const name = b.name
  if (name === undefined || name === null) throw invalid('name', 'is required')
  if (typeof name !== 'string' || name.length === 0) throw invalid('name', 'must be a non-empty string')
  if (name.length > MAX_FUNNEL_NAME_LENGTH) {
    throw invalid('name', `is ${name.length} characters; at most ${MAX_FUNNEL_NAME_LENGTH}`)
  }
  if (!PRINTABLE.test(name) || !name.isWellFormed())
    throw invalid('name', 'holds a control character or a lone surrogate')
  if (b.steps === undefined) throw invalid('steps', 'is required')
  if (!Array.isArray(b.steps))
    throw invalid('steps', 'must be an array of goal ids, such as ["page_view","user_signup"]')
  return { name, steps: parseStepIds(b.steps, 'steps'), windowMs: parseWindow(b.window, 'window') }
}

/** A funnel as the API shows it, with its steps' goals. */
export function funnelJson(funnel: Funnel, goals: readonly Goal[]) {
  return {
    id: funnel.id,
    name: funnel.name,
    steps: goals.map(goalJson),
    window: windowText(funnel.windowMs),
    window_minutes: Math.round(funnel.windowMs / MINUTE_MS),
  }
}
