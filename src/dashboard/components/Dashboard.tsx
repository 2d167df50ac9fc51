/**
 * The signed-in page: the view from the address, every read of it at once (each under the
 * filters on, but the live strip, which counts all traffic), and the parts that show them. `<main data-state="ready">` (and the `dashboard-ready` performance mark, once) tell
 * when the numbers and the chart are on screen.
 */
import type { ComponentChildren } from 'preact'
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { addDays, localDay } from '../../time.ts'
import { apiUrl, type StatsAnswer } from '../api.ts'
import { watchFilterRefusals } from '../filter-refusals.ts'
import { type Filter, filtersParam, withFilter } from '../filters.ts'
import { followChanges, todayKey } from '../follow.ts'
import { rangeLabel } from '../format.ts'
import type { LiveToday } from '../live.ts'
import { chartable, METRICS, type MetricId, metricLabel, statsQuery } from '../metrics.ts'
import { type Outage, watchOutage } from '../outage.ts'
import { type PageConfig, sameZone } from '../page-config.ts'
import { presetRange, previousRange, type Range, withInterval } from '../period.ts'
import { useReadiness } from '../readiness.ts'
import { FirstReadsIn, type Read, useApi, useRead, useReads } from '../reads.ts'
import { readSpans, splitAt } from '../series.ts'
import { readView, type View, viewSearch } from '../view.ts'
import { Chart } from './Chart.tsx'
import { Controls } from './Controls.tsx'
import { Empty } from './Empty.tsx'
import { Failure } from './Failure.tsx'
import { Filters } from './Filters.tsx'
import { Held, LogDropped } from './Held.tsx'
import { LiveStrip } from './LiveStrip.tsx'
import { type MetricReads, Numbers, unanswered } from './Numbers.tsx'
import { OutageNotice } from './OutageNotice.tsx'
import { Panels } from './Panels.tsx'
import { Quality } from './Quality.tsx'
import { RedisMemory } from './RedisMemory.tsx'
import { Users } from './Users.tsx'

const READY_MARK = 'dashboard-ready'
/** A view that includes today reads again at most this often while the live feed reports changes. */
export const REREAD_MS = 3_000

/** A period read up to an instant, its hours from that instant on left out: not zeros, not yet. */
function cutAt(read: Read<StatsAnswer>, until: number | undefined): Read<StatsAnswer> {
  if (until === undefined || read.state !== 'ok') return read
  return { ...read, data: { ...read.data, series: read.data.series.filter((p) => Date.parse(p.t) < until) } }
}

