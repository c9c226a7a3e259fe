import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t, { type Test } from 'tap'
import { smtpMailer, smtpOptionsFromEnv, type SmtpMailerOptions } from '../../lib/adapters/nodemailer/index.ts'
import { transportOptions } from '../../lib/adapters/nodemailer/nodemailer-mailer.ts'
import { SmtpDeadlineError, smtpFailure } from '../../lib/adapters/nodemailer/smtp-failure.ts'
import type { MailMessage, Mailer } from '../../lib/ports/mailer.ts'
import { mailerConformance } from '../conformance/mailer.ts'
import type { TestFn } from '../conformance/types.ts'
import { certificateFor, startSmtp, type SmtpServerOptions, type TestSmtpServer } from '../helpers/smtp.ts'

const FROM = 'noreply@example.test'
const FROM_NAME = 'LibreChat Test'
const USERNAME = 'mailer@example.test'
const PASSWORD = 'S3cret-SMTP-pa55word!'
const HOSTNAME = 'mail.test.local'

// One self-signed certificate (issued for HOSTNAME) for every TLS server in this file.
const certificate = await certificateFor(HOSTNAME)

async function serve (t: Test, options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const server = await startSmtp(options)
  t.teardown(() => server.close())
  return server
}

function mailerFor (t: Test, server: { port: number }, options: Partial<SmtpMailerOptions> = {}): Mailer {
  const mailer = smtpMailer({ host: '127.0.0.1', port: server.port, from: FROM, fromName: FROM_NAME, timeoutMs: 3000, ...options })
  t.teardown(() => mailer.close())
  return mailer
}

function message (overrides: Partial<MailMessage> = {}): MailMessage {
  return {
    to: { address: 'alice@example.test', name: 'Alice Example' },
    subject: 'Reset your password',
    text: 'Open https://chat.example.test/reset-password?token=abc to reset your password.',
    html: '<p>Open <a href="https://chat.example.test/reset-password?token=abc">this link</a> to reset your password.</p>',
    ...overrides
  }
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection (promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    if (error instanceof Error) return error
    throw new Error('rejected with a non-Error', { cause: error })
  }
  throw new Error('expected a rejection, the promise resolved')
}

const code = (error: Error): unknown => (error.cause as { code?: unknown } | undefined)?.code

t.test('plain SMTP with AUTH: the message arrives with a structured From and To, both bodies and the envelope', async t => {
  const server = await serve(t, { auth: { username: USERNAME, password: PASSWORD } })
  const mailer = mailerFor(t, server, { username: USERNAME, password: PASSWORD })
  t.equal(await mailer.send(message()), undefined)
  t.equal(server.messages.length, 1)
  const [mail] = server.messages
  t.same(mail?.envelope, { from: FROM, to: ['alice@example.test'] })
  t.equal(mail?.user, USERNAME, 'the mailer authenticated')
  t.equal(mail?.secure, false)
  t.equal(mail?.parsed.from?.text, `"${FROM_NAME}" <${FROM}>`)
  t.same(mail?.parsed.from?.value, [{ name: FROM_NAME, address: FROM }])
  t.same(Array.isArray(mail?.parsed.to) ? [] : mail?.parsed.to?.value, [{ name: 'Alice Example', address: 'alice@example.test' }])
  t.equal(mail?.parsed.subject, 'Reset your password')
  t.equal(mail?.parsed.text?.trim(), message().text)
  t.equal(typeof mail?.parsed.html === 'string' ? mail.parsed.html.trim() : mail?.parsed.html, message().html)
})

t.test('without a fromName the From header is the bare address', async t => {
  const server = await serve(t)
  const mailer = smtpMailer({ host: '127.0.0.1', port: server.port, from: FROM })
  t.teardown(() => mailer.close())
  await mailer.send(message({ to: { address: 'bob@example.test' } }))
  t.same(server.messages[0]?.parsed.from?.value, [{ name: '', address: FROM }])
  t.same(server.inbox()[0]?.to, { address: 'bob@example.test' })
})

