/**
 * The physical ceiling for any Bun endpoint on this machine: a bare Bun.serve answering 204 to
 * everything, under the same wrk load as the beacon.
 */
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  fetch: () => new Response(null, { status: 204 }),
})
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})

// a module, so its names stay its own
export {}
