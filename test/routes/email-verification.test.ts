import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import type { AuthOptions } from '../../index.ts'
import { alice, build, type EventLog, login, refreshCookieOf, register } from '../helpers/app.ts'
import { linkIdentities } from '../helpers/identities.ts'
import { linkIn, mailsOf, startSmtp, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }

const CLIENT = 'https://chat.example.test'
const FROM = 'noreply@example.test'
const VICTIM_PASSWORD = 'the real owner of this inbox'
const bob = { ...alice, name: 'Bob Builder', email: 'bob@example.test' }

const VERIFY_MAIL = /^Verify your email/
const RESET_MAIL = /^Reset your /
const ATTEMPT_MAIL = /^Someone tried to sign up/

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()
const headerNames = (response: LightMyRequestResponse): string[] => Object.keys(response.headers).sort()

/** An app whose mailer is the real SMTP server on loopback. */
async function mailApp (t: Test, options: Partial<AuthOptions> = {}): Promise<{ app: FastifyInstance, events: EventLog, smtp: TestSmtpServer }> {
  const smtp = await startSmtp()
  t.teardown(() => smtp.close())
  const built = await build(t, { domainClient: CLIENT, mailer: { host: '127.0.0.1', port: smtp.port, from: FROM, timeoutMs: 3000 }, ...options })
  return { ...built, smtp }
}

async function settle (app: FastifyInstance): Promise<void> {
  await app.lcauth.mail?.idle()
}



interface VerifyLink { url: URL, token: string, email: string }

/** The link of the newest verification mail to `to`. */
async function lastVerifyLink (app: FastifyInstance, smtp: TestSmtpServer, to = alice.email): Promise<VerifyLink> {
  await settle(app)
  const mail = mailsOf(smtp, VERIFY_MAIL, to).at(-1)
  if (mail === undefined) throw new Error(`no verification mail to ${to}`)
  const url = linkIn(mail, '/verify')
  return { url, token: url.searchParams.get('token') ?? '', email: url.searchParams.get('email') ?? '' }
}

function verify (app: FastifyInstance, email: string, token: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/user/verify', payload: { email, token } })
}

function resend (app: FastifyInstance, email: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/api/user/verify/resend', payload: { email } })
}

async function storedUser (app: FastifyInstance, email = alice.email): Promise<{ id: string, name: string, passwordHash: string, emailVerified: boolean, emailVerifiedBy: string | null }> {
  const user = await app.lcauth.storage.users.findByEmail(email)
  if (user === null) throw new Error(`no user ${email}`)
  return { id: user.id, name: user.name, passwordHash: user.passwordHash ?? '', emailVerified: user.emailVerified, emailVerifiedBy: user.emailVerifiedBy }
}

function movableClock (): { now: () => Date, advance: (ms: number) => void } {
  let offset = 0
  return { now: () => new Date(Date.now() + offset), advance: ms => { offset += ms } }
}

