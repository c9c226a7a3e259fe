import t from 'tap'
import { memoryBanStore, memoryMailer, type Mailer } from '../../index.ts'
import { smtpMailer } from '../../lib/adapters/nodemailer/index.ts'
import { type MailLog, mailService } from '../../lib/mail/mail-service.ts'
import { type MailKind, type MailVars, renderMail } from '../../lib/mail/templates.ts'
import { startSmtp } from '../helpers/smtp.ts'

const KINDS: MailKind[] = ['verifyEmail', 'resetRequest', 'resetDone', 'passwordChanged', 'registrationAttempt', 'identityLinked', 'identityUnlinked']
const SCRIPT = '<script>alert(1)</script>'

const vars = (overrides: Partial<MailVars> = {}): MailVars => ({
  appTitle: 'Acme Chat',
  name: 'Alice Liddell',
  email: 'alice@example.test',
  link: 'https://chat.example.test/reset-password?token=abc&userId=u1',
  validMinutes: 15,
  ...overrides
})

/** A logger that keeps what it was given. */
/** What a caller queues: no app title (the service's) and, here, no name (the recipient's stands in). */
const queued = { email: 'alice@example.test', link: 'https://chat.example.test/reset-password?token=abc&userId=u1', validMinutes: 15 }

function recordingLog (): MailLog & { warnings: Array<Record<string, unknown>>, errors: Array<Record<string, unknown>> } {
  const warnings: Array<Record<string, unknown>> = []
  const errors: Array<Record<string, unknown>> = []
  return {
    warnings,
    errors,
    warn: (obj) => { warnings.push(obj as Record<string, unknown>) },
    error: (obj) => { errors.push(obj as Record<string, unknown>) }
  }
}

function movableClock (): { now: () => Date, advance: (ms: number) => void } {
  let at = Date.parse('2026-01-01T00:00:00Z')
  return { now: () => new Date(at), advance: ms => { at += ms } }
}

t.test('templates escape user values in HTML and keep them raw in text', async t => {
  for (const kind of KINDS) {
    const mail = renderMail(kind, vars({ name: SCRIPT }))
    t.notOk(mail.html.includes('<script>'), `${kind}: no live script tag in html`)
    t.ok(mail.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), `${kind}: escaped in html`)
    t.ok(mail.text.includes(SCRIPT), `${kind}: raw in text`)
  }
  const quoted = renderMail('resetRequest', vars({ link: 'https://chat.example.test/x?a=1&b="2"' }))
  t.ok(quoted.html.includes('href="https://chat.example.test/x?a=1&amp;b=&quot;2&quot;"'), 'a link cannot break out of its attribute')
})

t.test('the link notices name the provider; a template that asks for a provider a mail lacks gets nothing', async t => {
  t.equal(renderMail('identityLinked', vars({ provider: 'github' })).subject, 'A github sign-in was added to your Acme Chat account')
  t.match(renderMail('identityUnlinked', vars({ provider: '<b>x</b>' })).html, '&lt;b&gt;x&lt;/b&gt;')
  t.equal(renderMail('verifyEmail', vars(), { subject: 'Verify [{{provider}}]' }).subject, 'Verify []')
})

t.test('templates name the app and carry the link', async t => {
  for (const kind of KINDS) {
    const mail = renderMail(kind, vars())
    t.match(mail.subject, 'Acme Chat', `${kind}: subject`)
    t.match(mail.text, 'Acme Chat', `${kind}: text`)
    t.match(mail.html, 'Acme Chat', `${kind}: html`)
    t.match(mail.text, vars().link, `${kind}: link in text`)
    t.match(mail.html, 'href="https://chat.example.test/reset-password?token=abc&amp;userId=u1"', `${kind}: link in html`)
    t.notMatch(mail.text + mail.html, '{{', `${kind}: nothing left unfilled`)
  }
  t.match(renderMail('verifyEmail', vars({ validMinutes: 1440 })).text, 'valid for 1440 minutes')
})

