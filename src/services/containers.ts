/**
 * Redis and Postgres in containers through testcontainers, when a Docker engine answers.
 */
import type { StartedPostgres, StartedServices } from './provision.ts'

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

async function redisContainer() {
  const { GenericContainer, Wait } = await import('testcontainers')
  return new GenericContainer('redis:7-alpine')
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
    .start()
}

async function postgresContainer() {
  const { GenericContainer, Wait } = await import('testcontainers')
  return (
    new GenericContainer('postgres:16-alpine')
      .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
      .withExposedPorts(5432)
      // initdb starts and stops a temporary server first; the second message is the real one.
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
      .start()
  )
}

type Started = Awaited<ReturnType<typeof postgresContainer>>

const postgresUrl = (postgres: Started) =>
  `postgres://postgres@${postgres.getHost()}:${postgres.getMappedPort(5432)}/postgres`

/** Postgres alone, for a command that needs no Redis. */
export async function startPostgresContainer(): Promise<StartedPostgres> {
  const postgres = await postgresContainer()
  return {
    source: 'containers',
    databaseUrl: postgresUrl(postgres),
    async stop() {
      await postgres.stop()
    },
  }
}

export async function startContainers(): Promise<StartedServices> {
  const [redis, postgres] = await Promise.all([redisContainer(), postgresContainer()])
  return {
    source: 'containers',
    redisUrl: `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`,
    databaseUrl: postgresUrl(postgres),
    async stop() {
      await Promise.all([redis.stop(), postgres.stop()])
    },
  }
}
