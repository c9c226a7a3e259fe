import t from 'tap'
import { accountService } from '../../lib/accounts/account-service.ts'
import { adminService } from '../../lib/accounts/admin-service.ts'
import { subjectHasher } from '../../lib/accounts/subject.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { noContext } from '../../lib/context.ts'
import { AuthEventEmitter, type AuthEventName } from '../../lib/events.ts'
import { bcryptHasher } from '../../lib/passwords/hasher.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { sessionService } from '../../lib/sessions/session-service.ts'

const now = (): Date => new Date('2030-01-01T00:00:00Z')

function services (storage: Storage = memoryStorage()) {
  const seen: AuthEventName[] = []
  const events = new AuthEventEmitter(() => {})
  events.onAny(name => seen.push(name))
  const sessions = sessionService({
    storage,
    now,
    events,
    onRevoked: () => {},
    policy: { maxPerUser: 20, refreshTokenExpiry: 86_400_000, sessionMaxAge: 30 * 86_400_000, refreshReuseInterval: 10_000, refreshKey: 'k'.repeat(32) }
  })
  const hasher = bcryptHasher({ rounds: 4 })
  const admin = adminService({ storage, hasher, events, now, minPasswordLength: 8, onRevoked: () => {} })
  const accounts = accountService({
    storage,
    hasher,
    sessions,
    admin,
    events,
    now,
    mail: null,
    verification: null,
    policy: { requireVerifiedEmail: false, domainClient: 'http://localhost', allowRegistration: true, allowAccountDeletion: true, allowEmailLogin: true, allowedEmailDomains: null, minPasswordLength: 8, subjectOf: subjectHasher(Buffer.alloc(32)) }
  })
  return { storage, sessions, accounts, seen }
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