t.test('wrong credentials: an authentication failure that never contains the password', async t => {
  const server = await serve(t, { auth: { username: USERNAME, password: PASSWORD } })
  const mailer = mailerFor(t, server, { username: USERNAME, password: 'wrong-Pa55word-here' })
  const error = await rejection(mailer.send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: authentication failed (server replied 535)`)
  t.equal(code(error), 'EAUTH', 'the nodemailer error is the cause')
  for (const secret of ['wrong-Pa55word-here', PASSWORD]) {
    t.notOk(error.message.includes(secret))
    t.notOk(String((error.cause as Error).message).includes(secret))
  }
  t.equal(server.messages.length, 0)
})

t.test('a server that requires AUTH, and a mailer without credentials: rejected, named', async t => {
  const server = await serve(t, { auth: { username: USERNAME, password: PASSWORD } })
  const error = await rejection(mailerFor(t, server).send(message()))
  t.match(error.message, /failed: sender rejected \(server replied 530\)$/)
})

t.test('implicit TLS with a self-signed certificate: refused by default, accepted with allowSelfSigned', async t => {
  const server = await serve(t, { tls: 'implicit', certificate })
  const strict = mailerFor(t, server, { encryption: 'tls' })
  const error = await rejection(strict.send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: TLS certificate not accepted (DEPTH_ZERO_SELF_SIGNED_CERT)`)
  t.equal(server.messages.length, 0)

  await mailerFor(t, server, { encryption: 'tls', allowSelfSigned: true }).send(message())
  t.equal(server.messages.length, 1)
  t.equal(server.messages[0]?.secure, true)
})

t.test('implicit TLS against a server that speaks plain SMTP: a TLS failure, not a hang', async t => {
  const server = await serve(t)
  const error = await rejection(mailerFor(t, server, { encryption: 'tls', allowSelfSigned: true }).send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: TLS negotiation failed`)
  t.equal((error.cause as { originalCode?: unknown }).originalCode, 'ERR_SSL_WRONG_VERSION_NUMBER')
  t.equal(server.messages.length, 0)
})

t.test('starttls: the upgrade is required and happens; a self-signed certificate needs allowSelfSigned', async t => {
  const server = await serve(t, { tls: 'starttls', certificate, auth: { username: USERNAME, password: PASSWORD } })
  const strict = mailerFor(t, server, { encryption: 'starttls', username: USERNAME, password: PASSWORD })
  t.match((await rejection(strict.send(message()))).message, /TLS certificate not accepted \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/)
  await mailerFor(t, server, { encryption: 'starttls', allowSelfSigned: true, username: USERNAME, password: PASSWORD }).send(message())
  t.equal(server.messages.length, 1)
  t.equal(server.messages[0]?.secure, true, 'delivered over the upgraded connection')
  t.equal(server.messages[0]?.user, USERNAME)
})

t.test('starttls against a server that does not offer STARTTLS: refused, nothing delivered, no credentials sent', async t => {
  const server = await serve(t, { tls: 'none', auth: { username: USERNAME, password: PASSWORD } })
  const mailer = mailerFor(t, server, { encryption: 'starttls', allowSelfSigned: true, username: USERNAME, password: PASSWORD })
  const error = await rejection(mailer.send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: TLS negotiation failed: the server does not allow STARTTLS (server replied 500)`)
  t.equal(code(error), 'ETLS')
  t.equal(server.messages.length, 0)
})

t.test('starttls against a server that accepts STARTTLS without announcing it: upgraded anyway; opportunistic stays plain', async t => {
  const server = await serve(t, { tls: 'starttls-hidden', certificate })
  await mailerFor(t, server, { encryption: 'starttls', allowSelfSigned: true }).send(message({ subject: 'required' }))
  await mailerFor(t, server, { allowSelfSigned: true }).send(message({ subject: 'opportunistic' }))
  t.same(server.messages.map(m => [m.parsed.subject, m.secure]), [['required', true], ['opportunistic', false]])
})

t.test('opportunistic: plain when the server has no STARTTLS, upgraded when it has one', async t => {
  const plain = await serve(t, { tls: 'none' })
  await mailerFor(t, plain).send(message())
  t.equal(plain.messages[0]?.secure, false)

  const offering = await serve(t, { tls: 'starttls', certificate })
  await mailerFor(t, offering, { allowSelfSigned: true }).send(message())
  t.equal(offering.messages[0]?.secure, true)
})

