// Loaded before every test run (bunfig.toml). Services start lazily on first use; this makes
// sure whatever was started is removed when the run ends.
import { afterAll } from 'bun:test'
import { teardown } from './services.ts'

afterAll(teardown, 60_000)
