import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import type { MailMessage } from '../../lib/ports/mailer.ts'
import { alice, build, register } from '../helpers/app.ts'
import { linkIn, mailsOf, startSmtp, type ReceivedMail, type TestSmtpServer } from '../helpers/smtp.ts'

/**
 * Anyone can register someone else's address under any name; the mails that follow land in the
 * inbox owner's mailbox. Until this system verified the address, no mail carries the registrant's
 * name: not in the greeting, not as the To header's display name.
 */

const VICTIM = 'victim@example.test'
// Passes the name rules (no link), and still not something to put into someone else's inbox.
const PLANTED = 'URGENT account locked call 555 0100'

async function mailApp (t: Test): Promise<{ app: FastifyInstance, smtp: TestSmtpServer }> {
  const smtp = await startSmtp()
  t.teardown(() => smtp.close())
  const { app } = await build(t, { domainClient: 'https://chat.example.test', mailer: { host: '127.0.0.1', port: smtp.port, from: 'noreply@example.test', timeoutMs: 3000 } })
  return { app, smtp }
}

/** Every mail to `to` as the Mailer port sees it (the To header's display name included). */
function inboxOf (smtp: TestSmtpServer, to: string, subject: RegExp): MailMessage[] {
  return smtp.inbox().filter(m => m.to.address === to && subject.test(m.subject))
}

function carriesNoName (t: Test, mails: MailMessage[], name: string, what: string): void {
  t.ok(mails.length > 0, `${what}: sent`)
  for (const mail of mails) {
    t.same(mail.to, { address: mail.to.address }, `${what}: no display name in To`)
    t.notOk(mail.text.includes(name) || mail.html.includes(name) || mail.subject.includes(name), `${what}: not in the text, html or subject`)
    t.match(mail.text, `Hello ${mail.to.address},`, `${what}: greeted by the address`)
  }
}

t.test('mails to an address nobody verified carry no name: verification, reset, registration notice', async t => {
  const { app, smtp } = await mailApp(t)
  const attacker = { name: PLANTED, email: VICTIM, password: 'attacker chosen password', confirm_password: 'attacker chosen password' }
  t.equal((await register(app, attacker)).statusCode, 200)
  await app.lcauth.mail?.idle()
  carriesNoName(t, inboxOf(smtp, VICTIM, /^Verify your email/), PLANTED, 'verification mail')

  t.equal((await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email: VICTIM } })).statusCode, 200)
  t.equal((await register(app, { ...attacker, name: 'Someone Else' })).statusCode, 200)
  await app.lcauth.mail?.idle()
  carriesNoName(t, inboxOf(smtp, VICTIM, /^Reset your /), PLANTED, 'reset mail')
  carriesNoName(t, inboxOf(smtp, VICTIM, /^Someone tried to sign up/), PLANTED, 'registration notice')

  // The owner resets through the mailed link: the confirmation is still addressed without the name
  // the attacker chose (the account's name is the registrant's words, verified address or not).
  const link = linkIn(mailsOf(smtp, /^Reset your /, VICTIM).at(-1) as ReceivedMail, '/reset-password')
  const password = 'the real owner of this inbox'
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/resetPassword', payload: { token: link.searchParams.get('token'), password, confirm_password: password } })).statusCode, 200)
  await app.lcauth.mail?.idle()
  carriesNoName(t, inboxOf(smtp, VICTIM, /password was reset$/), PLANTED, 'reset confirmation')
})

t.test('control: once the address is verified, mails greet the user by name, in the body and the To header', async t => {
  const { app, smtp } = await mailApp(t)
  t.equal((await register(app)).statusCode, 200)
  await app.lcauth.mail?.idle()
  const verify = linkIn(mailsOf(smtp, /^Verify your email/, alice.email)[0] as ReceivedMail, '/verify')
  t.equal((await app.inject({ method: 'POST', url: '/api/user/verify', payload: { email: alice.email, token: verify.searchParams.get('token') } })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email: alice.email } })).statusCode, 200)
  t.equal((await register(app, { ...alice, name: 'Mallory' })).statusCode, 200)
  await app.lcauth.mail?.idle()
  for (const subject of [/^Reset your /, /^Someone tried to sign up/]) {
    const [mail] = inboxOf(smtp, alice.email, subject)
    t.same(mail?.to, { address: alice.email, name: alice.name }, `${String(subject)}: the name in To`)
    t.match(mail?.text, `Hello ${alice.name},`, `${String(subject)}: and in the greeting`)
    t.notMatch(mail?.text, 'Mallory', 'never the name a later registrant typed')
  }
})