export function Dashboard({
  config,
  onSignOut,
  picker,
  links,
}: {
  config: PageConfig
  onSignOut: (message?: string) => void
  /** the switch between sites, beside the title */
  picker?: ComponentChildren
  /** the site's shared links, below everything (the admin's) */
  links?: ComponentChildren
}) {
  const api = useApi()
  // what of the address could not be used is said on the page, and the address made the view shown
  const fromAddress = () => readView(location.search, config.timeZone)
  const [{ view, problems }, setShown] = useState(fromAddress)
  const [round, setRound] = useState(0)
  const [drawn, setDrawn] = useState('')
  useLayoutEffect(() => {
    if (problems.length > 0) history.replaceState(history.state, '', viewSearch(view))
  }, [problems])
  useEffect(() => {
    const restore = () => setShown(fromAddress())
    addEventListener('popstate', restore)
    return () => removeEventListener('popstate', restore)
  }, [])
  const go = (next: View) => {
    history.pushState(null, '', viewSearch(next))
    setShown({ view: next, problems: [] })
  }
  const filterBy = (filters: Filter[]) => go({ ...view, filters: filters.length > 0 ? filters : undefined })
  const chooseGoal = (goal: string | undefined) => go({ ...view, goal })
  // a goal of the address that is not one (deleted, or mistyped) is dropped as a bad value is
  const dropGoal = (goal: string) => {
    const { goal: _, ...rest } = shown.current
    shown.current = rest
    history.replaceState(history.state, '', viewSearch(rest))
    setShown((s) => ({
      view: rest,
      problems: [...s.problems, `There is no goal ${JSON.stringify(goal)}: the breakdowns show no conversion rate.`],
    }))
  }
  const filters = filtersParam(view.filters)
  // filters the server refuses are dropped, as an address's bad values are; the reads' outcomes
  // are watched from the first render on, so this ref holds the view shown
  const shown = useRef(view)
  shown.current = view
  useLayoutEffect(
    () =>
      watchFilterRefusals(
        api,
        () => shown.current,
        (rest, problem) => {
          shown.current = rest
          // said after what the address already had wrong, if anything
          setShown((s) => ({ view: rest, problems: [...s.problems, problem] }))
        },
      ),
    [],
  )
  const refresh = () => {
    api.forget()
    setRound((r) => r + 1)
  }
  // a service down behind the reads: said, tried again now and then, and the view read afresh after
  const [outage, setOutage] = useState<Outage>()
  const watcher = useMemo(
    () =>
      watchOutage({
        probe: (url) => {
          api.forget(url)
          return api.get(url)
        },
        onChange: setOutage,
        onBack: refresh,
      }),
    [],
  )
  useLayoutEffect(() => {
    const unwatch = api.watch(watcher.saw)
    return () => {
      unwatch()
      watcher.stop()
    }
  }, [])

  // a zone the browser spells otherwise (?tz=Asia/Calcutta for Asia/Kolkata) is the deployment's
  const zone = view.tz && !sameZone(view.tz, config.timeZone) ? view.tz : config.timeZone
  const today = localDay(Date.now(), zone)
  const custom = view.period === 'custom' && view.from && view.to ? { from: view.from, to: view.to } : undefined
  const range = withInterval(presetRange(view.period, today, custom), view.interval)
  // today against yesterday until the same time of day, unless the whole day is asked for
  const previous = previousRange(range, { now: Date.now(), tz: zone, wholeDay: Boolean(view.wholeDay) })
  // breakdowns count the deployment's days, whatever zone the numbers are in
  const panelRange =
    zone === config.timeZone ? range : presetRange(view.period, localDay(Date.now(), config.timeZone), custom)

  const statsUrl = (id: MetricId, r: Range, tz = zone) =>
    apiUrl('analytics/stats', { ...statsQuery(id, r, tz), filters })
  // Unique visitors are kept per day of TIME_ZONE only: in another zone they are read, and said
  // to be, the deployment's days of the period, and cannot go on the chart of the zone's days.
  const zoned = zone !== config.timeZone
  // unique visitors are kept per whole day: today's are measured against all of yesterday
  const visitorsNote = zoned
    ? `days of ${config.timeZone}`
    : previous.until !== undefined
      ? 'against all of yesterday'
      : undefined
  const plans = METRICS.map((metric) =>
    metric.id === 'visitors' && zoned
      ? { metric, tz: config.timeZone, spans: readSpans(metric.id, panelRange, previousRange(panelRange)) }
      : { metric, tz: zone, spans: readSpans(metric.id, range, previous) },
  )
  const urls = plans.flatMap(({ metric, spans, tz }) => spans.map((span) => statsUrl(metric.id, span, tz)))
  /** why a number cannot be put on the chart, or undefined when it can */
  const undrawable = (id: MetricId): string | undefined => {
    if (!chartable(id, range.granularity))
      return 'Unique visitors are counted by day: the chart by hour cannot show them'
    if (id === 'visitors' && zoned)
      return `Unique visitors are counted by the days of ${config.timeZone}: the chart in ${zone} cannot show them`
    return undefined
  }
  // Asked while rendering, so they go out before the breakdowns' reads (whose effects, in
  // children, run first): the numbers and the chart are what a person looks at first. Identical
  // reads share one request, so the hook below waits on these same ones.
  const key = `${round} ${urls.join(' ')}`
  useMemo(() => {
    for (const url of urls) api.get(url)
  }, [key])
  const answers = useReads<StatsAnswer>(urls, round)
  let next = 0
  const reads: MetricReads[] = plans.map(({ metric, spans }) => {
    const first = answers[next++] ?? { state: 'loading' }
    const note = metric.id === 'visitors' ? visitorsNote : undefined
    if (spans.length === 2) {
      const before = answers[next++] ?? { state: 'loading' }
      return { metric, note, current: first, previous: cutAt(before, spans[1]!.until) }
    }
    if (first.state !== 'ok') return { metric, current: first, previous: first }
    const halves = splitAt(first.data, range.from, range.granularity, zone)
    return { metric, current: { state: 'ok', data: halves.current }, previous: { state: 'ok', data: halves.previous } }
  })
  const visitors = reads[0]!.current
  // unique visitors lead where they can be drawn; a day by hour leads with its visits
  const lead: MetricId | undefined = undrawable('visitors')
    ? 'visits'
    : visitors.state === 'loading'
      ? undefined
      : visitors.state === 'ok'
        ? 'visitors'
        : 'visits'
  const selected: MetricId | undefined = view.type && !undrawable(view.type) ? view.type : lead
  const chosen = reads.find((r) => r.metric.id === selected)
  const settled = answers.every((a) => a.state !== 'loading')

  // nothing in this period or the one before: has anything ever been counted?
  const quiet = settled && answers.every((a) => (a.state === 'ok' ? a.data.total === 0 : unanswered(a)))
  const everUrl = apiUrl('analytics/stats', { from: addDays(today, -399), to: today, tz: zone })
  const ever = useRead<StatsAnswer>(quiet ? everUrl : null, round)
  const empty = quiet && ever.state === 'ok' && ever.data.total === 0
  const checkForEvents = async () => {
    api.forget(everUrl)
    const answer = await api.get<StatsAnswer>(everUrl)
    if (answer.total > 0) refresh()
    return answer.total > 0
  }
  // Numbers that count today follow the live feed: what it reports changed is read again, a
  // round every few seconds at most, so they never disagree with the strip for long.
  const follows = range.to >= today || panelRange.to >= localDay(Date.now(), config.timeZone)
  const follower = useMemo(() => followChanges({ gapMs: REREAD_MS, idle: api.idle, reread: refresh }), [])
  useEffect(() => () => follower.stop(), [])
  const seen = useRef<string | undefined>(undefined)
  // the live strip keeps the first callbacks it was given: these refs hold the current ones
  const latest = useRef({ empty, follows, onSignOut })
  latest.current = { empty, follows, onSignOut }
  const onToday = (t: LiveToday) => {
    const key = todayKey(t)
    const moved = seen.current !== undefined && seen.current !== key
    seen.current = key
    const { empty, follows } = latest.current
    const counted = Object.values(t.totals).some((n) => (n ?? 0) > 0)
    // a view that does not count today is read afresh when it is next shown, not before
    if (moved) {
      api.forget()
      readiness.changed()
    }
    // while a service is down, only the outage's own tries read: it reads the view once it is back
    if (watcher.current()) return
    if ((moved && follows) || (empty && counted)) follower.changed()
  }
  // The feed waits for the first numbers: a browser holds six connections to a server, and a
  // stream kept open takes one of them from the reads the page needs first.
  const [feed, setFeed] = useState(false)
  // /readyz's notices: read once the first numbers are in, then again as the feed moves
  const readiness = useReadiness(feed)
  const paused = outage?.service === 'redis' ? 'Redis does not answer' : undefined
  const live = useMemo(
    () => (
      <LiveStrip
        open={feed}
        onRefused={() => latest.current.onSignOut('That token was refused.')}
        onToday={onToday}
        paused={paused}
        filtered={filters !== undefined}
      />
    ),
    [feed, paused, filters !== undefined],
  )
  // the parts that do not show the numbers are not laid out again each time numbers arrive
  const note = zone === config.timeZone ? undefined : config.timeZone
  const panels = useMemo(
    () => (
      <Panels
        range={panelRange}
        countedProperties={config.countedProperties}
        serverZone={note}
        filters={filters}
        goal={view.goal}
        onFilter={(dimension, value) => filterBy(withFilter(view.filters ?? [], ['is', dimension, [value]]))}
        onGoal={chooseGoal}
        onUnknownGoal={dropGoal}
        round={round}
      />
    ),
    [panelRange.from, panelRange.to, note, config, round, viewSearch(view)],
  )
  const users = useMemo(() => <Users />, [])

  // not the round: a round of the same reads keeps the chart drawn until its answers redraw it
  const chartKey = `${selected} ${view.compare} ${statsUrl(selected ?? 'visits', range)}`
  const ready = settled && (empty || drawn === chartKey || chosen?.current.state === 'error')
  useLayoutEffect(() => {
    if (ready && performance.getEntriesByName(READY_MARK).length === 0) performance.mark(READY_MARK)
    if (settled) setFeed(true)
  }, [ready, settled])

  return (
    <div class="page">
      <header class="top">
        <h1>edge analytics</h1>
        {picker}
        {live}
        <button type="button" class="link signout" onClick={() => onSignOut()}>
          Sign out
        </button>
      </header>
      <FirstReadsIn.Provider value={settled}>
        <main data-state={ready ? 'ready' : 'loading'} aria-busy={!ready}>
          <OutageNotice outage={outage} />
          <Held held={readiness.state.held} />
          <LogDropped dropped={readiness.state.logDropped ?? 0} />
          <RedisMemory memory={readiness.state.memory} />
          {empty ? (
            <Empty check={checkForEvents} />
          ) : (
            <>
              {problems.length > 0 && (
                <div class="notice" role="status" data-notice>
                  {problems.map((p) => (
                    <p key={p}>{p}</p>
                  ))}
                </div>
              )}
              <Controls
                view={view}
                range={range}
                previous={previous}
                zone={zone}
                serverZone={config.timeZone}
                onChange={go}
              />
              <Filters
                filters={view.filters ?? []}
                range={panelRange}
                countedProperties={config.countedProperties}
                onChange={filterBy}
              />
              <Numbers
                reads={reads}
                selected={selected}
                compare={view.compare}
                undrawable={undrawable}
                onSelect={(type) => go({ ...view, type })}
              />
              <Quality
                range={range}
                previous={previous}
                tz={zone}
                filters={filters}
                compare={view.compare}
                round={round}
              />
              <section class="chart-card" aria-labelledby="chart-title">
                <h2 id="chart-title">
                  {selected ? metricLabel(selected) : '…'}
                  <span class="by">
                    {' '}
                    by {range.granularity}, {zone}
                  </span>
                </h2>
                {chosen?.current.state === 'error' && <Failure what={chosen.metric.label} read={chosen.current} />}
                {chosen?.current.state === 'ok' && (
                  <Chart
                    label={chosen.metric.label}
                    granularity={range.granularity}
                    tz={zone}
                    current={chosen.current.data.series}
                    previous={view.compare && chosen.previous.state === 'ok' ? chosen.previous.data.series : undefined}
                    onDrawn={() => setDrawn(chartKey)}
                  />
                )}
                {chosen?.current.state !== 'ok' && chosen?.current.state !== 'error' && (
                  <div class="chart-placeholder" aria-hidden="true" />
                )}
                {view.compare && (
                  <p class="legend">
                    <span class="key now" /> {rangeLabel(range.from, range.to)}
                    <span class="key before" /> {rangeLabel(previous.from, previous.to)}
                  </p>
                )}
              </section>
              {panels}
              {users}
            </>
          )}
          {links}
        </main>
      </FirstReadsIn.Provider>
    </div>
  )
}
