// The live screen: reads GET /analytics/live and keeps the numbers on screen current.
//
// It reads the feed with fetch rather than EventSource: fetch can send the token in a header
// (so it never sits in a URL or an access log), sees the status of a refused connection (401:
// ask for the token again; 503: wait for Retry-After; another 4xx, such as a bad ?types=: show
// why and stop, where an EventSource would retry forever), and sees the heartbeat comments, so a
// silently dead connection is noticed and replaced instead of showing frozen numbers.
;(() => {
  const TOKEN_KEY = 'edge-analytics.live-token'
  const FEED = 'analytics/live'
  /** no bytes for this long (heartbeats come every few seconds): the connection is dead */
  const SILENCE_MS = 15000
  const MAX_BACKOFF_MS = 30000
  /** the 4xx answers a later try can change (401 asks for the token instead); others stop the page */
  const RETRIED = [408, 429]
  /**
   * Each type's { plural, one }, in the order of every screen (the server writes them into the
   * page from src/events/labels.ts, which the dashboard uses too); the order never changes, so
   * cards do not jump
   */
  const LABELS = JSON.parse(document.getElementById('event-labels').textContent)
  const label = (type) => LABELS[type]?.plural ?? type

  const $ = (id) => document.getElementById(id)
  const fmt = (n) => Number(n).toLocaleString('en-US')
  const pad = (h) => String(h).padStart(2, '0')

  /** the day as the feed last described it: { day, hour, visitors, visitorsNow, types: { type: { hours[24] } } } */
  let view
  /** per type: the elements to update in place */
  const cards = new Map()
  let lastId = ''
  let retryMs = 2000
  let failures = 0
  let lastByteAt = 0
  let abort
  let reconnectTimer
  let watchdog

  function setState(state, text) {
    document.body.dataset.state = state
    $('status').textContent = text
    $('banner').hidden = state !== 'reconnecting'
    $('failure').hidden = state !== 'stopped'
    $('login').hidden = state !== 'signed-out'
  }

  /**
   * `/live#token=…` for kiosks: a fragment never reaches a server; it is moved out of the address
   * bar into sessionStorage. Returns false when the link has a token this page cannot use (a bad
   * percent-escape, nothing but blanks, a character no HTTP header can carry): it is dropped, and
   * the caller asks for one.
   */
  function takeLinkToken() {
    const entry = location.hash
      .slice(1)
      .split('&')
      .find((part) => part === 'token' || part.startsWith('token='))
    if (entry === undefined) return true
    history.replaceState(null, '', location.pathname + location.search)
    let token
    try {
      token = decodeURIComponent(entry.slice('token='.length)).trim()
    } catch {
      return false
    }
    if (!sendable(token)) return false
    sessionStorage.setItem(TOKEN_KEY, token)
    return true
  }

  /** fetch throws on a header value outside Latin-1 or with a line break; no retry changes that */
  function sendable(token) {
    if (!token) return false
    try {
      new Headers({ authorization: `Bearer ${token}` })
      return true
    } catch {
      return false
    }
  }

  function signOut(message) {
    stop()
    sessionStorage.removeItem(TOKEN_KEY)
    setState('signed-out', 'signed out')
    $('login-error').textContent = message || ''
    $('token').value = ''
    $('token').focus()
  }

  function stop() {
    clearTimeout(reconnectTimer)
    clearInterval(watchdog)
    if (abort) abort.abort()
    abort = undefined
  }

  /** A refusal no retry changes, such as an unknown name in ?types=: say why, and stop asking. */
  function fail(reason) {
    stop()
    setState('stopped', 'stopped')
    $('failure-reason').textContent = reason
  }

  /** the feed says why in JSON `error`; whatever else answered (a proxy) gets its status shown */
  async function reasonOf(res) {
    try {
      const body = await res.json()
      if (typeof body.error === 'string' && body.error) return body.error
    } catch {
      // not JSON: the status below
    }
    return `HTTP ${res.status}`
  }

  function scheduleReconnect(delayMs) {
    stop()
    setState('reconnecting', 'reconnecting…')
    failures++
    const backoff = Math.min(MAX_BACKOFF_MS, delayMs ?? retryMs * 2 ** Math.min(failures - 1, 4))
    // jitter, so a room of screens does not come back in lockstep after a restart
    reconnectTimer = setTimeout(connect, backoff * (0.75 + Math.random() * 0.5))
  }

  async function connect() {
    if (!takeLinkToken()) return signOut('The token in the link could not be read. Type it here.')
    const token = sessionStorage.getItem(TOKEN_KEY)
    if (!token) return signOut()
    stop()
    if (document.body.dataset.state !== 'reconnecting') setState('connecting', 'connecting…')
    const controller = new AbortController()
    abort = controller
    const types = new URLSearchParams(location.search).get('types')
    const headers = { authorization: `Bearer ${token}`, accept: 'text/event-stream' }
    if (lastId) headers['last-event-id'] = lastId
    let res
    try {
      res = await fetch(types ? `${FEED}?types=${encodeURIComponent(types)}` : FEED, {
        headers,
        cache: 'no-store',
        signal: controller.signal,
      })
    } catch {
      if (abort === controller) scheduleReconnect()
      return
    }
    if (res.status === 401) return signOut('That token was refused.')
    if (res.status >= 400 && res.status < 500 && !RETRIED.includes(res.status)) {
      const reason = await reasonOf(res)
      if (abort === controller) fail(reason)
      return
    }
    if (!res.ok || !res.body) {
      const wait = Number(res.headers.get('retry-after'))
      return scheduleReconnect(Number.isFinite(wait) && wait > 0 ? wait * 1000 : undefined)
    }
    lastByteAt = Date.now()
    watchdog = setInterval(() => {
      if (Date.now() - lastByteAt > SILENCE_MS) scheduleReconnect(0)
    }, 1000)
    try {
      await read(res.body.getReader())
    } catch {
      // aborted by the watchdog or dropped by the network: both reconnect below
    }
    if (abort === controller) scheduleReconnect()
  }

  async function read(reader) {
    const decoder = new TextDecoder()
    let buffer = ''
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      lastByteAt = Date.now()
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n')
      let end = buffer.indexOf('\n\n')
      while (end >= 0) {
        handleBlock(buffer.slice(0, end))
        buffer = buffer.slice(end + 2)
        end = buffer.indexOf('\n\n')
      }
    }
  }

  function handleBlock(block) {
    let event = 'message'
    const data = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const field = colon < 0 ? line : line.slice(0, colon)
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (field === 'event') event = value
      else if (field === 'data') data.push(value)
      else if (field === 'id') lastId = value
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value)
    }
    if (data.length === 0) return
    const payload = JSON.parse(data.join('\n'))
    if (event === 'snapshot') snapshot(payload)
    else if (event === 'counts' && view) counts(payload)
  }

  function snapshot(data) {
    failures = 0
    view = { day: data.day, hour: data.hour, visitors: data.visitors, visitorsNow: data.visitors_now, types: {} }
    const main = $('cards')
    main.replaceChildren()
    cards.clear()
    const order = Object.keys(LABELS)
    const rank = (type) => (order.includes(type) ? order.indexOf(type) : order.length)
    for (const type of Object.keys(data.types).sort((a, b) => rank(a) - rank(b))) {
      view.types[type] = { hours: data.types[type].hours.slice() }
      main.append(makeCard(type))
    }
    render(Object.keys(view.types))
    setState('live', 'live')
  }

  function counts(data) {
    const changed = Object.keys(data.types)
    const hourMoved = data.hour !== view.hour || data.day !== view.day
    view.day = data.day
    view.hour = data.hour
    if (data.visitors !== undefined) view.visitors = data.visitors
    if (data.visitors_now !== undefined) view.visitorsNow = data.visitors_now
    for (const type of changed) {
      const t = view.types[type]
      if (!t) continue
      for (const [h, n] of Object.entries(data.types[type].hours)) t.hours[Number(h)] = n
    }
    // a new hour moves every card's "this hour" and its highlighted bar
    render(hourMoved ? Object.keys(view.types) : changed, changed)
  }

  function makeCard(type) {
    const node = $('card').content.firstElementChild.cloneNode(true)
    node.dataset.type = type
    node.querySelector('.name').textContent = label(type)
    node.querySelector('.name').title = type
    const chart = node.querySelector('.chart')
    const bars = []
    for (let h = 0; h < 24; h++) {
      const bar = document.createElement('div')
      bar.className = 'h'
      chart.append(bar)
      bars.push(bar)
    }
    cards.set(type, {
      node,
      hour: node.querySelector('[data-field="hour"]'),
      total: node.querySelector('[data-field="total"]'),
      chart,
      bars,
    })
    return node
  }

  function render(types, flash = []) {
    $('day').textContent = view.day
    $('hour-range').textContent = `${pad(view.hour)}:00–${pad((view.hour + 1) % 24)}:00 UTC`
    $('visitors').textContent = fmt(view.visitors)
    $('visitors-label').textContent = view.visitors === 1 ? 'visitor today' : 'visitors today'
    $('visitors-now').textContent = fmt(view.visitorsNow)
    $('visitors-now-label').textContent = view.visitorsNow === 1 ? 'visitor now' : 'visitors now'
    $('updated').textContent = `updated ${new Date().toISOString().slice(11, 19)} UTC`
    for (const type of types) {
      const card = cards.get(type)
      const hours = view.types[type]?.hours
      if (!card || !hours) continue
      const total = hours.reduce((a, b) => a + b, 0)
      const max = Math.max(1, ...hours)
      card.hour.textContent = fmt(hours[view.hour])
      card.total.textContent = fmt(total)
      card.node.classList.toggle('quiet', total === 0)
      card.chart.setAttribute('aria-label', `${label(type)} per hour today, ${fmt(total)} in all`)
      card.bars.forEach((bar, h) => {
        bar.style.height = h > view.hour ? '2px' : `${Math.max(2, (hours[h] / max) * 100)}%`
        bar.classList.toggle('now', h === view.hour)
        bar.classList.toggle('future', h > view.hour)
        bar.title = `${pad(h)}:00 ${fmt(hours[h])}`
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
    const token = $('token').value.trim()
    if (!token) return
    if (!sendable(token)) {
      $('login-error').textContent = 'That token cannot be sent: it has characters an HTTP header cannot carry.'
      return
    }
    sessionStorage.setItem(TOKEN_KEY, token)
    $('login-error').textContent = ''
    connect()
  })
  $('forget').addEventListener('click', () => signOut())
  window.addEventListener('online', () => {
    if (document.body.dataset.state === 'reconnecting') connect()
  })

  connect()
})()
