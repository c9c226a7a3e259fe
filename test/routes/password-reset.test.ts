import { createHash } from 'node:crypto'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import authPlugin, { memoryStorage, type AuthOptions, type NewOneTimeToken, type Storage } from '../../index.ts'
import type { SmtpMailerOptions } from '../../lib/mail/smtp-options.ts'
import { renderMail } from '../../lib/mail/templates.ts'
import { alice, baseOptions, build, EventLog, login, refreshCookieOf, register } from '../helpers/app.ts'
import { linkIdentities } from '../helpers/identities.ts'
import { linkIn, mailsOf, startSmtp, type ReceivedMail, type SmtpServerOptions, type TestSmtpServer } from '../helpers/smtp.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }

const CLIENT = 'https://chat.example.test'
const FROM = 'noreply@example.test'
const NEW_PASSWORD = 'a brand new long passphrase'
const bob = { ...alice, name: 'Bob Builder', email: 'bob@example.test' }

const RESET_MAIL = /^Reset your /
const DONE_MAIL = /password was reset$/
const CHANGED_MAIL = /password was changed$/
const VERIFY_MAIL = /^Verify your email/

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()
const headerNames = (response: LightMyRequestResponse): string[] => Object.keys(response.headers).sort()
const sha256 = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex')

async function smtpServer (t: Test, options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const smtp = await startSmtp(options)
  t.teardown(() => smtp.close())
  return smtp
}

const smtpSettings = (smtp: TestSmtpServer): SmtpMailerOptions => ({ host: '127.0.0.1', port: smtp.port, from: FROM, timeoutMs: 3000 })

/** An app whose mailer is the real SMTP server on loopback. */
async function mailApp (t: Test, options: Partial<AuthOptions> = {}): Promise<{ app: FastifyInstance, events: EventLog, smtp: TestSmtpServer }> {
  const smtp = await smtpServer(t)
  const built = await build(t, { domainClient: CLIENT, mailer: smtpSettings(smtp), ...options })
  return { ...built, smtp }
}

/** Waits until every queued mail reached the server (or failed). */
async function settle (app: FastifyInstance): Promise<void> {
  await app.lcauth.mail?.idle()
}



interface ResetLink { url: URL, token: string, userId: string }

function resetLinkOf (url: URL): ResetLink {
  return { url, token: url.searchParams.get('token') ?? '', userId: url.searchParams.get('userId') ?? '' }
}

/** The link of the newest reset mail to `to`. */
async function lastResetLink (app: FastifyInstance, smtp: TestSmtpServer, to = alice.email): Promise<ResetLink> {
  await settle(app)
  const mail = mailsOf(smtp, RESET_MAIL, to).at(-1)
  if (mail === undefined) throw new Error(`no reset mail to ${to}`)
  return resetLinkOf(linkIn(mail, '/reset-password'))
}

function requestReset (app: FastifyInstance, email = alice.email, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email }, headers })
}

function resetPassword (app: FastifyInstance, token: string, password = NEW_PASSWORD, extra: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/resetPassword', payload: { token, password, confirm_password: password, ...extra } })
}

function verify (app: FastifyInstance, email: string, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/user/verify', payload: { email, token } })
}

function refresh (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { refreshToken: token } })
}

