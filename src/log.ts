/**
 * Structured logs: one JSON object per line on stderr, filtered by level.
 *
 * @example
 * const log = createLogger('info')
 * log.info('flush', { counters: 12, ms: 40 })
 */
export type Level = 'debug' | 'info' | 'warn' | 'error'

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void
  info(msg: string, fields?: Record<string, unknown>): void
  warn(msg: string, fields?: Record<string, unknown>): void
  error(msg: string, fields?: Record<string, unknown>): void
}

const rank: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export function createLogger(
  level: Level = 'info',
  write: (line: string) => void = (l) => process.stderr.write(l),
): Logger {
  const at = (lvl: Level) => (msg: string, fields?: Record<string, unknown>) => {
    if (rank[lvl] < rank[level]) return
    write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = createLogger('error', () => {})

/** The message of anything thrown, for a log line. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
