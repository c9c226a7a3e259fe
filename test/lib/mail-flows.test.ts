import t, { type Test } from 'tap'
import { emailVerificationService } from '../../lib/accounts/email-verification.ts'
import { passwordResetService } from '../../lib/accounts/password-reset.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { noContext } from '../../lib/context.ts'
import { oneTimeHash } from '../../lib/crypto/one-time.ts'
import { AuthEventEmitter, type AuthEvents } from '../../lib/events.ts'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { memoryMailer } from '../../lib/adapters/memory/mailer.ts'
import { mailService } from '../../lib/mail/mail-service.ts'
import { bcryptHasher } from '../../lib/passwords/hasher.ts'
import type { Mailer, MailMessage } from '../../lib/ports/mailer.ts'
import type { Identity, Storage, User } from '../../lib/ports/storage.ts'
import { sessionService } from '../../lib/sessions/session-service.ts'
import { EventLog } from '../helpers/app.ts'
import { linkIdentities } from '../helpers/identities.ts'
import { recordingStorage } from '../helpers/recording.ts'

const now = (): Date => new Date('2030-01-01T00:00:00Z')
const quiet = { warn: () => {}, error: () => {} }
// A transport that refuses everything, as an SMTP server that is down does; it keeps what it was given.
const refusing = (): Mailer & { tried: MailMessage[] } => {
  const tried: MailMessage[] = []
  return { tried, send: async (m) => { tried.push(m); throw new Error('connection refused') }, close: async () => {} }
}