t.test('with a mailer: registration mails a link, login waits for it', async t => {
  const { app, events, smtp } = await mailApp(t)
  const registered = await register(app)
  t.equal(registered.statusCode, 200)
  t.notOk(registered.headers['set-cookie'])
  const link = await lastVerifyLink(app, smtp)
  const mail = mailsOf(smtp, VERIFY_MAIL, alice.email)[0] as ReceivedMail
  t.same(mail.envelope.to, [alice.email])
  t.match(mail.parsed.text ?? '', `Hello ${alice.email},`, 'greeted by address: the address is not verified yet')
  t.notMatch(mail.parsed.text ?? '', alice.name, 'so the registrant\'s name stays out')
  t.ok(link.url.href.startsWith(`${CLIENT}/verify?`), 'the link uses domainClient')
  t.match(link.token, /^[A-Za-z0-9_-]{43,}$/)
  t.equal(link.email, alice.email)
  const html = String(mail.parsed.html)
  t.match(html, /<a href="https:\/\/chat\.example\.test\/verify\?token=/, 'the html has the link too')
  t.ok(html.includes(link.token), 'with the same token')
  const user = await storedUser(app)
  t.equal(user.emailVerifiedBy, null, 'registering vouches for nothing')
  t.same(events.take('email.verification_sent').map(e => e.userId), [user.id])
  const { kept } = await linkIdentities(app.lcauth.storage, user.id, alice.email, new Date())

  const unverified = await login(app)
  t.equal(unverified.statusCode, 422, 'LibreChat\'s status, which its login page keys the resend link on')
  t.equal(errorOf(unverified).code, 'FST_LCAUTH_EMAIL_NOT_VERIFIED')
  t.notOk(unverified.headers['set-cookie'], 'no cookie')
  t.notMatch(unverified.body, /"token"/)
  const wrong = await login(app, alice.email, 'not the password at all')
  t.equal(wrong.statusCode, 401, 'a wrong password learns nothing about verification')
  t.equal(errorOf(wrong).code, 'FST_LCAUTH_INVALID_CREDENTIALS')
  t.notOk(wrong.headers['set-cookie'])
  t.same(events.take('login.failure').map(e => e.reason), ['email_not_verified', 'bad_password'])

  const verified = await verify(app, link.email, link.token)
  t.equal(verified.statusCode, 200)
  t.same(Object.keys(verified.json()), ['message'])
  t.match(await storedUser(app), { emailVerified: true, emailVerifiedBy: 'mail' })
  t.same(events.take('email.verified').map(e => e.userId), [user.id])
  t.same(await app.lcauth.storage.identities.listByUser(user.id), [kept], 'identities with an unverified provider email are unlinked')
  t.same(events.take('oauth.unlinked').map(e => [e.userId, e.provider, e.reason]), [[user.id, 'github', 'email_verified'], [user.id, 'discord', 'email_verified']])
  const loggedIn = await login(app)
  t.equal(loggedIn.statusCode, 200)
  t.ok(refreshCookieOf(loggedIn))
})

t.test('allowUnverifiedEmailLogin: true lets an unverified email log in', async t => {
  const { app, smtp } = await mailApp(t, { allowUnverifiedEmailLogin: true })
  t.equal((await register(app)).statusCode, 200)
  await lastVerifyLink(app, smtp) // the mail still goes out
  t.equal((await storedUser(app)).emailVerified, false)
  const response = await login(app)
  t.equal(response.statusCode, 200)
  t.ok(refreshCookieOf(response))
})

t.test('no mailer: login works unverified, /verify refuses everything, /verify/resend answers 200', async t => {
  const { app, events } = await build(t)
  t.equal((await register(app)).statusCode, 200)
  t.equal((await storedUser(app)).emailVerified, false)
  t.equal((await login(app)).statusCode, 200)
  const attempt = await verify(app, alice.email, 'x'.repeat(43))
  t.equal(attempt.statusCode, 400)
  t.equal(errorOf(attempt).code, 'FST_LCAUTH_VERIFICATION_INVALID')
  const again = await resend(app, alice.email)
  t.equal(again.statusCode, 200)
  t.same(Object.keys(again.json()), ['message'])
  t.same(events.take('email.verification_sent'), [], 'nothing is sent')
})

t.test('EMV-01: the verification token', async t => {
  t.test('single use', async t => {
    const { app, smtp } = await mailApp(t)
    t.equal((await register(app)).statusCode, 200)
    const link = await lastVerifyLink(app, smtp)
    t.equal((await verify(app, link.email, link.token)).statusCode, 200)
    const again = await verify(app, link.email, link.token)
    t.equal(again.statusCode, 400)
    t.equal(errorOf(again).code, 'FST_LCAUTH_VERIFICATION_INVALID')
  })

  t.test('expires after emailVerificationExpiry (24 h by default)', async t => {
    const clock = movableClock()
    const { app, smtp } = await mailApp(t, { now: clock.now })
    t.equal((await register(app)).statusCode, 200)
    t.equal((await register(app, bob)).statusCode, 200)
    const aliceLink = await lastVerifyLink(app, smtp)
    const bobLink = await lastVerifyLink(app, smtp, bob.email)
    t.match(mailsOf(smtp, VERIFY_MAIL, alice.email)[0]?.parsed.text ?? '', /valid for 1440 minutes/)
    clock.advance(24 * 3_600_000 - 1000)
    t.equal((await verify(app, aliceLink.email, aliceLink.token)).statusCode, 200, 'control: valid at 23:59:59')
    clock.advance(2000)
    const expired = await verify(app, bobLink.email, bobLink.token)
    t.equal(expired.statusCode, 400, 'refused at 24:00:01')
    t.equal(errorOf(expired).code, 'FST_LCAUTH_VERIFICATION_INVALID')
    t.equal((await storedUser(app, bob.email)).emailVerified, false)
  })

  t.test('emailVerificationExpiry is honoured', async t => {
    const clock = movableClock()
    const { app, smtp } = await mailApp(t, { now: clock.now, emailVerificationExpiry: 60 * 60_000 })
    t.equal((await register(app)).statusCode, 200)
    const link = await lastVerifyLink(app, smtp)
    clock.advance(60 * 60_000 + 1000)
    t.equal((await verify(app, link.email, link.token)).statusCode, 400)
  })

  t.test('bound to the email, and one answer for every failure', async t => {
    const { app, events, smtp } = await mailApp(t)
    t.equal((await register(app)).statusCode, 200)
    t.equal((await register(app, bob)).statusCode, 200)
    const aliceLink = await lastVerifyLink(app, smtp)
    const bobLink = await lastVerifyLink(app, smtp, bob.email)

    const failures = [
      await verify(app, bob.email, aliceLink.token), // alice's token, bob's address
      await verify(app, 'someone@example.test', bobLink.token), // bob's token, an address with no account
      await verify(app, alice.email, 'x'.repeat(43)), // a made-up token
      await verify(app, 'not an email', bobLink.token)
    ]
    for (const failure of failures) {
      t.equal(failure.statusCode, 400)
      t.equal(failure.body, failures[0]?.body, 'the same body')
    }
    t.equal(errorOf(failures[0] as LightMyRequestResponse).code, 'FST_LCAUTH_VERIFICATION_INVALID')
    t.equal((await storedUser(app)).emailVerified, false)
    t.equal((await storedUser(app, bob.email)).emailVerified, false, 'nobody was verified by a token for another address')
    t.same(events.take('email.verified'), [])
    t.equal(events.take('email.verification_failed').length, 4)

    // A reused token looks the same as all of those.
    await resend(app, alice.email)
    const fresh = await lastVerifyLink(app, smtp)
    t.equal((await verify(app, fresh.email, fresh.token)).statusCode, 200)
    t.equal((await verify(app, fresh.email, fresh.token)).body, failures[0]?.body)
  })

  t.test('resend: always the same 200, a mail only for a known unverified address, limited silently', async t => {
    const { app, events, smtp } = await mailApp(t, { mailPerRecipient: { max: 2, windowMs: 60_000 } })
    t.equal((await register(app)).statusCode, 200)
    t.equal((await register(app, bob)).statusCode, 200)
    const bobLink = await lastVerifyLink(app, smtp, bob.email)
    t.equal((await verify(app, bobLink.email, bobLink.token)).statusCode, 200)
    const first = await lastVerifyLink(app, smtp)
    events.all.length = 0
    const before = smtp.messages.length

    const unverified = await resend(app, alice.email)
    const verified = await resend(app, bob.email)
    const unknown = await resend(app, 'nobody@example.test')
    for (const response of [unverified, verified, unknown]) {
      t.equal(response.statusCode, 200)
      t.equal(response.body, unverified.body)
      t.same(headerNames(response), headerNames(unverified))
      t.notOk(response.headers['set-cookie'])
    }
    await settle(app)
    t.equal(smtp.messages.length, before + 1, 'one new mail')
    t.same(smtp.messages.at(-1)?.envelope.to, [alice.email], 'to the unverified address')
    t.same(events.take('email.verification_sent').map(e => e.userId), [(await storedUser(app)).id])

    const second = await lastVerifyLink(app, smtp)
    t.not(second.token, first.token)
    // The registration mail and this resend reached the limit of 2: more resends answer the same, and send nothing.
    for (let i = 0; i < 3; i++) t.equal((await resend(app, alice.email)).body, unverified.body)
    await settle(app)
    t.equal(mailsOf(smtp, VERIFY_MAIL, alice.email).length, 2, 'no mail past the per-recipient limit')
  })

  t.test('a throttled resend changes nothing: the last mailed link still works', async t => {
    const { app, smtp } = await mailApp(t, { mailPerRecipient: { max: 2, windowMs: 60_000 } })
    t.equal((await register(app)).statusCode, 200)
    t.equal((await resend(app, alice.email)).statusCode, 200)
    const mailed = await lastVerifyLink(app, smtp)
    t.equal(mailsOf(smtp, VERIFY_MAIL, alice.email).length, 2)
    t.equal((await resend(app, alice.email)).statusCode, 200, 'throttled, silently')
    await settle(app)
    t.equal(mailsOf(smtp, VERIFY_MAIL, alice.email).length, 2, 'no third mail')
    t.equal((await verify(app, mailed.email, mailed.token)).statusCode, 200, 'the link the user holds was not replaced by one that was never sent')
  })
})

t.test('EMV-03: the inbox owner\'s reset ends a pre-registered attacker\'s account access', async t => {
  const { app, events, smtp } = await mailApp(t, { allowUnverifiedEmailLogin: true })
  const victim = 'victim@example.test'
  const attacker = { name: 'Attacker', email: victim, password: 'chosen by the intruder', confirm_password: 'chosen by the intruder' }
  t.equal((await register(app, attacker)).statusCode, 200)
  const attackerLogin = await login(app, victim, attacker.password)
  t.equal(attackerLogin.statusCode, 200, 'the attacker holds a session on the unverified account')
  const attackerAccess = attackerLogin.json<{ token: string }>().token
  const attackerRefresh = refreshCookieOf(attackerLogin) as string
  const before = await storedUser(app, victim)
  t.equal(before.emailVerified, false)

  // The victim asks for a reset and uses the link from their inbox.
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email: victim } })).statusCode, 200)
  await settle(app)
  const mail = mailsOf(smtp, RESET_MAIL, victim).at(-1) as ReceivedMail
  const link = linkIn(mail, '/reset-password')
  const reset = await app.inject({
    method: 'POST',
    url: '/api/auth/resetPassword',
    payload: { token: link.searchParams.get('token'), userId: link.searchParams.get('userId'), password: VICTIM_PASSWORD, confirm_password: VICTIM_PASSWORD }
  })
  t.equal(reset.statusCode, 200)

  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { refreshToken: attackerRefresh } })).statusCode, 401, 'the attacker\'s refresh cookie is dead')
  t.equal((await app.inject({ url: '/api/protected', headers: { authorization: `Bearer ${attackerAccess}` } })).statusCode, 401, 'so is the access token')
  t.equal((await login(app, victim, attacker.password)).statusCode, 401, 'the attacker\'s password no longer works')
  t.equal((await login(app, victim, VICTIM_PASSWORD)).statusCode, 200, 'the victim\'s does')
  const after = await storedUser(app, victim)
  t.not(after.passwordHash, before.passwordHash)
  t.equal(after.emailVerified, true, 'the email is verified')
  t.same(events.take('session.revoked').map(e => e.reason), ['password_changed'])
  t.same(events.take('password.reset_completed').map(e => e.userId), [before.id])
})