t.test('subjects never span lines', async t => {
  const hostile = vars({ appTitle: 'Acme\r\nBcc: evil@example.test', name: 'x\nBcc: evil@example.test' })
  for (const kind of KINDS) {
    t.notMatch(renderMail(kind, hostile).subject, /[\r\n]/, `${kind}: built-in subject`)
    t.notMatch(renderMail(kind, hostile, { subject: 'Hi {{name}} from {{appTitle}}' }).subject, /[\r\n]/, `${kind}: template string`)
    t.notMatch(renderMail(kind, hostile, () => ({ subject: 'line one\r\nline two\n', text: 't', html: 'h' })).subject, /[\r\n]/, `${kind}: function`)
  }
})

t.test('a host override replaces the text: template strings and functions', async t => {
  const strings = renderMail('resetRequest', vars({ name: SCRIPT }), { subject: 'Password help for {{name}}', html: '<b>{{name}}</b> <a href="{{link}}">go</a>' })
  t.equal(strings.subject, `Password help for ${SCRIPT}`, 'the subject is replaced (plain text)')
  t.equal(strings.html, '<b>&lt;script&gt;alert(1)&lt;/script&gt;</b> <a href="https://chat.example.test/reset-password?token=abc&amp;userId=u1">go</a>', 'values escaped in an html template')
  t.equal(strings.text, renderMail('resetRequest', vars({ name: SCRIPT })).text, 'a field left out keeps the built-in text')

  const seen: MailVars[] = []
  const fn = renderMail('verifyEmail', vars(), v => {
    seen.push(v)
    return { subject: `Welcome to ${v.appTitle}`, text: `Click ${v.link}`, html: `<p>${v.link}</p>` }
  })
  t.same(seen, [vars()], 'the function gets the variables')
  t.same(fn, { subject: 'Welcome to Acme Chat', text: `Click ${vars().link}`, html: `<p>${vars().link}</p>` })
})

