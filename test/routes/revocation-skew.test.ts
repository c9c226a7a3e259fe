import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import t, { type Test } from 'tap'
import { memoryStorage } from '../../index.ts'
import { postgresStorage } from '../../lib/adapters/sql/postgres.ts'
import { sqliteStorage } from '../../lib/adapters/sql/sqlite.ts'
import { noContext } from '../../lib/context.ts'
import type { Storage, User } from '../../lib/ports/storage.ts'
import { build, registerAndLogin } from '../helpers/app.ts'
import { testCore } from '../helpers/core.ts'
import { withService } from '../helpers/services.ts'

/**
 * A revocation made by a process whose clock lags the server's — the CLI on a laptop 6 s behind —
 * stamps `revokedAt` 6 s in the server's past. The server's mirror must still refuse the session's
 * access token within a poll (DESIGN §5: within a second), not when the token expires.
 */
const LAG_MS = 6000
const PROPAGATION_LIMIT_MS = 1000
const GIVE_UP_MS = 3000

async function disabledByALaggingOperator (t: Test, serverStorage: Storage, operatorStorage: Storage): Promise<void> {
  const { app } = await build(t, { storage: serverStorage })
  const { token, response } = await registerAndLogin(app)
  const protectedRoute = async (): Promise<number> => (await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })).statusCode
  t.equal(await protectedRoute(), 200, 'control: the token works')
  // Let the server's mirror poll a few times first, so its look-back starts after the lagging stamp.
  await new Promise(resolve => setTimeout(resolve, 1200))

  const operator = testCore({ storage: operatorStorage, now: () => new Date(Date.now() - LAG_MS) })
  t.teardown(() => operator.close())
  const user = await operatorStorage.users.findById(response.json<{ user: { id: string } }>().user.id) as User
  await operator.admin.setDisabled(user, true, noContext)
  const since = performance.now()
  t.same(await operatorStorage.sessions.listLiveByUser(user.id, new Date()), [], 'the session ended in storage')

  let delay: number | null = null
  while (performance.now() - since < GIVE_UP_MS) {
    if (await protectedRoute() === 401) {
      delay = performance.now() - since
      break
    }
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  t.comment(`a revocation stamped ${LAG_MS} ms in the past reached the server after ${delay === null ? `more than ${GIVE_UP_MS}` : delay.toFixed(0)} ms`)
  t.ok(delay !== null && delay <= PROPAGATION_LIMIT_MS, `the server refuses the token within ${PROPAGATION_LIMIT_MS} ms`)
}

t.test('memory: one storage, an operator core whose clock is 6 s behind disables the user', async t => {
  const storage = memoryStorage()
  await disabledByALaggingOperator(t, storage, storage)
})

t.test('SQLite: the operator opens the server\'s file with a clock 6 s behind', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'lcauth-skew-'))
  const filename = join(dir, 'auth.db')
  const [server, operator] = [sqliteStorage({ filename }), sqliteStorage({ filename })]
  t.teardown(async () => { await server.close(); await operator.close(); rmSync(dir, { recursive: true, force: true }) })
  await server.init()
  await operator.init()
  await disabledByALaggingOperator(t, server, operator)
})

withService(t, 'DATABASE_URL', 'postgres', url => {
  t.test('PostgreSQL: the operator connects to the server\'s database with a clock 6 s behind', async t => {
    const schema = `lcauth_t_${randomBytes(6).toString('hex')}`
    const [server, operator] = [postgresStorage({ connectionString: url, schema }), postgresStorage({ connectionString: url, schema })]
    t.teardown(async () => {
      await server.close()
      await operator.close()
      const admin = new pg.Client({ connectionString: url })
      await admin.connect()
      await admin.query(`drop schema if exists "${schema}" cascade`)
      await admin.end()
    })
    await server.init()
    await operator.init()
    await disabledByALaggingOperator(t, server, operator)
  })
}, { partOfFile: true })
