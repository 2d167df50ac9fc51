/**
 * The selected metric over the period, drawn by uPlot (a canvas chart made for time series, a
 * few kilobytes, fast on a year of points). The previous period, when compared, is drawn
 * faintly behind, point for point. Hover, or focus and the arrow keys, show a point's exact
 * value and its day or hour.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks'
import uPlot from 'uplot'
import type { Granularity } from '../../read/params.ts'
import { zoneFormats } from '../../time.ts'
import type { Point } from '../api.ts'
import { dayLabel, formatCount, formatExact, hourLabel, monthLabel } from '../format.ts'

export interface ChartProps {
  label: string
  granularity: Granularity
  /** the zone of hour points (days, weeks and months are dates, drawn as such) */
  tz: string
  current: Point[]
  /** the previous period, drawn behind when set */
  previous?: Point[]
  /** called after every draw */
  onDrawn?: () => void
}

const instant = (p: Point, granularity: Granularity) =>
  granularity === 'hour' ? Date.parse(p.t) : Date.parse(`${p.t}T00:00:00Z`)

/** A point's hour, day, week (from its first day) or month (its first day may be the range's). */
function pointLabel(p: Point | undefined, granularity: Granularity, tz: string): string {
  if (!p) return ''
  if (granularity === 'hour') return hourLabel(Date.parse(p.t), tz)
  if (granularity === 'week') return `Week from ${dayLabel(p.t)}`
  if (granularity === 'month') return p.t.endsWith('-01') ? monthLabel(p.t) : `${monthLabel(p.t)} from ${dayLabel(p.t)}`
  return dayLabel(p.t)
}

/** The colours of the current scheme, from the page's CSS variables. */
function palette() {
  const css = getComputedStyle(document.documentElement)
  const v = (name: string) => css.getPropertyValue(name).trim()
  return {
    line: v('--accent'),
    fill: v('--accent-fill'),
    previous: v('--previous'),
    grid: v('--grid'),
    text: v('--muted'),
  }
}

function useColorScheme(): boolean {
  const [dark, setDark] = useState(() => matchMedia('(prefers-color-scheme: dark)').matches)
  useEffect(() => {
    const query = matchMedia('(prefers-color-scheme: dark)')
    const changed = () => setDark(query.matches)
    query.addEventListener('change', changed)
    return () => query.removeEventListener('change', changed)
  }, [])
  return dark
}

const HOUR_S = 3600
const DAY_S = 86_400
/** uPlot steps by calendar months from 30 days up */
const MONTH_S = 30 * DAY_S
const DAY_TICKS = [1, 2, 3, 7, 14].map((n) => n * DAY_S).concat([1, 2, 3, 6, 12].map((n) => n * MONTH_S))
const HOUR_TICKS = [1, 2, 3, 4, 6, 12, 24].map((n) => n * HOUR_S)

