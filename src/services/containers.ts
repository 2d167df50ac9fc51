/**
 * Redis and Postgres in containers through testcontainers, when a Docker engine answers.
 */
import type { StartedServices } from './provision.ts'

/** True when testcontainers finds a working container runtime. */
export async function dockerAvailable(): Promise<boolean> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers')
    await getContainerRuntimeClient()
    return true
  } catch {
    return false
  }
}

export async function startContainers(): Promise<StartedServices> {
  const { GenericContainer, Wait } = await import('testcontainers')
  const [redis, postgres] = await Promise.all([
    new GenericContainer('redis:7-alpine')
      .withExposedPorts(6379)
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start(),
    new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      // initdb starts and stops a temporary server first; the second message is the real one.
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start(),
  ])
  return {
    source: 'containers',
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    databaseUrl: `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`,
    async stop() {
      await Promise.all([redis.stop(), postgres.stop()])
    },
  }
}