t.test('the service sends after the caller returns, and idle() waits for all of it', async t => {
  const mailer = memoryMailer()
  const clock = movableClock()
  const mail = mailService({ mailer, appTitle: 'Acme Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now: clock.now, log: recordingLog(), store: memoryBanStore(), subjectOf: String })
  mail.queue('verifyEmail', { address: 'alice@example.test', name: 'Alice' }, queued)
  mail.queue('resetRequest', { address: 'bob@example.test' }, queued)
  t.equal(mailer.outbox.length, 0, 'nothing is sent while the caller runs')
  await mail.idle()
  t.equal(mailer.outbox.length, 2)
  t.same(mailer.outbox.map(m => m.to), [{ address: 'alice@example.test', name: 'Alice' }, { address: 'bob@example.test' }])
  t.match(mailer.outbox[0]?.subject, /^Verify your email for Acme Chat$/)
  t.match(mailer.outbox[1]?.text, 'Hello bob@example.test', 'the address stands in for a missing name')
})

t.test('idle() waits for a real SMTP delivery', async t => {
  const smtp = await startSmtp()
  t.teardown(() => smtp.close())
  const mailer = smtpMailer({ host: '127.0.0.1', port: smtp.port, from: 'noreply@example.test', timeoutMs: 3000 })
  t.teardown(() => mailer.close())
  const mail = mailService({ mailer, appTitle: 'Acme Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now: () => new Date(), log: recordingLog(), store: memoryBanStore(), subjectOf: String })
  for (const address of ['a@example.test', 'b@example.test', 'c@example.test']) mail.queue('resetDone', { address }, queued)
  await mail.idle()
  t.same(smtp.messages.map(m => m.envelope.to).flat().sort(), ['a@example.test', 'b@example.test', 'c@example.test'], 'every queued mail arrived before idle() resolved')
  t.equal(smtp.messages[0]?.parsed.subject, 'Your Acme Chat password was reset')
  await t.resolves(mail.idle(), 'idle() with nothing queued resolves')
})

t.test('the service limits each (kind, recipient) within the window, silently, and allows again after it', async t => {
  const mailer = memoryMailer()
  const clock = movableClock()
  const log = recordingLog()
  const mail = mailService({ mailer, appTitle: 'Acme Chat', templates: {}, perRecipient: { max: 2, windowMs: 60_000 }, now: clock.now, log, store: memoryBanStore(), subjectOf: String })
  const alice = { address: 'alice@example.test' }
  const sent = async (): Promise<number> => {
    await mail.idle()
    return mailer.outbox.length
  }

  // The count is taken when the mail goes out, after the request: each step waits for it.
  mail.queue('resetRequest', alice, queued)
  t.equal(await sent(), 1)
  clock.advance(10_000)
  mail.queue('resetRequest', alice, queued)
  mail.queue('resetRequest', alice, queued)
  mail.queue('resetRequest', alice, queued)
  t.equal(await sent(), 2, 'two per window')
  t.same(log.warnings.map(w => w.event), ['lcauth.mail_throttled', 'lcauth.mail_throttled'], 'a dropped mail is logged')
  t.notOk(JSON.stringify(log.warnings).includes('alice@example.test'), 'without the address')

  mail.queue('verifyEmail', alice, queued)
  mail.queue('resetRequest', { address: 'bob@example.test' }, queued)
  t.equal(await sent(), 4, 'another kind, or another recipient, has its own count')

  clock.advance(49_999) // still inside the window that opened with the first mail
  mail.queue('resetRequest', alice, queued)
  t.equal(await sent(), 4, 'nothing more in this window')
  clock.advance(2) // a new window
  mail.queue('resetRequest', alice, queued)
  mail.queue('resetRequest', alice, queued)
  mail.queue('resetRequest', alice, queued)
  t.equal(await sent(), 6, 'after the window, allowed again, two per window')
  t.equal(mailer.outbox.filter(m => m.to.address === 'alice@example.test' && /^Reset/.test(m.subject)).length, 4)
})

t.test('a mailer that rejects: logged, and onFailure runs', async t => {
  const failing: Mailer = { send: async () => { throw new Error('smtp refused: 554') }, close: async () => {} }
  const log = recordingLog()
  const mail = mailService({ mailer: failing, appTitle: 'Acme Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now: () => new Date(), log, store: memoryBanStore(), subjectOf: String })
  let cleaned = 0
  const failingMail = (address: string, onFailure: () => Promise<void>) => async () => ({ to: { address }, vars: queued, onFailure })
  mail.compose('resetRequest', 'alice@example.test', failingMail('alice@example.test', async () => { cleaned++ }))
  t.equal(cleaned, 0)
  await mail.idle()
  t.equal(cleaned, 1, 'onFailure ran')
  t.equal(log.errors.length, 1)
  t.equal(log.errors[0]?.event, 'lcauth.mail_failed')
  t.equal(log.errors[0]?.kind, 'resetRequest')
  t.match((log.errors[0]?.err as Error).message, 'smtp refused')
  t.notOk(JSON.stringify(log.errors).includes('token=abc'), 'the link is not logged')

  mail.compose('resetRequest', 'bob@example.test', failingMail('bob@example.test', async () => { throw new Error('store down') }))
  await t.resolves(mail.idle(), 'a failing cleanup does not escape')
  t.same(log.errors.map(e => e.event), ['lcauth.mail_failed', 'lcauth.mail_failed', 'lcauth.mail_cleanup_failed'])
})

t.test('the service uses the host templates and the app title', async t => {
  const mailer = memoryMailer()
  const mail = mailService({
    mailer,
    appTitle: 'Acme Chat',
    templates: { passwordChanged: { subject: '{{appTitle}}: new password for {{name}}' }, resetDone: v => ({ subject: 'done', text: v.email, html: `<i>${v.email}</i>` }) },
    perRecipient: { max: 3, windowMs: 60_000 },
    now: () => new Date(),
    log: recordingLog(),
    store: memoryBanStore(),
    subjectOf: String
  })
  mail.queue('passwordChanged', { address: 'alice@example.test', name: 'Alice' }, queued)
  mail.queue('resetDone', { address: 'alice@example.test' }, queued)
  const withTitle = { ...queued, appTitle: 'ignored' } // a caller cannot override the app title
  mail.queue('verifyEmail', { address: 'alice@example.test' }, withTitle)
  await mail.idle()
  t.equal(mailer.outbox[0]?.subject, 'Acme Chat: new password for Alice')
  t.same(mailer.outbox[1], { to: { address: 'alice@example.test' }, subject: 'done', text: 'alice@example.test', html: '<i>alice@example.test</i>' })
  t.equal(mailer.outbox[2]?.subject, 'Verify your email for Acme Chat', 'the service\'s app title wins')
})

t.test('instances sharing one store share each recipient\'s count, which never holds the address', async t => {
  const store = memoryBanStore()
  const keys: string[] = []
  const shared = { hit: (key: string, windowMs: number, now: Date) => { keys.push(key); return store.hit(key, windowMs, now) } }
  const subjectOf = (address: string): string => `h(${address.length})`
  const mailer = memoryMailer()
  const instance = () => mailService({ mailer, appTitle: 'Acme', templates: {}, perRecipient: { max: 2, windowMs: 60_000 }, now: () => new Date(1_000_000), log: recordingLog(), store: shared, subjectOf })
  const instances = [instance(), instance(), instance()]
  for (const mail of instances) mail.queue('verifyEmail', { address: 'alice@example.test' }, queued)
  await Promise.all(instances.map(mail => mail.idle()))
  t.equal(mailer.outbox.length, 2, 'two in all, not two each')
  instances[0]?.queue('resetRequest', { address: 'alice@example.test' }, queued)
  await instances[0]?.idle()
  t.equal(mailer.outbox.length, 3, 'another kind counts apart')
  t.notOk(keys.some(key => key.includes('alice')), 'keys carry the keyed hash, never the address')
})

t.test('compose: reserve, then prepare, then send, all after the caller returns; a throttled mail prepares nothing', async t => {
  const mailer = memoryMailer()
  const log = recordingLog()
  const mail = mailService({ mailer, appTitle: 'Acme Chat', templates: {}, perRecipient: { max: 1, windowMs: 60_000 }, now: () => new Date(1_000_000), log, store: memoryBanStore(), subjectOf: String })
  const steps: string[] = []
  const prepare = (label: string) => async () => {
    steps.push(label)
    return { to: { address: 'alice@example.test' }, vars: queued }
  }
  mail.compose('resetRequest', 'alice@example.test', prepare('first'))
  t.same(steps, [], 'nothing is prepared while the caller runs')
  await mail.idle()
  t.same(steps, ['first'])
  t.equal(mailer.outbox.length, 1)
  mail.compose('resetRequest', 'alice@example.test', prepare('throttled'))
  await mail.idle()
  t.same(steps, ['first'], 'a throttled mail never prepares (so it writes nothing)')
  t.equal(mailer.outbox.length, 1)

  let undone = 0
  mail.compose('resetDone', 'bob@example.test', async () => { throw new Error('storage down') })
  const refused = mailService({ mailer: { send: async () => { throw new Error('smtp refused') }, close: async () => {} }, appTitle: 'Acme Chat', templates: {}, perRecipient: { max: 3, windowMs: 60_000 }, now: () => new Date(), log, store: memoryBanStore(), subjectOf: String })
  refused.compose('resetRequest', 'bob@example.test', async () => ({ to: { address: 'bob@example.test' }, vars: queued, onFailure: async () => { undone++ } }))
  await Promise.all([mail.idle(), refused.idle()])
  t.equal(undone, 1, 'a refused mail runs the onFailure its preparation returned')
  t.same(log.errors.map(e => e.event), ['lcauth.mail_failed', 'lcauth.mail_failed'], 'a failed preparation is logged like a failed send')
})
