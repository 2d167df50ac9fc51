/**
 * Builds `public/t.js` from `src/tracker/index.ts`: one minified IIFE (Biome skips the generated
 * file, see biome.json). `bun run build:tracker` writes it; tests call
 * {@link buildTracker} to check the committed file is not stale.
 *
 * @example
 * const js = await buildTracker() // the exact text `public/t.js` must hold
 */
import { join } from 'node:path'
import { TRACKER_FILE } from '../routes/tracker.ts'

const SOURCE = join(import.meta.dir, 'index.ts')

export async function buildTracker(): Promise<string> {
  const result = await Bun.build({
    entrypoints: [SOURCE],
    target: 'browser',
    format: 'iife',
    minify: true,
  })
  if (!result.success) throw new AggregateError(result.logs, 'tracker build failed')
  const [output] = result.outputs
  if (!output) throw new Error('tracker build produced no output')
  return output.text()
}

if (import.meta.main) {
  const js = await buildTracker()
  await Bun.write(TRACKER_FILE, js)
  // at the level GET /t.js is compressed with (routes/tracker.ts), so this is the size served
  const gzipped = Bun.gzipSync(new TextEncoder().encode(js), { level: 9 }).byteLength
  console.log(`public/t.js: ${js.length} bytes, ${gzipped} gzipped as served`)
}