function protectedRoute (app: FastifyInstance, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${token}` } })
}

async function storedUser (app: FastifyInstance, email = alice.email): Promise<{ id: string, passwordHash: string, emailVerified: boolean, emailVerifiedBy: string | null }> {
  const user = await app.lcauth.storage.users.findByEmail(email)
  if (user === null) throw new Error(`no user ${email}`)
  return { id: user.id, passwordHash: user.passwordHash ?? '', emailVerified: user.emailVerified, emailVerifiedBy: user.emailVerifiedBy }
}

async function session (app: FastifyInstance, email = alice.email, password = alice.password): Promise<{ token: string, refresh: string }> {
  const response = await login(app, email, password)
  if (response.statusCode !== 200) throw new Error(`login failed: ${response.body}`)
  return { token: response.json<{ token: string }>().token, refresh: refreshCookieOf(response) as string }
}

/** A clock the test moves. */
function movableClock (): { now: () => Date, advance: (ms: number) => void } {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), advance: ms => { offset += ms } }
}

t.test('RST-01: no reset without a mailer, and no link in a response outside the unsafe mode', async t => {
  t.test('no mailer: users cannot ask for a link (403), the config says reset is off, only an operator link works', async t => {
    const { app, events } = await build(t)
    t.equal((await register(app)).statusCode, 200)
    const request = await requestReset(app)
    t.equal(request.statusCode, 403)
    t.equal(errorOf(request).code, 'FST_LCAUTH_PASSWORD_RESET_DISABLED')
    t.notMatch(request.body, /reset-password|token/i, 'no link or token in the refusal')
    const unknown = await requestReset(app, 'nobody@example.test')
    t.equal(unknown.body, request.body, 'the same refusal for an unknown email')
    const config = await app.inject({ url: '/api/auth/config' })
    t.equal(config.json<{ passwordResetEnabled: boolean }>().passwordResetEnabled, false)
    t.same(events.take('password.reset_requested'), [], 'nothing was requested')

    // resetPassword stays open for links an operator made with `librechat-auth reset-link` (CLI-03,
    // docs/email.md), so a made-up token is a 400, never a reset.
    const made = await resetPassword(app, 'x'.repeat(43))
    t.equal(made.statusCode, 400)
    t.equal(errorOf(made).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
    const user = await app.lcauth.storage.users.findByEmail(alice.email)
    const operator = resetLinkOf(new URL(await app.lcauth.passwordReset.createLink(user as NonNullable<typeof user>)))
    t.equal((await resetPassword(app, operator.token, NEW_PASSWORD, { userId: operator.userId })).statusCode, 200, 'the operator link works')
    t.equal((await login(app, alice.email, NEW_PASSWORD)).statusCode, 200)
  })

  t.test('allowPasswordReset: false turns reset off even with a mailer', async t => {
    const { app, smtp } = await mailApp(t, { allowPasswordReset: false })
    t.equal((await register(app)).statusCode, 200)
    const request = await requestReset(app)
    t.equal(request.statusCode, 403)
    t.equal(errorOf(request).code, 'FST_LCAUTH_PASSWORD_RESET_DISABLED')
    const reset = await resetPassword(app, 'x'.repeat(43))
    t.equal(reset.statusCode, 403)
    t.equal(errorOf(reset).code, 'FST_LCAUTH_PASSWORD_RESET_DISABLED')
    const user = await app.lcauth.storage.users.findByEmail(alice.email)
    const operator = resetLinkOf(new URL(await app.lcauth.passwordReset.createLink(user as NonNullable<typeof user>)))
    const refused = await resetPassword(app, operator.token)
    t.equal(refused.statusCode, 403, 'not even an operator link')
    t.equal(errorOf(refused).code, 'FST_LCAUTH_PASSWORD_RESET_DISABLED')
    t.equal((await app.inject({ url: '/api/auth/config' })).json<{ passwordResetEnabled: boolean }>().passwordResetEnabled, false)
    await settle(app)
    t.equal(mailsOf(smtp, RESET_MAIL).length, 0, 'no reset mail')
  })

  t.test('allowPasswordReset: false also beats the unsafe flag', async t => {
    const { app } = await build(t, { allowPasswordReset: false, allowUnsafePasswordReset: true })
    t.equal((await register(app)).statusCode, 200)
    const request = await requestReset(app)
    t.equal(request.statusCode, 403)
    t.equal(errorOf(request).code, 'FST_LCAUTH_PASSWORD_RESET_DISABLED')
  })

  t.test('with a mailer the config says reset is on', async t => {
    const { app } = await mailApp(t)
    t.equal((await app.inject({ url: '/api/auth/config' })).json<{ passwordResetEnabled: boolean }>().passwordResetEnabled, true)
  })

  t.test('allowUnsafePasswordReset without a mailer: a link for a known email only, and it works', async t => {
    const { app, events } = await build(t, { allowUnsafePasswordReset: true })
    t.equal((await register(app)).statusCode, 200)
    const known = await requestReset(app)
    t.equal(known.statusCode, 200)
    const body = known.json<{ message: string, link: string }>()
    t.same(Object.keys(body).sort(), ['link', 'message'])
    const unknown = await requestReset(app, 'nobody@example.test')
    t.equal(unknown.statusCode, 200)
    t.same(unknown.json(), { message: body.message }, 'an unknown email gets the message only')

    const link = resetLinkOf(new URL(body.link))
    t.equal(link.url.pathname, '/reset-password')
    t.equal(link.userId, (await storedUser(app)).id)
    t.equal((await resetPassword(app, link.token, NEW_PASSWORD, { userId: link.userId })).statusCode, 200)
    t.equal((await login(app, alice.email, NEW_PASSWORD)).statusCode, 200, 'the new password works')
    t.equal((await login(app)).statusCode, 401, 'the old one does not')
    t.equal(events.take('password.reset_completed').length, 1)
  })

  t.test('the new password may not contain the account\'s details, with or without userId in the submission', async t => {
    const { app } = await build(t, { allowUnsafePasswordReset: true })
    t.equal((await register(app)).statusCode, 200)
    const linkOf = async () => resetLinkOf(new URL((await requestReset(app)).json<{ link: string }>().link))
    const personal = 'liddell forgot it again'

    const first = await linkOf()
    const named = await resetPassword(app, first.token, personal, { userId: first.userId })
    t.equal(named.statusCode, 400)
    t.match(named.json(), { code: 'FST_LCAUTH_PASSWORD_POLICY', message: /must not contain your name/ })
    t.notMatch(named.body, /liddell forgot/i, 'the password is not echoed')
    t.equal((await resetPassword(app, first.token, NEW_PASSWORD, { userId: first.userId })).statusCode, 200, 'with userId the link was not spent')

    const second = await linkOf()
    const anonymous = await resetPassword(app, second.token, personal)
    t.equal(anonymous.statusCode, 400)
    t.match(anonymous.json(), { code: 'FST_LCAUTH_PASSWORD_POLICY', message: /must not contain your name.*ask for a new one/ })
    t.equal((await resetPassword(app, second.token, 'violet elephants juggle quartz')).statusCode, 400, 'without userId the account is known only once the link is spent')
  })

  t.test('allowUnsafePasswordReset is refused in production, naming the option', async t => {
    const production = { ...baseOptions, production: true, bcryptRounds: 10 }
    const refused = Fastify({ logger: false })
    t.teardown(() => refused.close().catch(() => {}))
    refused.register(authPlugin, { ...production, allowUnsafePasswordReset: true })
    await t.rejects(async () => { await refused.ready() }, { code: 'FST_LCAUTH_CONFIG_INVALID', message: /allowUnsafePasswordReset/ })

    // Control: the same production options without the flag start.
    const accepted = Fastify({ logger: false })
    t.teardown(() => accepted.close())
    await accepted.register(authPlugin, production)
    await t.resolves(async () => { await accepted.ready() })
  })

  t.test('with a mailer configured the unsafe flag never returns a link', async t => {
    const { app, smtp } = await mailApp(t, { allowUnsafePasswordReset: true })
    t.equal((await register(app)).statusCode, 200)
    const known = await requestReset(app)
    t.equal(known.statusCode, 200)
    t.same(Object.keys(known.json()), ['message'])
    t.notMatch(known.body, /reset-password|token/)
    const link = await lastResetLink(app, smtp)
    t.equal(link.token.length >= 43, true, 'the link went out by mail instead')
  })
})

t.test('RST-02: known and unknown emails get the same answer; only the known one gets a mail', async t => {
  const { app, events, smtp } = await mailApp(t, { mailPerRecipient: { max: 2, windowMs: 60_000 } })
  t.equal((await register(app)).statusCode, 200)
  await settle(app)
  const before = smtp.messages.length

  const known = await requestReset(app)
  const unknown = await requestReset(app, 'nobody@example.test')
  t.equal(known.statusCode, 200)
  t.equal(unknown.statusCode, 200)
  t.equal(known.body, unknown.body, 'identical body')
  t.same(headerNames(known), headerNames(unknown), 'identical header names')
  t.equal(known.headers['content-length'], unknown.headers['content-length'])
  t.notOk(known.headers['set-cookie'])

  await settle(app)
  t.equal(mailsOf(smtp, RESET_MAIL, alice.email).length, 1, 'exactly one mail for the known email')
  t.equal(smtp.messages.length, before + 1, 'and nothing for the unknown one')
  t.same(smtp.messages.flatMap(m => m.envelope.to).filter(a => a === 'nobody@example.test'), [])

  const requested = events.take('password.reset_requested')
  t.equal(requested.length, 2)
  t.equal(requested[0]?.userId, (await storedUser(app)).id)
  t.equal(requested[1]?.userId, null)
  t.not(requested[0]?.subject, requested[1]?.subject)

  // The limit is two per minute: the second mail goes out, the third and fourth do not, and nothing shows.
  for (let i = 0; i < 3; i++) {
    const again = await requestReset(app)
    t.equal(again.statusCode, 200)
    t.equal(again.body, known.body, 'the same 200 after the limit')
    t.same(headerNames(again), headerNames(known))
  }
  await settle(app)
  t.equal(mailsOf(smtp, RESET_MAIL, alice.email).length, 2, 'no mail past the per-recipient limit')
})

t.test('RST-02: a throttled request changes nothing: the last mailed link still works', async t => {
  const { app, smtp } = await mailApp(t, { mailPerRecipient: { max: 2, windowMs: 60_000 } })
  t.equal((await register(app)).statusCode, 200)
  await requestReset(app)
  await requestReset(app)
  const mailed = await lastResetLink(app, smtp)
  t.equal(mailsOf(smtp, RESET_MAIL, alice.email).length, 2)
  t.equal((await requestReset(app)).statusCode, 200, 'throttled, silently')
  await settle(app)
  t.equal(mailsOf(smtp, RESET_MAIL, alice.email).length, 2, 'no third mail')
  const reset = await resetPassword(app, mailed.token)
  t.equal(reset.statusCode, 200, 'the link the user holds was not replaced by one that was never sent')
})

t.test('RST-03: a 256-bit token, stored only as its SHA-256, single use', async t => {
  const inner = memoryStorage()
  const created: NewOneTimeToken[] = []
  const storage: Storage = {
    ...inner,
    oneTimeTokens: {
      ...inner.oneTimeTokens,
      create: async (token) => {
        created.push(structuredClone(token))
        return inner.oneTimeTokens.create(token)
      }
    }
  }
  const { app, events, smtp } = await mailApp(t, { storage })
  t.equal((await register(app)).statusCode, 200)
  await settle(app) // the verification token is written after the answer
  created.length = 0

  t.equal((await requestReset(app)).statusCode, 200)
  const link = await lastResetLink(app, smtp)
  t.match(link.token, /^[A-Za-z0-9_-]{43,}$/, 'at least 43 base64url characters (256 bits)')
  t.equal(Buffer.from(link.token, 'base64url').length >= 32, true)
  t.equal(created.length, 1)
  const row = created[0] as NewOneTimeToken
  t.equal(row.purpose, 'password_reset')
  t.equal(row.tokenHash, sha256(link.token), 'the store gets the SHA-256')
  t.notOk(JSON.stringify(row).includes(link.token), 'and never the token itself')
  t.equal(row.userId, link.userId)
  t.equal(row.expiresAt.getTime() - row.createdAt.getTime(), 15 * 60_000, '15 minutes by default')
  t.equal(await inner.oneTimeTokens.consume('password_reset', link.token, new Date()), null, 'the raw token is not a stored key')

  t.equal((await resetPassword(app, link.token, NEW_PASSWORD, { userId: link.userId })).statusCode, 200)
  const again = await resetPassword(app, link.token, 'yet another long passphrase', { userId: link.userId })
  t.equal(again.statusCode, 400, 'single use')
  t.equal(errorOf(again).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
  t.equal(events.take('password.reset_completed').length, 1)
  t.equal(events.take('password.reset_failed').length, 1)
})

t.test('RST-03: the link expires after resetPasswordExpiry', async t => {
  const clock = movableClock()
  const { app, smtp } = await mailApp(t, { now: clock.now })
  t.equal((await register(app)).statusCode, 200)

  await requestReset(app)
  const early = await lastResetLink(app, smtp)
  clock.advance(15 * 60_000 - 1000)
  t.equal((await resetPassword(app, early.token)).statusCode, 200, 'control: valid at 14 min 59 s')

  await requestReset(app)
  const late = await lastResetLink(app, smtp)
  t.not(late.token, early.token)
  clock.advance(15 * 60_000 + 1000)
  const expired = await resetPassword(app, late.token, 'yet another long passphrase')
  t.equal(expired.statusCode, 400, 'refused at 15 min 1 s')
  t.equal(errorOf(expired).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
})

t.test('RST-03: resetPasswordExpiry is honoured', async t => {
  const clock = movableClock()
  const { app, smtp } = await mailApp(t, { now: clock.now, resetPasswordExpiry: 5 * 60_000 })
  t.equal((await register(app)).statusCode, 200)
  await requestReset(app)
  const link = await lastResetLink(app, smtp)
  t.match(mailsOf(smtp, RESET_MAIL).at(-1)?.parsed.text ?? '', /valid for 5 minutes/)
  clock.advance(5 * 60_000 + 1000)
  t.equal((await resetPassword(app, link.token)).statusCode, 400)
})

t.test('RST-03: a new request makes the older link invalid', async t => {
  const { app, smtp } = await mailApp(t)
  t.equal((await register(app)).statusCode, 200)
  await requestReset(app)
  const first = await lastResetLink(app, smtp)
  await requestReset(app)
  const second = await lastResetLink(app, smtp)
  t.not(first.token, second.token)
  const old = await resetPassword(app, first.token)
  t.equal(old.statusCode, 400)
  t.equal(errorOf(old).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
  t.equal((await resetPassword(app, second.token)).statusCode, 200, 'the newest one works')
})

t.test('RST-03: a password change invalidates an outstanding link', async t => {
  const { app, smtp } = await mailApp(t, { allowUnverifiedEmailLogin: true })
  t.equal((await register(app)).statusCode, 200)
  const { token } = await session(app)
  await requestReset(app)
  const link = await lastResetLink(app, smtp)
  const change = await app.inject({
    method: 'POST',
    url: '/api/auth/password',
    headers: { authorization: `Bearer ${token}` },
    payload: { currentPassword: alice.password, password: NEW_PASSWORD, confirm_password: NEW_PASSWORD }
  })
  t.equal(change.statusCode, 200)
  const reset = await resetPassword(app, link.token, 'yet another long passphrase')
  t.equal(reset.statusCode, 400)
  t.equal(errorOf(reset).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
  t.equal((await login(app, alice.email, NEW_PASSWORD)).statusCode, 200, 'the changed password stands')
})

t.test('RST-04: binding to user and purpose', async t => {
  t.test('a valid token for A with the userId of B is refused and changes nothing', async t => {
    const { app, events, smtp } = await mailApp(t)
    t.equal((await register(app)).statusCode, 200)
    t.equal((await register(app, bob)).statusCode, 200)
    const before = { alice: await storedUser(app), bob: await storedUser(app, bob.email) }
    await requestReset(app)
    const link = await lastResetLink(app, smtp)
    const crossed = await resetPassword(app, link.token, NEW_PASSWORD, { userId: before.bob.id })
    t.equal(crossed.statusCode, 400)
    t.equal(errorOf(crossed).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
    t.equal((await storedUser(app)).passwordHash, before.alice.passwordHash, "A's password is unchanged")
    t.equal((await storedUser(app, bob.email)).passwordHash, before.bob.passwordHash, "B's too")
    t.same(events.take('password.reset_completed'), [])
    t.equal(events.take('password.reset_failed').length, 1)
  })

  t.test('a verification token is refused at resetPassword, a reset token at /verify; neither is spent by it', async t => {
    const { app, smtp } = await mailApp(t)
    t.equal((await register(app)).statusCode, 200)
    await settle(app)
    const verification = linkIn(mailsOf(smtp, VERIFY_MAIL, alice.email)[0] as ReceivedMail, '/verify')
    const verificationToken = verification.searchParams.get('token') ?? ''
    await requestReset(app)
    const link = await lastResetLink(app, smtp)
    const before = await storedUser(app)

    const asReset = await resetPassword(app, verificationToken)
    t.equal(asReset.statusCode, 400)
    t.equal(errorOf(asReset).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')
    t.equal((await storedUser(app)).passwordHash, before.passwordHash)

    const asVerification = await verify(app, alice.email, link.token)
    t.equal(asVerification.statusCode, 400)
    t.equal(errorOf(asVerification).code, 'FST_LCAUTH_VERIFICATION_INVALID')
    t.equal((await storedUser(app)).emailVerified, false)

    t.equal((await verify(app, alice.email, verificationToken)).statusCode, 200, 'the verification token still works where it belongs')
    t.equal((await resetPassword(app, link.token)).statusCode, 200, 'so does the reset token')
  })

  t.test('a reset leaves the pending email-verification token alone', async t => {
    const { app, events, smtp } = await mailApp(t)
    t.equal((await register(app)).statusCode, 200)
    await settle(app)
    const verification = linkIn(mailsOf(smtp, VERIFY_MAIL, alice.email)[0] as ReceivedMail, '/verify')
    await requestReset(app)
    const link = await lastResetLink(app, smtp)
    t.equal((await resetPassword(app, link.token)).statusCode, 200)
    t.equal((await storedUser(app)).emailVerified, true, 'the reset verified the email')
    // The reset deletes only password_reset tokens: the verification row is still there and consumable.
    const consumed = await verify(app, verification.searchParams.get('email') ?? '', verification.searchParams.get('token') ?? '')
    t.equal(consumed.statusCode, 200, 'the verification token survived the reset')
    t.equal(events.take('email.verified').length, 1)
  })
})

t.test('RST-05: the link uses domainClient whatever the Host, and goes to the stored address', async t => {
  const { app, smtp } = await mailApp(t)
  t.equal((await register(app, { ...alice, email: 'Alice@Example.COM' })).statusCode, 200)
  await settle(app)
  const before = smtp.messages.length

  const response = await requestReset(app, 'ALICE@example.com', { host: 'evil.test', 'x-forwarded-host': 'evil.test', 'x-forwarded-proto': 'http' })
  t.equal(response.statusCode, 200)
  for (const variant of ['alice+x@example.com', 'a.lice@example.com', 'alice@example.co']) {
    t.equal((await requestReset(app, variant)).statusCode, 200)
  }
  await settle(app)
  t.equal(smtp.messages.length, before + 1, 'one mail; look-alike addresses get nothing')
  const mail = smtp.messages.at(-1) as ReceivedMail
  t.same(mail.envelope.to, ['alice@example.com'], 'the stored canonical address, and only it')
  const link = linkIn(mail, '/reset-password')
  t.ok(link.href.startsWith(`${CLIENT}/reset-password?`), `the link starts with domainClient: ${link.href}`)
  t.notMatch(mail.parsed.text ?? '', /evil\.test/)
  t.notMatch(String(mail.parsed.html), /evil\.test/)
  t.match(String(mail.parsed.html), `href="${CLIENT}/reset-password?`)
})