t.test('opportunistic never falls back to plain over a certificate it does not accept', async t => {
  const server = await serve(t, { tls: 'starttls', certificate })
  const error = await rejection(mailerFor(t, server).send(message()))
  t.match(error.message, /TLS certificate not accepted/)
  t.equal(server.messages.length, 0)
})

t.test('encryptionHostname is the name sent as SNI and checked; allowSelfSigned false still checks the certificate', async t => {
  const server = await serve(t, { tls: 'implicit', certificate })
  const error = await rejection(mailerFor(t, server, { encryption: 'tls', encryptionHostname: HOSTNAME }).send(message()))
  t.match(error.message, /TLS certificate not accepted \(DEPTH_ZERO_SELF_SIGNED_CERT\)$/)
  t.same(server.servernames, [HOSTNAME], 'the server saw the SNI name')

  await mailerFor(t, server, { encryption: 'tls', encryptionHostname: HOSTNAME, allowSelfSigned: true }).send(message())
  t.equal(server.messages[0]?.servername, HOSTNAME)

  await mailerFor(t, server, { encryption: 'tls', allowSelfSigned: true }).send(message())
  t.equal(server.messages[1]?.servername, null, 'no SNI for a bare IP address without encryptionHostname')
})

t.test('encryptionHostname with a trusted CA: the certificate name is really checked (child process trusting the CA)', async t => {
  const issued = await certificateFor(HOSTNAME, true)
  const server = await serve(t, { tls: 'implicit', certificate: issued })
  const dir = mkdtempSync(join(tmpdir(), 'lcauth-smtp-ca-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const caFile = join(dir, 'ca.pem')
  writeFileSync(caFile, issued.ca)
  const entry = fileURLToPath(new URL('../../lib/adapters/nodemailer/index.ts', import.meta.url))
  // NODE_EXTRA_CA_CERTS is read once at process start, so a child process is the only way to trust
  // the test CA through the options a deployment has (no CA option exists, by design).
  const script = `
    import { smtpMailer } from ${JSON.stringify(entry)}
    const results = []
    for (const name of ${JSON.stringify([HOSTNAME, null, 'other.test.local'])}) {
      const mailer = smtpMailer({ host: '127.0.0.1', port: ${server.port}, encryption: 'tls', from: 'noreply@example.test', timeoutMs: 3000, ...(name ? { encryptionHostname: name } : {}) })
      try {
        await mailer.send({ to: { address: 'alice@example.test' }, subject: 'CA', text: 'text', html: '<p>html</p>' })
        results.push('delivered')
      } catch (error) {
        results.push(error.message.replace(/^.*failed: /, ''))
      }
      await mailer.close()
    }
    console.log(JSON.stringify(results))
  `
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
    // The child compiles the sources with its own loader: its coverage would not map onto this
    // process's (tap merges both), so tap's per-process coverage is switched off for it.
    env: { PATH: process.env.PATH ?? '', NODE_EXTRA_CA_CERTS: caFile, _TAPJS_PROCESSINFO_COVERAGE_: '0' },
    timeout: 15_000
  })
  t.same(JSON.parse(stdout), [
    'delivered',
    'TLS certificate not accepted (ERR_TLS_CERT_ALTNAME_INVALID)',
    'TLS certificate not accepted (ERR_TLS_CERT_ALTNAME_INVALID)'
  ])
  t.equal(server.messages.length, 1)
  t.equal(server.messages[0]?.servername, HOSTNAME)
})

t.test('a server that drops the connection mid-session: a clear error, nothing delivered, and the pool recovers', async t => {
  const server = await serve(t, { behaviour: 'drop' })
  const mailer = mailerFor(t, server)
  const error = await rejection(mailer.send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: connection lost (closed unexpectedly)`)
  t.equal(code(error), 'ECONNECTION')
  t.equal(server.messages.length, 0)
  server.behaviour = 'deliver'
  await mailer.send(message({ subject: 'after the drop' }))
  t.same(server.messages.map(m => m.parsed.subject), ['after the drop'])
})

t.test('connection refused while the server is down; the same mailer delivers once it is back', async t => {
  const first = await startSmtp()
  const port = first.port
  await first.close()
  const mailer = mailerFor(t, { port })
  t.equal((await rejection(mailer.send(message()))).message, `SMTP send to 127.0.0.1:${port} failed: connection refused`)
  t.equal((await rejection(mailer.verify?.() ?? Promise.resolve())).message, `SMTP verify to 127.0.0.1:${port} failed: connection refused`)
  const back = await serve(t, { port })
  await mailer.send(message())
  t.equal(back.messages.length, 1)
})

t.test('a server that never answers: rejected within the phase timeout', async t => {
  const server = await serve(t, { behaviour: 'silent' })
  const started = Date.now()
  const error = await rejection(mailerFor(t, server, { timeoutMs: 200 }).send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: timed out at CONN`)
  t.equal(code(error), 'ETIMEDOUT')
  t.ok(Date.now() - started < 2000, 'well before any default timeout')
})