t.test('EMV-03: registering a taken email changes nothing and tells the owner', async t => {
  const { app, events, smtp } = await mailApp(t)
  const fresh = await register(app)
  t.equal(fresh.statusCode, 200)
  const owner = await storedUser(app)
  await settle(app)

  const intruder = { name: 'Mallory', email: 'ALICE@example.test', password: 'a password of their own', confirm_password: 'a password of their own' }
  const unverifiedAttempt = await register(app, intruder)
  t.equal(unverifiedAttempt.statusCode, 200)
  t.equal(unverifiedAttempt.body, fresh.body, 'the same answer as a fresh registration')
  t.same(headerNames(unverifiedAttempt), headerNames(fresh))
  t.notOk(unverifiedAttempt.headers['set-cookie'])
  t.same(await storedUser(app), owner, 'the unverified account is untouched (password hash, name)')
  await settle(app)
  const notices = mailsOf(smtp, ATTEMPT_MAIL, alice.email)
  t.equal(notices.length, 1, 'the owner hears of it')
  t.match(notices[0]?.parsed.text ?? '', `${CLIENT}/forgot-password`, 'with the way to a password reset')
  t.match(String(notices[0]?.parsed.html), `href="${CLIENT}/forgot-password"`)
  t.notMatch(notices[0]?.parsed.text ?? '', /Mallory/, 'nothing the intruder typed')
  t.equal(mailsOf(smtp, VERIFY_MAIL, alice.email).length, 1, 'no new verification link')
  t.same(events.take('register.duplicate').map(e => e.userId), [owner.id])

  // Verified, the same.
  const link = await lastVerifyLink(app, smtp)
  t.equal((await verify(app, link.email, link.token)).statusCode, 200)
  const verifiedOwner = await storedUser(app)
  const verifiedAttempt = await register(app, intruder)
  t.equal(verifiedAttempt.body, fresh.body)
  t.same(await storedUser(app), verifiedOwner, 'the verified account is untouched')
  t.equal((await login(app, alice.email, intruder.password)).statusCode, 401)
  t.equal((await login(app)).statusCode, 200)
  await settle(app)
  t.equal(mailsOf(smtp, ATTEMPT_MAIL, alice.email).length, 2)

  // A fresh registration of another address answers exactly the same.
  const other = await register(app, bob)
  t.equal(other.body, fresh.body)
  t.same(headerNames(other), headerNames(fresh))
})