t.test('RST-06: what a completed reset does', async t => {
  const { app, events, smtp } = await mailApp(t, { allowUnverifiedEmailLogin: true })
  t.equal((await register(app)).statusCode, 200)
  const one = await session(app)
  const two = await session(app)
  const before = await storedUser(app)
  t.equal(before.emailVerified, false)
  const { kept } = await linkIdentities(app.lcauth.storage, before.id, alice.email, new Date())
  events.all.length = 0

  t.equal((await requestReset(app)).statusCode, 200)
  const link = await lastResetLink(app, smtp)

  const weak = await resetPassword(app, link.token, 'password')
  t.equal(weak.statusCode, 400, 'the policy applies server-side')
  t.equal(errorOf(weak).code, 'FST_LCAUTH_PASSWORD_POLICY')
  const mismatch = await resetPassword(app, link.token, NEW_PASSWORD, { confirm_password: 'something else entirely' })
  t.equal(mismatch.statusCode, 400)
  t.equal(errorOf(mismatch).code, 'FST_LCAUTH_PASSWORD_POLICY')
  t.equal((await storedUser(app)).passwordHash, before.passwordHash)

  const reset = await resetPassword(app, link.token)
  t.equal(reset.statusCode, 200, 'the token survived the refused attempts')
  t.same(Object.keys(reset.json()), ['message'], 'no token in the body')
  t.notOk(reset.headers['set-cookie'], 'no cookie: no automatic login')
  t.notMatch(reset.body, /token/i)

  for (const s of [one, two]) {
    t.equal((await refresh(app, s.refresh)).statusCode, 401, 'refresh cookie revoked')
    t.equal((await protectedRoute(app, s.token)).statusCode, 401, 'access token revoked')
  }
  t.equal((await login(app)).statusCode, 401, 'the old password is gone')
  t.equal((await login(app, alice.email, NEW_PASSWORD)).statusCode, 200)
  t.match(await storedUser(app), { emailVerified: true, emailVerifiedBy: 'reset' }, 'the reset proved the inbox')
  t.same(await app.lcauth.storage.identities.listByUser(before.id), [kept], 'identities with an unverified provider email are unlinked')
  t.same(events.take('oauth.unlinked').map(e => [e.userId, e.provider, e.reason]), [[before.id, 'github', 'password_reset'], [before.id, 'discord', 'password_reset']])

  await settle(app)
  const done = mailsOf(smtp, DONE_MAIL, alice.email)
  t.equal(done.length, 1, 'a reset-done mail')
  t.match(done[0]?.parsed.text ?? '', `${CLIENT}/forgot-password`)

  t.same(events.take('password.reset_requested').map(e => e.userId), [before.id])
  t.same(events.take('password.reset_completed').map(e => e.userId), [before.id])
  t.same(events.take('session.revoked').map(e => e.reason), ['password_changed', 'password_changed'])
})