t.test('the overall send deadline: rejected after sendTimeoutMs even when each phase may take longer', async t => {
  const server = await serve(t, { behaviour: 'silent' })
  const started = Date.now()
  const error = await rejection(mailerFor(t, server, { timeoutMs: 5000, sendTimeoutMs: 150 }).send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: timed out after 150 ms`)
  t.ok(error.cause instanceof SmtpDeadlineError)
  t.ok(Date.now() - started < 1500)
})

t.test('verify: resolves against a working server (with AUTH), rejects naming the failure', async t => {
  const server = await serve(t, { auth: { username: USERNAME, password: PASSWORD } })
  t.equal(await mailerFor(t, server, { username: USERNAME, password: PASSWORD }).verify?.(), undefined)
  const bad = await rejection(mailerFor(t, server, { username: USERNAME, password: 'not-the-Pa55word' }).verify?.() ?? Promise.resolve())
  t.equal(bad.message, `SMTP verify to 127.0.0.1:${server.port} failed: authentication failed (server replied 535)`)
  t.notOk(bad.message.includes('not-the-Pa55word'))

  const silent = await serve(t, { behaviour: 'silent' })
  const slow = await rejection(mailerFor(t, silent, { timeoutMs: 150 }).verify?.() ?? Promise.resolve())
  t.match(slow.message, /^SMTP verify to .* failed: timed out/)
  t.equal(server.messages.length, 0, 'verify sends nothing')
})

t.test('a recipient the server rejects: named, without the address', async t => {
  const server = await serve(t, { behaviour: 'rejectRecipients' })
  const error = await rejection(mailerFor(t, server).send(message()))
  t.equal(error.message, `SMTP send to 127.0.0.1:${server.port} failed: recipient rejected (server replied 550)`)
  t.notOk(error.message.includes('alice@example.test'))
})

t.test('a display name with commas, quotes and <evil@x> never adds a recipient', async t => {
  const server = await serve(t)
  const name = 'Eve "Admin", <evil@x.test>; Bcc: other@evil.test, =?utf-8?q?x?= \r\nBcc: third@evil.test'
  await mailerFor(t, server).send(message({ to: { address: 'alice@example.test', name } }))
  t.same(server.messages[0]?.envelope.to, ['alice@example.test'], 'the SMTP envelope has the one real recipient')
  const to = server.messages[0]?.parsed.to
  t.same(Array.isArray(to) ? [] : to?.value.map(a => a.address), ['alice@example.test'], 'the To header has one address')
  t.equal(server.messages[0]?.parsed.headers.has('bcc'), false)
})

t.test('an address that is not one plain address is refused before it reaches the server', async t => {
  const server = await serve(t)
  const mailer = mailerFor(t, server)
  for (const address of ['alice@example.test, eve@evil.test', 'Eve <eve@evil.test>', 'alice@example.test\r\nBcc: eve@evil.test', 'no-at-sign', '']) {
    const error = await rejection(mailer.send(message({ to: { address } })))
    t.equal(error.message, 'SMTP send refused: the recipient is not a single plain email address')
  }
  t.equal(server.messages.length, 0)
})

t.test('close() ends the pool: its connections close and later calls are refused', async t => {
  const server = await serve(t)
  const mailer = smtpMailer({ host: '127.0.0.1', port: server.port, from: FROM })
  await mailer.send(message())
  t.equal(server.connections(), 1, 'the pool keeps its connection open between messages')
  t.equal(await mailer.close(), undefined)
  for (let i = 0; i < 50 && server.connections() > 0; i++) await new Promise(resolve => setTimeout(resolve, 10))
  t.equal(server.connections(), 0, 'closed')
  t.equal((await rejection(mailer.send(message()))).message, 'SMTP send refused: the mailer is closed')
  t.equal((await rejection(mailer.verify?.() ?? Promise.resolve())).message, 'SMTP verify refused: the mailer is closed')
  await mailer.close()
})

t.test('the Mailer conformance suite, through a real SMTP server', async t => {
  const server = await serve(t, { auth: { username: USERNAME, password: PASSWORD } })
  const test: TestFn = (name, fn) => t.test(name, async () => { await fn() })
  mailerConformance(test, async () => {
    server.messages.length = 0
    return smtpMailer({ host: '127.0.0.1', port: server.port, from: FROM, fromName: FROM_NAME, username: USERNAME, password: PASSWORD })
  }, async () => server.inbox())
})

t.test('transport options: exactly what each mailer option asks of nodemailer', async t => {
  const base = { host: 'smtp.example.test', from: FROM }
  const common = { pool: true, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 10_000, logger: false }
  t.same(transportOptions(base), { ...common, host: 'smtp.example.test', port: 25, tls: { rejectUnauthorized: true } })
  t.same(transportOptions({ ...base, port: 465, encryption: 'tls' }), { ...common, host: 'smtp.example.test', port: 465, secure: true, tls: { rejectUnauthorized: true } })
  t.same(transportOptions({ ...base, port: 587, encryption: 'starttls', encryptionHostname: HOSTNAME, allowSelfSigned: true, username: USERNAME, password: PASSWORD, timeoutMs: 1234 }), {
    pool: true,
    host: 'smtp.example.test',
    port: 587,
    requireTLS: true,
    tls: { rejectUnauthorized: false, servername: HOSTNAME },
    auth: { user: USERNAME, pass: PASSWORD },
    connectionTimeout: 1234,
    greetingTimeout: 1234,
    socketTimeout: 1234,
    logger: false
  })
  const opportunistic = transportOptions({ ...base, encryption: 'opportunistic' })
  t.notOk('secure' in opportunistic || 'requireTLS' in opportunistic || 'ignoreTLS' in opportunistic, 'opportunistic sets neither')
  t.same(transportOptions({ service: 'gmail', host: 'ignored.example.test', port: 2525, from: FROM }), { ...common, service: 'gmail', tls: { rejectUnauthorized: true } })
})

t.test('smtpMailer refuses options it cannot use, naming the option', async t => {
  const base: SmtpMailerOptions = { host: '127.0.0.1', from: FROM }
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ host: '' }, 'mailer needs a service (such as gmail) or a host'],
    [{ port: 0 }, 'mailer.port must be an integer from 1 to 65535'],
    [{ port: 65536 }, 'mailer.port must be an integer from 1 to 65535'],
    [{ port: 25.5 }, 'mailer.port must be an integer from 1 to 65535'],
    [{ encryption: 'ssl' }, 'mailer.encryption must be tls, starttls or opportunistic'],
    [{ username: USERNAME }, 'mailer.password is required with the other credential (or leave out both)'],
    [{ password: PASSWORD }, 'mailer.username is required with the other credential (or leave out both)'],
    [{ from: 'LibreChat <noreply@example.test>' }, 'mailer.from must be a plain email address such as noreply@example.com'],
    [{ from: undefined }, 'mailer.from must be a plain email address such as noreply@example.com'],
    [{ timeoutMs: 0 }, 'mailer.timeoutMs must be a positive whole number of milliseconds'],
    [{ sendTimeoutMs: 1.5 }, 'mailer.sendTimeoutMs must be a positive whole number of milliseconds']
  ]
  for (const [overrides, problem] of cases) {
    t.throws(() => smtpMailer({ ...base, ...overrides } as unknown as SmtpMailerOptions), { code: 'FST_LCAUTH_CONFIG_INVALID', message: `Invalid librechat-auth configuration: ${problem}` }, problem)
  }
  const error = ((): unknown => { try { smtpMailer({ ...base, password: PASSWORD }) } catch (e) { return e } })()
  t.notOk(String((error as Error).message).includes(PASSWORD))
  const service = smtpMailer({ service: 'gmail', from: FROM })
  await service.close()
})

t.test('smtpFailure names failures a local server cannot easily produce, from codes only', async t => {
  const cases: Array<[unknown, string]> = [
    [{ code: 'EMESSAGE', response: '552 Message too big for alice@example.test' }, 'message rejected (server replied 552)'],
    [{ code: 'ENOAUTH' }, 'authentication failed'],
    [{ code: 'EENVELOPE', command: 'MAIL FROM', response: '553 sender alice@example.test not allowed' }, 'sender rejected (server replied 553)'],
    [{ code: 'ETIMEDOUT' }, 'timed out'],
    [{ code: 'ETIMEDOUT', command: 'alice@example.test' }, 'timed out'],
    [{ code: 'ECONNECTION' }, 'connection lost (closed unexpectedly)'],
    [{ code: 'ESOCKET', originalCode: 'ECONNRESET' }, 'connection lost (ECONNRESET)'],
    [{ code: 'ESOCKET', originalCode: 'EPROTO' }, 'TLS negotiation failed'],
    [{ code: 'ESOCKET', originalCode: 'CERT_HAS_EXPIRED' }, 'TLS certificate not accepted (CERT_HAS_EXPIRED)'],
    [{ code: 'EPROTOCOL', response: 'garbage' }, 'EPROTOCOL'],
    [new Error('something odd'), 'unexpected error'],
    ['a string', 'unexpected error'],
    [null, 'unexpected error']
  ]
  for (const [error, reason] of cases) {
    const failure = smtpFailure('send', 'smtp.example.test:587', error)
    t.equal(failure.message, `SMTP send to smtp.example.test:587 failed: ${reason}`)
    t.equal(failure.cause, error)
  }
})

/** The configuration error smtpOptionsFromEnv throws for `env`, without its common prefix. */
const refusal = (env: Record<string, string>): string => {
  try {
    smtpOptionsFromEnv(env, 'LibreChat')
  } catch (error) {
    const { code, message } = error as { code?: unknown, message: string }
    return code === 'FST_LCAUTH_CONFIG_INVALID' ? message.replace('Invalid librechat-auth configuration: ', '') : `unexpected ${String(code)}`
  }
  return 'accepted'
}

t.test('smtpOptionsFromEnv: no EMAIL_SERVICE and no EMAIL_HOST means no mailer', async t => {
  t.equal(smtpOptionsFromEnv({}, 'LibreChat'), null)
  t.equal(smtpOptionsFromEnv({ EMAIL_SERVICE: '', EMAIL_HOST: '  ', EMAIL_FROM: FROM, EMAIL_PORT: 'nonsense' }, 'LibreChat'), null)
})

t.test('smtpOptionsFromEnv: every variable, mapped', async t => {
  const host = { EMAIL_HOST: 'smtp.example.test', EMAIL_FROM: FROM }
  const defaults = { host: 'smtp.example.test', port: 25, encryption: 'opportunistic', allowSelfSigned: false, from: FROM, fromName: 'My Chat' }
  const cases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    ['EMAIL_HOST alone: port 25, opportunistic, certificates checked, From name = APP_TITLE', host, defaults],
    ['empty variables count as unset', { ...host, EMAIL_PORT: '', EMAIL_ENCRYPTION: '', EMAIL_ENCRYPTION_HOSTNAME: '', EMAIL_ALLOW_SELFSIGNED: '', EMAIL_USERNAME: '', EMAIL_PASSWORD: '', EMAIL_FROM_NAME: '', EMAIL_SERVICE: '' }, defaults],
    ['every variable', {
      EMAIL_HOST: ' smtp.example.test ',
      EMAIL_PORT: '587',
      EMAIL_ENCRYPTION: 'starttls',
      EMAIL_ENCRYPTION_HOSTNAME: HOSTNAME,
      EMAIL_ALLOW_SELFSIGNED: 'true',
      EMAIL_USERNAME: USERNAME,
      EMAIL_PASSWORD: ' pass with spaces ',
      EMAIL_FROM: FROM,
      EMAIL_FROM_NAME: 'My LibreChat Server'
    }, {
      host: 'smtp.example.test', port: 587, encryption: 'starttls', encryptionHostname: HOSTNAME, allowSelfSigned: true, username: USERNAME, password: ' pass with spaces ', from: FROM, fromName: 'My LibreChat Server'
    }],
    ['EMAIL_ENCRYPTION=tls (any case)', { ...host, EMAIL_PORT: '465', EMAIL_ENCRYPTION: 'TLS' }, { ...defaults, port: 465, encryption: 'tls' }],
    ['EMAIL_ENCRYPTION=StartTLS', { ...host, EMAIL_ENCRYPTION: 'StartTLS' }, { ...defaults, encryption: 'starttls' }],
    ['EMAIL_ENCRYPTION=ssl is "anything else": opportunistic', { ...host, EMAIL_ENCRYPTION: 'ssl' }, defaults],
    ['EMAIL_ALLOW_SELFSIGNED= TRUE ', { ...host, EMAIL_ALLOW_SELFSIGNED: ' TRUE ' }, { ...defaults, allowSelfSigned: true }],
    ['EMAIL_ALLOW_SELFSIGNED=yes keeps checks on', { ...host, EMAIL_ALLOW_SELFSIGNED: 'yes' }, defaults],
    ['EMAIL_ALLOW_SELFSIGNED=1 keeps checks on', { ...host, EMAIL_ALLOW_SELFSIGNED: '1' }, defaults],
    ['EMAIL_ALLOW_SELFSIGNED=false keeps checks on', { ...host, EMAIL_ALLOW_SELFSIGNED: 'false' }, defaults],
    ['EMAIL_PORT=1 and 65535 are ports', { ...host, EMAIL_PORT: '65535' }, { ...defaults, port: 65535 }],
    ['EMAIL_SERVICE=gmail wins: host and port ignored (even a bad port)', { EMAIL_SERVICE: 'gmail', EMAIL_HOST: 'ignored.example.test', EMAIL_PORT: 'x', EMAIL_USERNAME: USERNAME, EMAIL_PASSWORD: PASSWORD, EMAIL_FROM: FROM }, {
      service: 'gmail', encryption: 'opportunistic', allowSelfSigned: false, username: USERNAME, password: PASSWORD, from: FROM, fromName: 'My Chat'
    }]
  ]
  for (const [name, env, expected] of cases) t.strictSame(smtpOptionsFromEnv(env, 'My Chat'), expected, name)
  t.equal(smtpOptionsFromEnv({ ...host, EMAIL_PORT: '1' }, 'x')?.port, 1)
})

t.test('smtpOptionsFromEnv: every error names its variable and never shows a password', async t => {
  const host = { EMAIL_HOST: 'smtp.example.test', EMAIL_FROM: FROM }
  const cases: Array<[Record<string, string>, string]> = [
    [{ EMAIL_HOST: 'smtp.example.test' }, 'EMAIL_FROM is required when EMAIL_SERVICE or EMAIL_HOST is set'],
    [{ EMAIL_SERVICE: 'gmail', EMAIL_FROM: ' ' }, 'EMAIL_FROM is required when EMAIL_SERVICE or EMAIL_HOST is set'],
    [{ ...host, EMAIL_FROM: 'LibreChat <noreply@example.test>' }, 'EMAIL_FROM must be a plain email address such as noreply@example.com'],
    [{ ...host, EMAIL_PORT: '0' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_PORT: '65536' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_PORT: 'abc' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_PORT: '25.5' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_PORT: '-25' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_PORT: '1e3' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_PORT: '123456' }, 'EMAIL_PORT must be a whole number from 1 to 65535'],
    [{ ...host, EMAIL_USERNAME: USERNAME }, 'EMAIL_PASSWORD is required when EMAIL_USERNAME is set (unset both for a server without authentication)'],
    [{ ...host, EMAIL_PASSWORD: PASSWORD }, 'EMAIL_USERNAME is required when EMAIL_PASSWORD is set (unset both for a server without authentication)'],
    [{ ...host, EMAIL_PASSWORD: PASSWORD, EMAIL_USERNAME: '' }, 'EMAIL_USERNAME is required when EMAIL_PASSWORD is set (unset both for a server without authentication)']
  ]
  for (const [env, message] of cases) {
    const got = refusal(env)
    t.equal(got, message, JSON.stringify(env))
    t.notOk(got.includes(PASSWORD))
  }
})

t.test('the subpath entry exports the factory and the env mapping', async t => {
  const entry = await import('../../lib/adapters/nodemailer/index.ts')
  t.same(Object.keys(entry).sort(), ['smtpMailer', 'smtpOptionsFromEnv'])
})
