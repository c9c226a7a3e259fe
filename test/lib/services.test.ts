import t from 'tap'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { noContext } from '../../lib/context.ts'
import type { AuthEventName } from '../../lib/events.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { testCore } from '../helpers/core.ts'
import { manualClock } from '../helpers/doubles.ts'

const now = (): Date => new Date('2030-01-01T00:00:00Z')

function services (storage: Storage = memoryStorage()) {
  const seen: AuthEventName[] = []
  const core = testCore({ storage, now })
  core.events.onAny(name => seen.push(name))
  return { storage, sessions: core.sessions, accounts: core.accounts, seen }
}

const newUser = { email: 'a@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: true, passwordHash: null }

t.test('a duplicate whose owner vanished in between is still a quiet duplicate', async t => {
  const storage = memoryStorage()
  // The email was taken when the insert ran and the account was deleted right after.
  const racing: Storage = { ...storage, users: { ...storage.users, create: async () => null } }
  const { accounts, seen } = services(racing)
  await accounts.register({ name: 'Alice', email: 'a@example.test', password: 'correct horse battery', confirm_password: 'correct horse battery' }, noContext)
  t.same(seen, ['register.duplicate'])
})

t.test('a refresh for a user deleted between rotation and lookup ends the session', async t => {
  const { storage, sessions } = services()
  const ghost = { ...newUser, id: 'ghost' } as const
  const user = await storage.users.create(ghost, now())
  const issued = await sessions.start(user as NonNullable<typeof user>, noContext, null)
  // Sessions normally go with their user; this one is left behind, as a concurrent delete could.
  const orphaned: Storage = { ...storage, users: { ...storage.users, findById: async () => null } }
  const { sessions: orphanSessions, seen } = services(orphaned)
  t.same(await orphanSessions.refresh(issued.refreshToken, noContext), { kind: 'invalid' })
  t.not((await storage.sessions.findById(issued.session.id))?.revokedAt, null)
  t.same(seen, ['session.revoked', 'refresh.failure'])
})

t.test('a well-formed token of a session that does not exist is merely invalid', async t => {
  const { sessions, seen } = services()
  t.same(await sessions.refresh('AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB', noContext), { kind: 'invalid' })
  t.same(seen, ['refresh.failure'])
})

t.test('ending all sessions of a user who has none ends nothing and says nothing', async t => {
  const { sessions, seen } = services()
  t.same(await sessions.revokeAll('nobody', null, 'user_request', noContext), [])
  t.same(seen, [])
})

t.test('password change: refused for a deleted or disabled user, and for an account without a password', async t => {
  const { storage, accounts, seen } = services()
  const change = { currentPassword: 'whatever it is', password: 'a brand new passphrase', confirm_password: 'a brand new passphrase' }
  await t.rejects(accounts.changePassword('nobody', 's1', change, noContext), { code: 'FST_LCAUTH_UNAUTHORIZED' })
  const social = await storage.users.create(newUser, now())
  await t.rejects(accounts.changePassword(social?.id as string, 's1', change, noContext), { code: 'FST_LCAUTH_WRONG_PASSWORD' })
  t.same(seen, ['password.change_failed'])
  await storage.users.update(social?.id as string, { disabledAt: now() }, now())
  await t.rejects(accounts.changePassword(social?.id as string, 's1', change, noContext), { code: 'FST_LCAUTH_UNAUTHORIZED' })
})

t.test('opens: the current token of a live session, or its previous one within the reuse interval; nothing else', async t => {
  const clock = manualClock()
  const core = testCore({ now: clock.now, options: { refreshReuseInterval: 5000 } })
  const seen: AuthEventName[] = []
  const user = await core.storage.users.create({ ...newUser, id: 'u1' }, clock.now())
  const issued = await core.sessions.start(user as NonNullable<typeof user>, noContext, null)
  core.events.onAny(name => seen.push(name))
  const { sessions } = core

  t.equal(await sessions.opens(issued.refreshToken), true, 'the current token')
  t.equal(await sessions.opens(null), false, 'no token')
  t.equal(await sessions.opens('not a token'), false, 'malformed')
  t.equal(await sessions.opens(`nosuchsession.${'x'.repeat(43)}`), false, 'an unknown session')
  t.equal(await sessions.opens(`${issued.session.id}.${'x'.repeat(43)}`), false, 'a secret the session never issued')
  t.same(seen, [], 'checks only: nothing emitted')

  const rotated = await sessions.refresh(issued.refreshToken, noContext)
  if (rotated.kind !== 'rotated') throw new Error('no rotation')
  t.equal(await sessions.opens(rotated.refreshToken), true, 'the new token')
  t.equal(await sessions.opens(issued.refreshToken), true, 'the previous one within the reuse interval (a two-tab race)')
  clock.advance(5001)
  t.equal(await sessions.opens(issued.refreshToken), false, 'not after it')
  t.equal(await sessions.opens(rotated.refreshToken), true)

  await sessions.revokeAll(user?.id ?? '', null, 'user_request', noContext)
  t.equal(await sessions.opens(rotated.refreshToken), false, 'a session that has ended')
})
