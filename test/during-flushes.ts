/**
 * Sends and reads while flushes run, to check that reads stay exact through them: rounds of
 * `send` (each answers how many events it had acknowledged), a reader calling `read` in a loop and
 * a flusher flushing in a loop, until there have been at least `rounds` rounds, `reads` reads and
 * `flushes` flushes that wrote something, however slowly the machine runs them (a bound of
 * `maxRounds` keeps a broken flusher from looping forever). Each read comes with the events
 * acknowledged before it started and after it ended.
 *
 * @example
 * const { seen, sent } = await duringFlushes({ flush, read, send, rounds: 30, reads: 6, flushes: 2 })
 */
export interface DuringFlushes<T> {
  flush: () => Promise<number>
  read: () => Promise<T>
  send: (round: number) => Promise<number>
  rounds: number
  reads: number
  flushes: number
  maxRounds?: number
  /** between two rounds */
  pauseMs?: number
  /** between two flushes (none by default) */
  flushPauseMs?: () => number
}

export async function duringFlushes<T>(o: DuringFlushes<T>) {
  let sent = 0
  let stop = false
  const seen: { before: number; answer: T; after: number }[] = []
  const reader = (async () => {
    while (!stop) {
      const before = sent
      const answer = await o.read()
      seen.push({ before, answer, after: sent })
    }
  })()
  let flushes = 0
  const flusher = (async () => {
    while (!stop) {
      if ((await o.flush()) > 0) flushes++
      if (o.flushPauseMs) await Bun.sleep(o.flushPauseMs())
    }
  })()
  let rounds = 0
  try {
    while (rounds < o.rounds || seen.length < o.reads || flushes < o.flushes) {
      if (rounds >= (o.maxRounds ?? 3000)) {
        throw new Error(`after ${rounds} rounds: ${seen.length} reads, ${flushes} flushes`)
      }
      sent += await o.send(rounds)
      rounds++
      await Bun.sleep(o.pauseMs ?? 1)
    }
  } finally {
    stop = true
    await Promise.all([reader, flusher])
  }
  return { seen, sent, rounds }
}