t.test('a server that drops the connection: the same 200, a logged failure without the token, a dead link', async t => {
  const smtp = await smtpServer(t)
  const logs: string[] = []
  const links: string[] = []
  const app = Fastify({ logger: { level: 'warn', stream: { write: (line: string) => { logs.push(line) } } } })
  t.teardown(() => app.close())
  await app.register(authPlugin, {
    ...baseOptions,
    domainClient: CLIENT,
    mailer: smtpSettings(smtp),
    // A host template sees the link, so the test knows the one that never arrived.
    mailTemplates: { resetRequest: vars => { links.push(vars.link); return renderMail('resetRequest', vars) } }
  })
  const events = new EventLog()
  app.lcauth.events.onAny((name, payload) => events.all.push({ name, payload }))
  await app.ready()
  t.equal((await register(app)).statusCode, 200)
  await settle(app)
  const unknown = await requestReset(app, 'nobody@example.test')

  smtp.behaviour = 'drop'
  const response = await requestReset(app)
  t.equal(response.statusCode, 200)
  t.equal(response.body, unknown.body, 'the generic answer')
  await settle(app)
  t.equal(mailsOf(smtp, RESET_MAIL).length, 0, 'nothing arrived')
  t.equal(links.length, 1)
  const lost = resetLinkOf(new URL(links[0] as string))
  t.ok(logs.some(l => l.includes('lcauth.mail_failed')), 'the failure is logged')
  t.notOk(logs.some(l => l.includes(lost.token) || l.includes(encodeURIComponent(lost.token))), 'without the token')
  const dead = await resetPassword(app, lost.token)
  t.equal(dead.statusCode, 400, 'the link that never went out does not work')
  t.equal(errorOf(dead).code, 'FST_LCAUTH_RESET_TOKEN_INVALID')

  // Control: once the server delivers again, the captured link is the mailed one and works.
  smtp.behaviour = 'deliver'
  t.equal((await requestReset(app)).statusCode, 200)
  const delivered = await lastResetLink(app, smtp)
  t.equal(links.at(-1), delivered.url.href)
  t.equal((await resetPassword(app, delivered.token)).statusCode, 200)
})

