import t from 'tap'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { noContext } from '../../lib/context.ts'
import { createCore } from '../../lib/core.ts'
import { resolveOperatorOptions } from '../../lib/options/resolve.ts'
import type { BanStore } from '../../lib/ports/ban-store.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { REFRESH_SECRET, SECRET, SERVER } from '../helpers/app.ts'
import { testCore } from '../helpers/core.ts'

const quiet = { info: () => {}, warn: () => {}, error: () => {} }

async function userIn (storage: Storage) {
  return await storage.users.create({ email: 'alice@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: true, passwordHash: null }, new Date()) as NonNullable<Awaited<ReturnType<Storage['users']['create']>>>
}

t.test('an operator\'s core (no secrets) ends sessions but issues, rotates and accepts no token', async t => {
  const { config } = resolveOperatorOptions({ bcryptRounds: 4 })
  t.equal(config.jwtSecret, null)
  t.equal(config.jwtRefreshSecret, null)
  t.equal(config.domainServer, 'http://localhost')
  const storage = memoryStorage()
  const core = createCore({ config, storage, bans: memoryBanStore(), log: quiet })
  t.teardown(core.close)
  const user = await userIn(storage)
  await t.rejects(core.sessions.start(user, noContext, null), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /jwtRefreshSecret is required/ })

  // A token the server issued means nothing here.
  const server = testCore({ storage })
  const issued = await server.sessions.start(user, noContext, null)
  const token = server.accessTokens.issue(user, issued.session.id, new Date())
  t.ok(server.accessTokens.verify(token), 'the server accepts its own token')
  t.equal(core.accessTokens.verify(token), null, 'the operator\'s core accepts none')

  const ended: string[] = []
  core.events.on('session.revoked', event => { ended.push(event.sessionId) })
  t.same(await core.sessions.revokeAll(user.id, null, 'ban', noContext), [issued.session.id])
  t.same(ended, [issued.session.id])
  t.ok(core.mirror.isRevoked(issued.session.id))
  // Subjects in events are keyed (per process here), never the address itself.
  t.not(core.subjectOf('alice@example.test'), 'alice@example.test')
  t.not(core.subjectOf('alice@example.test'), server.subjectOf('alice@example.test'))
})

t.test('an operator\'s core with the server\'s secrets keys subjects like the server', async t => {
  const { config } = resolveOperatorOptions({ jwtSecret: SECRET, jwtRefreshSecret: REFRESH_SECRET, domainServer: `${SERVER}/` })
  t.equal(config.domainServer, SERVER)
  const core = createCore({ config, storage: memoryStorage(), bans: memoryBanStore(), log: quiet })
  t.teardown(core.close)
  t.equal(core.subjectOf('Alice@Example.test'), testCore().subjectOf('alice@example.test'))
  t.throws(() => resolveOperatorOptions({ jwtSecret: '' }), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /jwtSecret is required/ })
  t.throws(() => resolveOperatorOptions({ domainServer: 'nope' }), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /domainServer/ })
})

t.test('close() closes exactly the parts handed over, the storage last, once', async t => {
  const closed: string[] = []
  const tracked = <T extends { close(): Promise<void> }>(name: string, part: T): T => ({ ...part, close: async () => { closed.push(name); await part.close() } })
  const storage = tracked('storage', memoryStorage())
  const bans = tracked('bans', memoryBanStore()) as BanStore
  const fallback = tracked('fallback', memoryBanStore()) as BanStore
  const { config } = resolveOperatorOptions({})
  const owned = createCore({ config, storage, bans: { ...bans, kind: 'shared' }, banFallback: fallback, log: quiet, owns: { storage: true, bans: true } })
  await Promise.all([owned.close(), owned.close()])
  t.same(closed, ['fallback', 'bans', 'storage'], 'the shared store closes its fallback, then itself; the storage last')

  closed.length = 0
  const lent = createCore({ config, storage, bans, banFallback: fallback, log: quiet })
  await lent.close()
  t.same(closed, ['fallback'], 'parts the caller keeps stay open; the fallback is always the core\'s')
})
