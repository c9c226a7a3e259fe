import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { alice, build, login, register } from '../helpers/app.ts'
import { countingHasher } from '../helpers/doubles.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()

/** Every header but `date`, which differs between any two responses. */
function comparableHeaders (response: LightMyRequestResponse): Record<string, unknown> {
  const { date: _date, ...rest } = response.headers
  return rest
}

function person (email: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: 'Some Person', email, password: alice.password, confirm_password: alice.password, ...extra }
}

async function userCount (app: FastifyInstance, emails: readonly string[]): Promise<number> {
  const found = await Promise.all(emails.map(e => app.lcauth.storage.users.findByEmail(e)))
  return found.filter(u => u !== null).length
}

t.test('REG-01: a new and an already-registered email get identical answers, with no cookie', async t => {
  const { hasher, counts, reset } = countingHasher()
  const { app, events } = await build(t, { hasher })
  reset() // the plugin hashes its dummy password when it starts

  const fresh = await register(app, alice)
  t.equal(counts.hash, 1, 'a new registration costs one hash')
  const original = await app.lcauth.storage.users.findByEmail(alice.email)
  t.ok(original, 'the user exists')

  const attacker = { ...alice, name: 'Mallory', password: 'someone else owns this now', confirm_password: 'someone else owns this now' }
  const taken = await register(app, attacker)
  t.equal(counts.hash, 2, 'a taken email costs one hash as well')

  t.equal(fresh.statusCode, 200)
  t.same([taken.statusCode, taken.body], [fresh.statusCode, fresh.body], 'same status and body')
  t.strictSame(comparableHeaders(taken), comparableHeaders(fresh), 'same header set')
  t.same(fresh.json(), { message: fresh.json<{ message: string }>().message })
  t.equal(fresh.headers['set-cookie'], undefined, 'no cookie for a new email')
  t.equal(taken.headers['set-cookie'], undefined, 'no cookie for a taken email')
  t.equal(fresh.cookies.length + taken.cookies.length, 0)

  const after = await app.lcauth.storage.users.findByEmail(alice.email)
  t.equal(after?.id, original?.id, 'still the one user')
  t.equal(after?.name, alice.name, 'the existing account is untouched')
  t.equal(after?.passwordHash, original?.passwordHash, 'the password was not replaced')
  t.equal((await login(app, alice.email, attacker.password)).statusCode, 401, "the second registrant's password does not open the account")
  t.equal((await login(app, alice.email, alice.password)).statusCode, 200, "the owner's password still does")

  const success = events.take('register.success')
  const duplicate = events.take('register.duplicate')
  t.equal(success.length, 1)
  t.equal(duplicate.length, 1)
  t.equal(success[0]?.userId, original?.id)
  t.equal(duplicate[0]?.userId, original?.id, 'the difference lives only in events')
})