/** Day points are days (`YYYY-MM-DD` at UTC midnight); hour points are instants shown in the zone. */
const dayTick = zoneFormats({ month: 'short', day: 'numeric' })
const hourTick = zoneFormats({ hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
function tickLabel(seconds: number, granularity: Granularity, tz: string): string {
  return (granularity === 'hour' ? hourTick(tz) : dayTick('UTC')).format(seconds * 1000)
}

export function Chart({ label, granularity, tz, current, previous, onDrawn }: ChartProps) {
  const box = useRef<HTMLDivElement>(null)
  const tip = useRef<HTMLDivElement>(null)
  const plot = useRef<uPlot | null>(null)
  const dark = useColorScheme()
  const drawn = useRef(onDrawn)
  drawn.current = onDrawn

  const now = Date.now()
  // hours still to come today are not zeros yet: they are left out of the line
  const values = current.map((p) => (granularity === 'hour' && instant(p, granularity) > now ? null : p.count))
  const xs = current.map((p) => instant(p, granularity) / 1000)
  const before = previous ? current.map((_, i) => previous[i]?.count ?? null) : undefined
  const last = values.findLastIndex((v) => v !== null)
  /** A point in words: its day or hour and value, and the previous period's beside it. */
  const describe = (i: number) => {
    const rows = [`${pointLabel(current[i], granularity, tz)}: ${formatExact(values[i] ?? 0)} ${label.toLowerCase()}`]
    const p = previous?.[i]
    if (p) rows.push(`${pointLabel(p, granularity, tz)}: ${formatExact(p.count)} (previous period)`)
    return rows.join('\n')
  }
  const [point, setPoint] = useState<number | undefined>()

  // a layout effect: it measures the box, and the chart is drawn in the same frame as the page
  useLayoutEffect(() => {
    const el = box.current
    if (!el) return
    const colors = palette()
    const axis = {
      stroke: colors.text,
      grid: { stroke: colors.grid, width: 1 },
      ticks: { show: false },
      font: '12px system-ui, sans-serif',
    }
    const series: uPlot.Series[] = [{}]
    const data: uPlot.AlignedData = [xs]
    if (before) {
      series.push({
        label: 'previous period',
        stroke: colors.previous,
        width: 1.5,
        dash: [5, 4],
        points: { show: false },
      })
      data.push(before)
    }
    series.push({ label, stroke: colors.line, width: 2, fill: colors.fill })
    data.push(values)
    const height = () => (el.clientWidth < 600 ? 200 : 280)

    const showTip = (u: uPlot) => {
      const idx = u.cursor.idx
      const t = tip.current
      if (!t) return
      if (idx == null || u.cursor.left == null || u.cursor.left < 0) {
        t.hidden = true
        return
      }
      t.textContent = describe(idx)
      t.hidden = false
      const left = u.over.offsetLeft + u.cursor.left
      const flip = left > el.clientWidth / 2
      t.style.left = flip ? '' : `${left + 12}px`
      t.style.right = flip ? `${el.clientWidth - left + 12}px` : ''
    }

    const u = new uPlot(
      {
        width: el.clientWidth,
        height: height(),
        tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), granularity === 'hour' ? tz : 'UTC'),
        scales: { x: { time: true }, y: { range: (_u, _min, max) => uPlot.rangeNum(0, Math.max(max, 1), 0.1, true) } },
        axes: [
          {
            ...axis,
            space: 64,
            // ticks never closer than the points: two ticks in one day would both read 'Nov 23'
            incrs: granularity === 'hour' ? HOUR_TICKS : DAY_TICKS,
            values: (_u, splits) => splits.map((s) => tickLabel(s, granularity, tz)),
          },
          { ...axis, size: 56, values: (_u, splits) => splits.map((s) => (Number.isInteger(s) ? formatCount(s) : '')) },
        ],
        series,
        legend: { show: false },
        // a vertical line through the point; a horizontal one would only follow the mouse
        cursor: { y: false, drag: { x: false, y: false, setScale: false }, points: { size: 8 } },
        hooks: { setCursor: [showTip], draw: [() => drawn.current?.()] },
      },
      data,
      el,
    )
    plot.current = u
    const resize = new ResizeObserver(() => u.setSize({ width: el.clientWidth, height: height() }))
    resize.observe(el)
    return () => {
      resize.disconnect()
      u.destroy()
      plot.current = null
    }
    // the data's identity changes each render; its content is what matters
  }, [JSON.stringify([xs, values, before]), label, granularity, tz, dark])

  /** Keyboard: the arrow keys, Home and End walk the points, as hovering does. */
  const onKey = (e: KeyboardEvent) => {
    const u = plot.current
    if (!u || last < 0) return
    const at = point ?? last
    const next =
      e.key === 'ArrowLeft'
        ? Math.max(0, at - 1)
        : e.key === 'ArrowRight'
          ? Math.min(last, at + 1)
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? last
              : undefined
    if (next === undefined) return
    e.preventDefault()
    setPoint(next)
    u.setCursor({ left: u.valToPos(xs[next]!, 'x'), top: u.valToPos(values[next] ?? 0, 'y') })
  }

  const shown = Math.min(point ?? last, last)
  const total = values.reduce<number>((a, v) => a + (v ?? 0), 0)
  // a slider over the points: a screen reader says the point's value as the arrow keys move it
  return (
    <div class="chart-box">
      <div
        ref={box}
        class="chart"
        role="slider"
        tabIndex={0}
        aria-label={`${label} by ${granularity}, ${formatExact(total)} in all`}
        aria-valuemin={0}
        aria-valuemax={Math.max(last, 0)}
        aria-valuenow={Math.max(shown, 0)}
        aria-valuetext={shown >= 0 ? describe(shown).replace('\n', '; ') : 'no data'}
        onKeyDown={onKey}
        onBlur={() => {
          setPoint(undefined)
          plot.current?.setCursor({ left: -10, top: -10 })
        }}
      />
      <div ref={tip} class="tip" hidden aria-hidden="true" />
    </div>
  )
}