t.test('a password change mails the user', async t => {
  const { app, events, smtp } = await mailApp(t)
  t.equal((await register(app)).statusCode, 200)
  await settle(app)
  const verification = linkIn(mailsOf(smtp, VERIFY_MAIL, alice.email)[0] as ReceivedMail, '/verify')
  t.equal((await verify(app, alice.email, verification.searchParams.get('token') ?? '')).statusCode, 200)
  const { token } = await session(app)
  const change = await app.inject({
    method: 'POST',
    url: '/api/auth/password',
    headers: { authorization: `Bearer ${token}` },
    payload: { currentPassword: alice.password, password: NEW_PASSWORD, confirm_password: NEW_PASSWORD }
  })
  t.equal(change.statusCode, 200)
  await settle(app)
  const mails = mailsOf(smtp, CHANGED_MAIL)
  t.equal(mails.length, 1)
  t.same(mails[0]?.envelope.to, [alice.email])
  t.match(mails[0]?.parsed.text ?? '', `Hello ${alice.name},`, 'a verified address is greeted by name')
  t.match(mails[0]?.parsed.text ?? '', `${CLIENT}/forgot-password`)
  t.equal(events.take('password.changed').length, 1)

  const wrong = await app.inject({
    method: 'POST',
    url: '/api/auth/password',
    headers: { authorization: `Bearer ${token}` },
    payload: { currentPassword: 'not the password at all', password: 'yet another long passphrase', confirm_password: 'yet another long passphrase' }
  })
  t.equal(wrong.statusCode, 401)
  await settle(app)
  t.equal(mailsOf(smtp, CHANGED_MAIL).length, 1, 'a refused change sends nothing')
})