t.test('REG-03: extra fields cannot be assigned at registration', async t => {
  const { app, events } = await build(t)
  t.equal((await register(app, person('first@example.test'))).statusCode, 200, 'someone already holds the first-user slot')

  const smuggled: Array<Record<string, unknown>> = [
    { role: 'ADMIN' },
    { emailVerified: true },
    { provider: 'google' },
    { googleId: '1234567890' },
    { tokensValidAfter: 0 },
    { id: '0123456789abcdef01234567' },
    { passwordHash: '$2b$04$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz01234' },
    { disabledAt: null }
  ]
  for (const extra of smuggled) {
    const email = `smuggler${Object.keys(extra)[0] ?? ''}@example.test`.toLowerCase()
    const response = await register(app, person(email, extra))
    t.equal(response.statusCode, 400, `${Object.keys(extra).join()} is refused`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION')
    t.equal(await app.lcauth.storage.users.findByEmail(email), null, 'no user created')
  }
  t.equal(events.take('register.success').length, 1, 'only the first registration succeeded')

  t.equal((await register(app, person('plain@example.test'))).statusCode, 200)
  const plain = await app.lcauth.storage.users.findByEmail('plain@example.test')
  t.match(plain, { role: 'USER', emailVerified: false, provider: 'local' }, 'a normal registration gets the defaults')
  t.equal(plain?.emailVerifiedBy, null, 'a registration vouches for no email')
})

t.test('REG-03: 20 concurrent first registrations yield exactly one ADMIN', async t => {
  const { app, events } = await build(t)
  const emails = Array.from({ length: 20 }, (_, i) => `racer${i}@example.test`)
  const responses = await Promise.all(emails.map(email => register(app, person(email))))
  t.same(responses.map(r => r.statusCode), emails.map(() => 200))

  const users = await Promise.all(emails.map(email => app.lcauth.storage.users.findByEmail(email)))
  t.equal(users.filter(u => u !== null).length, 20, 'every registration created its user')
  t.equal(users.filter(u => u?.role === 'ADMIN').length, 1, 'exactly one admin')
  t.equal(users.filter(u => u?.role === 'USER').length, 19)

  const success = events.take('register.success')
  t.equal(success.length, 20)
  t.equal(success.filter(e => e.role === 'ADMIN').length, 1, 'the events agree')
})

t.test('REG-04: emails are canonicalised, so case variants are the same account', async t => {
  const { app, events } = await build(t)
  const first = await register(app, person('Alice@Example.COM'))
  const second = await register(app, person('alice@example.com'))
  const third = await register(app, person('  ALICE@EXAMPLE.com '))
  t.equal(first.statusCode, 200)
  t.same([second.statusCode, second.body], [first.statusCode, first.body])
  t.same([third.statusCode, third.body], [first.statusCode, first.body])

  const stored = await app.lcauth.storage.users.findByEmail('alice@example.com')
  t.ok(stored, 'stored under the canonical form')
  t.equal(stored?.email, 'alice@example.com')
  t.equal(await app.lcauth.storage.users.findByEmail('Alice@Example.COM'), null, 'never under the typed form')
  t.equal(events.take('register.success').length, 1)
  const duplicates = events.take('register.duplicate')
  t.equal(duplicates.length, 2)
  t.ok(duplicates.every(d => d.userId === stored?.id))

  t.equal((await login(app, 'ALICE@example.COM', alice.password)).statusCode, 200, 'login uses the same canonical form')
})

t.test('REG-04: dotless i, full-width, quoted and commented local parts are refused', async t => {
  const { app, events } = await build(t)
  t.equal((await register(app, person('mike@x.test'))).statusCode, 200)
  const mike = await app.lcauth.storage.users.findByEmail('mike@x.test')

  const refused = [
    'mıke@x.test', // dotless ı (U+0131): must not fold into mike@x.test
    'MİKE@x.test', // dotted capital İ (U+0130)
    'ａｌｉｃｅ@example.test', // full-width letters
    'аlice@example.test', // Cyrillic а, a confusable
    '"alice"@example.test',
    '"v@x.test x"@evil.test',
    'alice(comment)@example.test',
    'alice@@example.test',
    'alice@localhost',
    '.alice@example.test',
    'al..ice@example.test'
  ]
  for (const email of refused) {
    const response = await register(app, person(email))
    t.equal(response.statusCode, 400, `${email} is refused`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION')
  }
  t.equal(events.take('register.success').length, 1)
  t.equal(events.take('register.duplicate').length, 0, 'nothing collided with mike@x.test')
  t.same(events.take('register.refused').map(e => e.reason), refused.map(() => 'invalid'))
  const after = await app.lcauth.storage.users.findByEmail('mike@x.test')
  t.equal(after?.passwordHash, mike?.passwordHash)
})

t.test('REG-04: an IDN domain is stored in punycode', async t => {
  const { app, events } = await build(t)
  t.equal((await register(app, person('bob@bücher.example'))).statusCode, 200)
  const stored = await app.lcauth.storage.users.findByEmail('bob@xn--bcher-kva.example')
  t.ok(stored, 'found under the ASCII form')
  t.equal(stored?.email, 'bob@xn--bcher-kva.example')
  t.equal(await app.lcauth.storage.users.findByEmail('bob@bücher.example'), null)

  const again = await register(app, person('bob@BÜCHER.example'))
  t.equal(again.statusCode, 200)
  t.equal(events.take('register.duplicate').length, 1, 'the Unicode and upper-case form is the same account')
  const punycode = await register(app, person('bob@xn--bcher-kva.example'))
  t.equal(punycode.statusCode, 200)
  t.equal(events.take('register.duplicate').length, 1, 'and so is the punycode form')

  t.equal((await login(app, 'bob@bücher.example', alice.password)).statusCode, 200)
  t.equal((await login(app, 'bob@xn--bcher-kva.example', alice.password)).statusCode, 200)
})

t.test('registration: name must be 3 to 80 characters', async t => {
  const { app } = await build(t)
  const cases: Array<[string, number]> = [
    ['Al', 400],
    ['   Al   ', 400],
    ['Ali', 200],
    ['x'.repeat(80), 200],
    ['x'.repeat(81), 400],
    ['😀'.repeat(80), 200], // counted in code points
    ['Evil\nName', 400],
    ['Evil\u202eName', 400]
  ]
  for (const [i, [name, status]] of cases.entries()) {
    const email = `name${i}@example.test`
    const response = await register(app, { ...person(email), name })
    t.equal(response.statusCode, status, `name ${JSON.stringify(name.slice(0, 12))} (${[...name].length}) → ${status}`)
    if (status === 400) t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION')
    t.equal(await userCount(app, [email]), status === 200 ? 1 : 0)
  }
})

t.test('registration: a name cannot carry a web address or control and format characters', async t => {
  const { app } = await build(t)
  const refused = [
    'URGENT: account locked, call 555 0100 or visit evil.test/fix',
    'see https://evil.test',
    'hxxp://evil.test',
    'visit WWW.evil.test now',
    'evil.xn--p1ai/login',
    'ｗｗｗ．evil．test', // full-width, refused in its NFKC form
    'evil．test／fix',
    'Alice\u202eecilA', // right-to-left override (Cf)
    'Ali\u200bce', // zero-width space (Cf)
    'Ali\u0007ce' // bell (Cc)
  ]
  for (const [i, name] of refused.entries()) {
    const email = `refused${i}@example.test`
    const response = await register(app, { ...person(email), name })
    t.equal(response.statusCode, 400, `refused: ${JSON.stringify(name)}`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION')
    t.notOk(response.body.includes(name), 'the message does not echo the name')
    t.match(errorOf(response).message, /^Name (must not contain a web address|contains characters that are not allowed)\.$/)
    t.equal(await userCount(app, [email]), 0)
  }
  const ordinary = ['Alice Liddell', 'José Ñúñez', '李小龍', "O'Brien-Smith", 'Dr. J. R. R. Tolkien', 'AC/DC Fan', 'Jean-Luc Picard', 'Ana María de la Cruz', 'محمد علي', 'Зоя Космодемьянская']
  for (const [i, name] of ordinary.entries()) {
    const email = `ordinary${i}@example.test`
    t.equal((await register(app, { ...person(email), name })).statusCode, 200, `accepted: ${name}`)
    t.equal((await app.lcauth.storage.users.findByEmail(email))?.name, name)
  }
})

t.test('registration: username must be 2 to 80 allowed characters', async t => {
  const { app } = await build(t)
  const cases: Array<[unknown, number]> = [
    ['a', 400],
    ['al', 200],
    ['u'.repeat(80), 200],
    ['u'.repeat(81), 400],
    ['al_ice.99', 200],
    ['élise-ß', 200],
    ['bad name', 400],
    ['<script>', 400],
    ['a/b', 400],
    ['"quoted"', 400],
    [null, 200],
    ['', 200],
    [42, 400]
  ]
  for (const [i, [username, status]] of cases.entries()) {
    const email = `user${i}@example.test`
    const response = await register(app, person(email, { username }))
    t.equal(response.statusCode, status, `username ${JSON.stringify(username)} → ${status}`)
    if (status === 400) t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION')
    t.equal(await userCount(app, [email]), status === 200 ? 1 : 0)
  }
  const stored = await app.lcauth.storage.users.findByEmail('user4@example.test')
  t.equal(stored?.username, 'al_ice.99')
  t.equal((await app.lcauth.storage.users.findByEmail('user11@example.test'))?.username, null, 'an empty username is no username')
})

t.test('registration: confirm_password must match', async t => {
  const { app, events } = await build(t)
  const response = await register(app, { ...alice, confirm_password: `${alice.password}!` })
  t.equal(response.statusCode, 400)
  t.match(errorOf(response).code, /^FST_LCAUTH_(VALIDATION|PASSWORD_POLICY)$/)
  t.equal(await app.lcauth.storage.users.findByEmail(alice.email), null)
  t.same(events.take('register.refused').map(e => e.reason), ['policy'])

  const missing = await register(app, { name: alice.name, email: alice.email, password: alice.password })
  t.equal(missing.statusCode, 400, 'confirm_password is required')
  t.equal(errorOf(missing).code, 'FST_LCAUTH_VALIDATION')
})

t.test('registration: ALLOW_REGISTRATION=false refuses with 403', async t => {
  const { hasher, counts, reset } = countingHasher()
  const { app, events } = await build(t, { allowRegistration: false, hasher })
  reset() // the plugin hashes its dummy password when it starts
  const response = await register(app, alice)
  t.equal(response.statusCode, 403)
  t.equal(errorOf(response).code, 'FST_LCAUTH_REGISTRATION_DISABLED')
  t.equal(response.headers['set-cookie'], undefined)
  t.equal(await app.lcauth.storage.users.findByEmail(alice.email), null)
  t.equal(counts.hash, 0, 'nothing was hashed')
  t.same(events.take('register.refused').map(e => e.reason), ['disabled'])

  const open = await build(t)
  t.equal((await register(open.app, alice)).statusCode, 200, 'control: registration is open by default')
})

t.test('registration: allowedEmailDomains refuses other domains with 403', async t => {
  const { app, events } = await build(t, { allowedEmailDomains: ['example.test', 'bücher.example'] })
  const refused = ['eve@evil.test', 'eve@sub.example.test', 'eve@example.test.evil.test', 'eve@example.tes']
  for (const email of refused) {
    const response = await register(app, person(email))
    t.equal(response.statusCode, 403, `${email} is refused`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_EMAIL_DOMAIN_NOT_ALLOWED')
    t.equal(await userCount(app, [email]), 0)
  }
  t.same(events.take('register.refused').map(e => e.reason), refused.map(() => 'domain_not_allowed'))

  t.equal((await register(app, person('ok@example.test'))).statusCode, 200)
  t.equal((await register(app, person('Case@EXAMPLE.TEST'))).statusCode, 200, 'domains compare case-insensitively')
  t.equal((await register(app, person('idn@BÜCHER.example'))).statusCode, 200, 'and in punycode form')
  t.equal(await userCount(app, ['ok@example.test', 'case@example.test', 'idn@xn--bcher-kva.example']), 3)
})

t.test('registration: the first user becomes ADMIN, later ones USER', async t => {
  const { app, events } = await build(t)
  t.equal((await register(app, alice)).statusCode, 200)
  t.equal((await register(app, person('bob@example.test'))).statusCode, 200)
  t.equal((await app.lcauth.storage.users.findByEmail(alice.email))?.role, 'ADMIN')
  t.equal((await app.lcauth.storage.users.findByEmail('bob@example.test'))?.role, 'USER')
  t.same(events.take('register.success').map(e => e.role), ['ADMIN', 'USER'])

  const first = await login(app, alice.email, alice.password)
  const second = await login(app, 'bob@example.test', alice.password)
  t.equal(first.json<{ user: { role: string } }>().user.role, 'ADMIN')
  t.equal(second.json<{ user: { role: string } }>().user.role, 'USER')
})