t.test('a verification mail that cannot be sent leaves no usable token behind', async t => {
  const storage = memoryStorage()
  const mailer = refusing()
  const mail = mailService({ mailer, appTitle: 'Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now, log: quiet, store: memoryBanStore(), subjectOf: String })
  const verification = emailVerificationService({ storage, mail, events: new AuthEventEmitter(() => {}), now, policy: { expiryMs: 86_400_000, domainClient: 'https://chat.example.test', subjectOf: String } })
  const user = await storage.users.create({ email: 'a@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: false, passwordHash: null }, now())
  await verification.send(user as NonNullable<typeof user>, noContext)
  await mail.idle()
  const token = new URL(/https:\S+/.exec(mailer.tried[0]?.text ?? '')?.[0] as string).searchParams.get('token') as string
  t.equal(await storage.oneTimeTokens.consume('email_verification', oneTimeHash(token), now()), null, 'invalidated after the failed send')
})

t.test('a reset request with something that is not an email answers like any other', async t => {
  const storage = memoryStorage()
  const events = new AuthEventEmitter(() => {})
  const bans = memoryBanStore()
  const hits: string[] = []
  const mail = mailService({ mailer: refusing(), appTitle: 'Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now, log: quiet, store: { hit: async (key, windowMs, at) => { hits.push(key); return bans.hit(key, windowMs, at) } }, subjectOf: String })
  const sessions = sessionService({ storage, now, events, onRevoked: () => {}, policy: { maxPerUser: 20, refreshTokenExpiry: 1e6, sessionMaxAge: 1e7, refreshReuseInterval: 1e4, refreshKey: 'k' } })
  const reset = passwordResetService({ storage, hasher: bcryptHasher({ rounds: 4 }), sessions, mail, events, now, policy: { mode: 'mail', acceptLinks: true, expiryMs: 900_000, domainClient: 'https://chat.example.test', minPasswordLength: 8, appTitle: 'Chat', subjectOf: String } })
  t.same(await reset.request('not an email at all', noContext), {})
  const verification = emailVerificationService({ storage, mail, events, now, policy: { expiryMs: 86_400_000, domainClient: 'https://chat.example.test', subjectOf: String } })
  await verification.resend('not an email at all', noContext)
  await mail.idle()
  t.same(hits, [], 'nothing was reserved or sent for it')
})

const context = { ip: '203.0.113.9', userAgent: 'mail-flows/1.0', requestId: 'req-1' }
const PASSWORD = 'a brand new passphrase'

/** An unverified local user and a neighbour, each with `linkIdentities`'s three identities. */
async function linkedUser (storage: Storage): Promise<{ user: User, kept: Identity, neighbours: Identity[] }> {
  const create = async (email: string): Promise<User> => await storage.users.create({ email, name: 'Someone', username: null, provider: 'local', emailVerified: false, passwordHash: null }, now()) as User
  const [user, neighbour] = [await create('a@example.test'), await create('b@example.test')]
  const { kept } = await linkIdentities(storage, user.id, user.email, now())
  const theirs = await linkIdentities(storage, neighbour.id, neighbour.email, now())
  const neighbours = [theirs.kept, ...theirs.unverified]
  return { user, kept, neighbours }
}

/** What proving the mailbox must have done to `linkedUser`'s identities, and the events it must have emitted. */
async function assertDropped (t: Test, storage: Storage, events: EventLog, linked: Awaited<ReturnType<typeof linkedUser>>, reason: 'password_reset' | 'email_verified'): Promise<void> {
  t.same(await storage.identities.listByUser(linked.user.id), [linked.kept], 'the identity with a verified provider email stays')
  t.same(await storage.identities.listByUser(linked.neighbours[0]?.userId ?? ''), linked.neighbours, 'another user\'s identities stay, unverified ones too')
  const unlinked = (provider: string): AuthEvents['oauth.unlinked'] => ({ ...context, at: now(), userId: linked.user.id, provider, reason })
  t.same(events.take('oauth.unlinked'), [unlinked('github'), unlinked('discord')], 'one event per identity removed, oldest first')
}

t.test('a completed reset records the source, unlinks identities with an unverified provider email before ending sessions', async t => {
  const log: string[] = []
  const storage = recordingStorage(memoryStorage(), log)
  const events = new EventLog()
  const emitter = new AuthEventEmitter(() => {})
  emitter.onAny((name, payload) => events.all.push({ name, payload }))
  const sessions = sessionService({ storage, now, events: emitter, onRevoked: () => {}, policy: { maxPerUser: 20, refreshTokenExpiry: 1e6, sessionMaxAge: 1e7, refreshReuseInterval: 1e4, refreshKey: 'k' } })
  const reset = passwordResetService({ storage, hasher: bcryptHasher({ rounds: 4 }), sessions, mail: null, events: emitter, now, policy: { mode: 'disabled', acceptLinks: true, expiryMs: 900_000, domainClient: 'https://chat.example.test', minPasswordLength: 8, appTitle: 'Chat', subjectOf: String } })
  const linked = await linkedUser(storage)
  const token = new URL(await reset.createLink(linked.user)).searchParams.get('token') as string
  log.length = 0

  await reset.reset({ token, password: PASSWORD, confirm_password: PASSWORD, userId: linked.user.id }, context)
  t.match(await storage.users.findById(linked.user.id), { emailVerified: true, emailVerifiedBy: 'reset' })
  await assertDropped(t, storage, events, linked, 'password_reset')
  t.ok(log.indexOf('identities.deleteUnverifiedForUser') < log.indexOf('sessions.revokeAllForUser'), 'no identity signs in after the sessions end')
})

t.test('a verification records the source and unlinks identities with an unverified provider email', async t => {
  const storage = memoryStorage()
  const events = new EventLog()
  const emitter = new AuthEventEmitter(() => {})
  emitter.onAny((name, payload) => events.all.push({ name, payload }))
  const mail = mailService({ mailer: memoryMailer(), appTitle: 'Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now, log: quiet, store: memoryBanStore(), subjectOf: String })
  const verification = emailVerificationService({ storage, mail, events: emitter, now, policy: { expiryMs: 86_400_000, domainClient: 'https://chat.example.test', subjectOf: String } })
  const linked = await linkedUser(storage)
  await storage.oneTimeTokens.create({ purpose: 'email_verification', tokenHash: oneTimeHash('the-token'), userId: linked.user.id, email: linked.user.email, createdAt: now(), expiresAt: new Date(now().getTime() + 60_000) })

  await verification.verify(linked.user.email, 'the-token', context)
  t.match(await storage.users.findById(linked.user.id), { emailVerified: true, emailVerifiedBy: 'mail' })
  await assertDropped(t, storage, events, linked, 'email_verified')
  t.same(events.names(), ['email.verified'])
})
