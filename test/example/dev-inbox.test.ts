import t from 'tap'
import { devInbox, devInboxWanted, mayReadInbox, type InboxMail } from '../../examples/dev-inbox.ts'
import { inboxPage, splitLinks } from '../../examples/dev-inbox-page.ts'
import { isLoopbackAddress, isLoopbackHost } from '../../examples/loopback.ts'
import { dataDir, failingExample, startExample } from '../helpers/example.ts'
import { startSmtp } from '../helpers/smtp.ts'

// The development inbox as a user meets it: the example started with no mail settings, the mails
// read from /dev/mail.json and /dev/mail, their links followed through the API.

const alice = { name: '<script>alert("hi")</script>', email: 'alice@example.com', password: 'correct horse battery', confirm_password: 'correct horse battery' }
const secrets = { JWT_SECRET: 'x'.repeat(40), JWT_REFRESH_SECRET: 'y'.repeat(40) }

function post (url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** Waits for the inbox to hold `count` mails; returns them, newest first. */
async function inboxOf (url: string, count: number): Promise<InboxMail[]> {
  for (let i = 0; i < 100; i++) {
    const mails = await (await fetch(`${url}/dev/mail.json`)).json() as InboxMail[]
    if (mails.length >= count) return mails
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  throw new Error(`fewer than ${count} mails in the inbox`)
}

const linkTo = (mail: InboxMail | undefined, path: string): URL => new URL(mail?.links.find(link => new URL(link).pathname === path) as string)

t.test('with no EMAIL_*: verification and reset through the inbox, no link in any answer', async t => {
  const server = await startExample({ DATA_DIR: await dataDir() })
  t.teardown(server.stop)
  t.match(server.output(), /development inbox on: mail is kept in memory and shown at http:\/\/127\.0\.0\.1:\d+\/dev\/mail/)
  t.match(await (await fetch(`${server.url}/api/auth/config`)).json(), { emailEnabled: true, passwordResetEnabled: true })

  const registered = await post(`${server.url}/api/auth/register`, alice)
  t.equal(registered.status, 200)
  t.notMatch(await registered.text(), /token|http/, 'the answer carries no link')
  const [verifyMail] = await inboxOf(server.url, 1)
  t.equal(verifyMail?.to, alice.email)
  t.match(verifyMail, { subject: /Verify your email/, html: /<a href=/, at: /^\d{4}-\d\d-\d\dT/ })
  const login = { email: alice.email, password: alice.password }
  const early = await post(`${server.url}/api/auth/login`, login)
  t.equal(early.status, 422, 'a mailer means verification before login')
  t.match(await early.json(), { code: 'FST_LCAUTH_EMAIL_NOT_VERIFIED' })

  const verify = linkTo(verifyMail, '/verify')
  t.equal(verify.origin, server.url)
  t.equal((await post(`${server.url}/api/user/verify`, { email: verify.searchParams.get('email'), token: verify.searchParams.get('token') })).status, 200)
  t.equal((await post(`${server.url}/api/auth/login`, login)).status, 200)

  const asked = await post(`${server.url}/api/auth/requestPasswordReset`, { email: alice.email })
  t.equal(asked.status, 200)
  t.notMatch(await asked.text(), /token|http/, 'the answer carries no link')
  const [resetMail] = await inboxOf(server.url, 2)
  t.match(resetMail?.subject, /reset/i, 'newest first')
  const reset = linkTo(resetMail, '/reset-password')
  const newPassword = 'a brand new passphrase'
  t.equal((await post(`${server.url}/api/auth/resetPassword`, { token: reset.searchParams.get('token'), userId: reset.searchParams.get('userId'), password: newPassword, confirm_password: newPassword })).status, 200)
  t.equal((await post(`${server.url}/api/auth/login`, { email: alice.email, password: newPassword })).status, 200)

  const mails = await inboxOf(server.url, 3)
  t.same(mails.map(m => m.at), [...mails.map(m => m.at)].sort().reverse(), 'newest first')
  const page = await fetch(`${server.url}/dev/mail`)
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.match(page.headers.get('content-security-policy'), /default-src 'none'/)
  t.equal(page.headers.get('cache-control'), 'no-store')
  const html = await page.text()
  t.match(html, /<h1>Development inbox<\/h1>/)
  t.equal(html.match(/<article>/g)?.length, 3, 'one article per mail')
  t.match(html, 'Hello &lt;script&gt;alert(&quot;hi&quot;)&lt;/script&gt;,', 'the name, escaped (greeted by name once verified)')
  t.notMatch(html, '<script>', 'never raw')
  t.match(html, `<a href="${reset.href.replaceAll('&', '&amp;')}">`, 'links are clickable')
  t.notOk(server.output().includes(reset.searchParams.get('token') as string), 'no link in the logs')
})

t.test('EMAIL_DEV_INBOX=true is refused in production and on a non-loopback HOST', async t => {
  for (const env of [{ HOST: '0.0.0.0' }, { NODE_ENV: 'production', ...secrets }]) {
    const data = await dataDir()
    const { code, output } = await failingExample({ DATA_DIR: data, EMAIL_DEV_INBOX: 'true', ...env })
    t.equal(code, 1)
    const errors = output.split('\n').filter(line => line.startsWith('librechat-auth example:'))
    t.equal(errors.length, 1, 'one line')
    t.match(errors[0], env.HOST === undefined ? /EMAIL_DEV_INBOX=true is refused when NODE_ENV=production/ : /EMAIL_DEV_INBOX=true needs a loopback HOST .*not 0\.0\.0\.0/)
    t.notMatch(output, /\n\s+at /, 'no stack trace')
    t.notMatch(output, /development secrets/, 'refused before anything is written')
  }
  const bad = await failingExample({ DATA_DIR: await dataDir(), EMAIL_DEV_INBOX: 'yes' })
  t.equal(bad.code, 1)
  t.match(bad.output, /EMAIL_DEV_INBOX must be true or false/)
})

t.test('off by default with EMAIL_HOST, on a non-loopback HOST and with EMAIL_DEV_INBOX=false; true wins over EMAIL_*', async t => {
  const smtp = await startSmtp()
  t.teardown(() => smtp.close())
  const mailEnv = { EMAIL_HOST: '127.0.0.1', EMAIL_PORT: String(smtp.port), EMAIL_FROM: 'noreply@example.com' }

  const withSmtp = await startExample({ DATA_DIR: await dataDir(), ...mailEnv })
  t.equal((await fetch(`${withSmtp.url}/dev/mail`)).status, 404)
  t.equal((await post(`${withSmtp.url}/api/auth/register`, alice)).status, 200)
  for (let i = 0; i < 100 && smtp.messages.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
  t.equal(smtp.messages.length, 1, 'the mail went to the SMTP server')
  t.match(withSmtp.output(), /"mail":"SMTP via 127\.0\.0\.1:\d+"/)
  await withSmtp.stop()

  const everywhere = await startExample({ DATA_DIR: await dataDir(), HOST: '0.0.0.0' })
  t.equal((await fetch(`${everywhere.url}/dev/mail`)).status, 404)
  t.match(await (await fetch(`${everywhere.url}/api/auth/config`)).json(), { emailEnabled: false })
  t.match(everywhere.output(), /the development inbox is only used on a loopback HOST \(HOST is 0\.0\.0\.0\)/)
  await everywhere.stop()

  const off = await startExample({ DATA_DIR: await dataDir(), EMAIL_DEV_INBOX: 'false' })
  t.equal((await fetch(`${off.url}/dev/mail.json`)).status, 404)
  t.match(await (await fetch(`${off.url}/api/auth/config`)).json(), { emailEnabled: false })
  t.match(off.output(), /"mail":"none: /)
  await off.stop()

  const forced = await startExample({ DATA_DIR: await dataDir(), EMAIL_DEV_INBOX: 'true', ...mailEnv })
  t.teardown(forced.stop)
  t.match(forced.output(), /EMAIL_DEV_INBOX=true: mail goes to the development inbox, the EMAIL_\* server is not used/)
  t.equal((await post(`${forced.url}/api/auth/register`, { ...alice, email: 'bob@example.com' })).status, 200)
  t.equal((await inboxOf(forced.url, 1))[0]?.to, 'bob@example.com')
  t.equal(smtp.messages.length, 1, 'nothing more reached the SMTP server')
})

t.test('who may read the inbox: a loopback socket peer, not forwarded, asking for a loopback or own name', async t => {
  const own = ['chat.localhost']
  const ok = { socketAddress: '127.0.0.1', hostname: '127.0.0.1', headers: {} }
  t.ok(mayReadInbox(ok, own))
  t.ok(mayReadInbox({ ...ok, socketAddress: '::1', hostname: '[::1]' }, own))
  t.ok(mayReadInbox({ ...ok, socketAddress: '::ffff:127.0.0.1', hostname: 'localhost' }, own))
  t.ok(mayReadInbox({ ...ok, hostname: 'chat.localhost' }, own), 'the app\'s own origin')
  t.notOk(mayReadInbox({ ...ok, socketAddress: '192.0.2.10' }, own), 'another machine')
  t.notOk(mayReadInbox({ ...ok, socketAddress: '::ffff:192.0.2.10' }, own))
  t.notOk(mayReadInbox({ ...ok, socketAddress: undefined }, own))
  t.notOk(mayReadInbox({ ...ok, headers: { 'x-forwarded-for': '127.0.0.1' } }, own), 'a forwarded request, whatever it claims')
  t.notOk(mayReadInbox({ ...ok, headers: { forwarded: 'for=127.0.0.1' } }, own))
  t.notOk(mayReadInbox({ ...ok, hostname: 'evil.example' }, own), 'a rebound name')

  t.ok(isLoopbackAddress('127.8.9.10'))
  t.ok(isLoopbackAddress('0:0:0:0:0:0:0:1'))
  t.ok(isLoopbackAddress('[::1]'))
  t.notOk(isLoopbackAddress('::'))
  t.notOk(isLoopbackAddress('128.0.0.1'))
  t.notOk(isLoopbackAddress('localhost'), 'an address, not a name')
  t.ok(isLoopbackHost('localhost'))
  t.ok(isLoopbackHost('::1'))
  t.notOk(isLoopbackHost('0.0.0.0'))
  t.notOk(isLoopbackHost('192.168.1.5'))

  const want = (setting: string | undefined, over: Partial<{ smtp: boolean, host: string, production: boolean }> = {}): boolean =>
    devInboxWanted({ setting, smtp: false, host: '127.0.0.1', production: false, ...over })
  t.equal(want(undefined), true)
  t.equal(want(''), true, 'blank is unset')
  t.equal(want(undefined, { smtp: true }), false)
  t.equal(want(undefined, { host: '0.0.0.0' }), false)
  t.equal(want(undefined, { production: true }), false)
  t.equal(want('FALSE'), false)
  t.equal(want('false', { production: true, host: '0.0.0.0' }), false)
  t.equal(want('true', { smtp: true }), true, 'the inbox wins over EMAIL_*')
  t.throws(() => want('true', { production: true }), /EMAIL_DEV_INBOX=true is refused when NODE_ENV=production/)
  t.throws(() => want('true', { host: '10.0.0.5' }), /needs a loopback HOST/)
})

t.test('the inbox keeps the newest mails, bounded; the page escapes and links', async t => {
  let clock = 0
  const inbox = devInbox({ max: 3, now: () => new Date(Date.UTC(2030, 0, 1, 0, 0, clock++)) })
  for (let i = 1; i <= 5; i++) await inbox.send({ to: { address: `u${i}@example.com` }, subject: `mail ${i}`, text: `Open https://x.example/a?i=${i}&b=2. Or (https://x.example/b).`, html: '' })
  const mails = inbox.mails()
  t.same(mails.map(m => m.subject), ['mail 5', 'mail 4', 'mail 3'])
  t.same(mails[0]?.links, ['https://x.example/a?i=5&b=2', 'https://x.example/b'], 'closing punctuation is not part of a link')
  mails[0]?.links.push('changed')
  t.equal(inbox.mails()[0]?.links.length, 2, 'callers get copies')

  t.same(splitLinks('a http://h/"onmouseover=x b'), [{ text: 'a ', link: false }, { text: 'http://h/', link: true }, { text: '"onmouseover=x b', link: false }])
  const page = inboxPage([{ to: '"x"@example.com', subject: '<b>hi</b>', text: 'go: http://h/p?a=1&b=<2>', html: '<script>x</script>', links: [], at: '2030-01-01T00:00:00.000Z' }], 3)
  t.match(page, '<h2>&lt;b&gt;hi&lt;/b&gt;</h2>')
  t.match(page, '&quot;x&quot;@example.com')
  t.match(page, '<a href="http://h/p?a=1&amp;b=">http://h/p?a=1&amp;b=</a>&lt;2&gt;')
  t.notMatch(page, '<script>', 'the mail\'s HTML part is never rendered')
  t.match(inboxPage([], 3), 'No mail yet.')
})
