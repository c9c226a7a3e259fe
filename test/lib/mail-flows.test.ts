import t from 'tap'
import { emailVerificationService } from '../../lib/accounts/email-verification.ts'
import { passwordResetService } from '../../lib/accounts/password-reset.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { noContext } from '../../lib/context.ts'
import { oneTimeHash } from '../../lib/crypto/one-time.ts'
import { AuthEventEmitter } from '../../lib/events.ts'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { mailService } from '../../lib/mail/mail-service.ts'
import { bcryptHasher } from '../../lib/passwords/hasher.ts'
import type { Mailer, MailMessage } from '../../lib/ports/mailer.ts'
import { sessionService } from '../../lib/sessions/session-service.ts'

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
