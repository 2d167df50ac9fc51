/**
 * The live screen (`GET /live`): reads the live feed and keeps the numbers on screen current,
 * for a wall display. Built by src/dashboard/build.ts into public/live.js, from the dashboard's
 * own modules: the token (asked once, kept in the tab, or taken from `/live#token=…`), the feed's
 * connection and the event types' labels, so both screens sign in, reconnect and name each type
 * alike.
 */
import { openFeed } from '../dashboard/feed.ts'
import { forgetToken, readToken, saveToken, sendable, takeLinkToken } from '../dashboard/token.ts'
import { EVENT_LABELS, LABELLED_TYPES } from '../events/labels.ts'
import type { EventType } from '../events/types.ts'
import { zoneFormats } from '../time.ts'
import { applyCounts, type Day, dayOf } from './day.ts'

type State = 'signed-out' | 'connecting' | 'live' | 'reconnecting' | 'stopped'

interface Card {
  node: HTMLElement
  hour: HTMLElement
  total: HTMLElement
  chart: HTMLElement
  bars: HTMLElement[]
}

const $ = (id: string) => document.getElementById(id) as HTMLElement
const label = (type: EventType) => EVENT_LABELS[type]?.plural ?? type
const fmt = (n: number) => Number(n).toLocaleString('en-US')
const pad = (h: number) => String(h).padStart(2, '0')
/** the clock of the day shown, in its zone */
const clock = zoneFormats({ hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' })

let day: Day | undefined
const cards = new Map<EventType, Card>()
let stopFeed: (() => void) | undefined

function setState(state: State, text: string) {
  document.body.dataset.state = state
  $('status').textContent = text
  $('banner').hidden = state !== 'reconnecting'
  $('failure').hidden = state !== 'stopped'
  $('login').hidden = state !== 'signed-out'
}

function stop() {
  stopFeed?.()
  stopFeed = undefined
}

function signOut(message = '') {
  stop()
  forgetToken()
  setState('signed-out', 'signed out')
  $('login-error').textContent = message
  const input = $('token') as HTMLInputElement
  input.value = ''
  input.focus()
}

function connect() {
  if (!takeLinkToken()) return signOut('The token in the link could not be read. Type it here.')
  if (!readToken()) return signOut()
  stop()
  stopFeed = openFeed({
    token: readToken,
    types: new URLSearchParams(location.search).get('types'),
    site: new URLSearchParams(location.search).get('site'),
    onRefused: () => signOut('That token was refused.'),
    onStatus(status, reason) {
      if (status === 'stopped') {
        $('failure-reason').textContent = reason ?? ''
        setState('stopped', 'stopped')
      } else if (status === 'reconnecting') setState('reconnecting', 'reconnecting…')
      else if (status === 'live') setState('live', 'live')
      else if (document.body.dataset.state !== 'reconnecting') setState('connecting', 'connecting…')
    },
    onSnapshot(s) {
      day = dayOf(s)
      const main = $('cards')
      main.replaceChildren()
      cards.clear()
      // the order of every screen, so cards never jump
      const rank = (type: EventType) => {
        const i = LABELLED_TYPES.indexOf(type)
        return i < 0 ? LABELLED_TYPES.length : i
      }
      const types = [...day.hours.keys()].sort((a, b) => rank(a) - rank(b))
      for (const type of types) main.append(makeCard(type))
      render(types)
    },
    onCounts(c) {
      if (!day) return
      const { changed, hourMoved } = applyCounts(day, c)
      // a new hour moves every card's "this hour" and its highlighted bar
      render(hourMoved ? [...day.hours.keys()] : changed, changed)
    },
  })
}

function makeCard(type: EventType): HTMLElement {
  const template = $('card') as HTMLTemplateElement
  const node = template.content.firstElementChild!.cloneNode(true) as HTMLElement
  node.dataset.type = type
  const name = node.querySelector('.name') as HTMLElement
  name.textContent = label(type)
  name.title = type
  const chart = node.querySelector('.chart') as HTMLElement
  const bars: HTMLElement[] = []
  for (let h = 0; h < 24; h++) {
    const bar = document.createElement('div')
    bar.className = 'h'
    chart.append(bar)
    bars.push(bar)
  }
  cards.set(type, {
    node,
    hour: node.querySelector('[data-field="hour"]') as HTMLElement,
    total: node.querySelector('[data-field="total"]') as HTMLElement,
    chart,
    bars,
  })
  return node
}

function render(types: EventType[], flash: EventType[] = []) {
  if (!day) return
  const now = day.hour
  $('day').textContent = day.day
  $('hour-range').textContent = `${pad(now)}:00–${pad((now + 1) % 24)}:00 ${day.zone}`
  $('visitors').textContent = fmt(day.visitors)
  $('visitors-label').textContent = day.visitors === 1 ? 'visitor today' : 'visitors today'
  $('visitors-now').textContent = fmt(day.visitorsNow)
  $('visitors-now-label').textContent = day.visitorsNow === 1 ? 'visitor now' : 'visitors now'
  $('updated').textContent = `updated ${clock(day.zone).format(Date.now())} ${day.zone}`
  for (const type of types) {
    const card = cards.get(type)
    const hours = day.hours.get(type)
    if (!card || !hours) continue
    const total = day.totals.get(type) ?? 0
    const max = Math.max(1, ...hours)
    card.hour.textContent = fmt(hours[now] ?? 0)
    card.total.textContent = fmt(total)
    card.node.classList.toggle('quiet', total === 0)
    card.chart.setAttribute('aria-label', `${label(type)} per hour today, ${fmt(total)} in all`)
    card.bars.forEach((bar, h) => {
      bar.style.height = h > now ? '2px' : `${Math.max(2, ((hours[h] ?? 0) / max) * 100)}%`
      bar.classList.toggle('now', h === now)
      bar.classList.toggle('future', h > now)
      bar.title = `${pad(h)}:00 ${fmt(hours[h] ?? 0)}`
    })
  }
  for (const type of flash) {
    const node = cards.get(type)?.node
    if (!node) continue
    node.classList.add('changed')
    setTimeout(() => node.classList.remove('changed'), 400)
  }
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault()
  const token = ($('token') as HTMLInputElement).value.trim()
  if (!token) return
  if (!sendable(token)) {
    $('login-error').textContent = 'That token cannot be sent: it has characters an HTTP header cannot carry.'
    return
  }
  saveToken(token)
  $('login-error').textContent = ''
  connect()
})
$('forget').addEventListener('click', () => signOut())

connect()
