/**
 * What any endpoint that reads its body pays here: a bare Bun.serve that reads the POST body
 * and answers 202, nothing else. Between it and the ceiling is Bun's own cost of reading a body.
 */
const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  async fetch(request) {
    await request.text()
    return new Response(null, { status: 202 })
  },
})
process.on('SIGTERM', () => {
  server.stop(true)
  process.exit(0)
})

// a module, so its names stay its own
export {}
