import { createHash } from 'node:crypto'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t from 'tap'
import { bcryptHasher, passwordProblem } from '../../index.ts'
import { alice, build, login, register } from '../helpers/app.ts'
import { countingHasher } from '../helpers/doubles.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()

function withPassword (password: string, email = alice.email): Record<string, unknown> {
  return { ...alice, email, password, confirm_password: password }
}

async function storedHash (app: FastifyInstance, email = alice.email): Promise<string> {
  return (await app.lcauth.storage.users.findByEmail(email))?.passwordHash ?? ''
}

const SCHEME = /^\$lcsha256\$\$2[aby]\$(\d\d)\$/

t.test('PWD-01: nothing past bcrypt\'s 72 bytes is ignored', async t => {
  const { hasher, hashed, reset } = countingHasher()
  const { app, events } = await build(t, { hasher })
  reset() // the plugin hashes its dummy password when it starts

  // Strong passwords (the policy refuses repeats), whose first 72 bytes are the same.
  const p72 = 'violet elephants juggle quartz pebbles beneath a sleepy harbour moon, ok'
  t.equal(Buffer.byteLength(p72), 72)
  const ascii = `${p72}X`
  t.equal((await register(app, withPassword(ascii))).statusCode, 200)
  t.same(hashed, [ascii], 'bcrypt input comes from the password alone, not from other fields')
  t.equal((await login(app, alice.email, `${p72}Y`)).statusCode, 401, 'a different 73rd byte is refused')
  t.equal((await login(app, alice.email, p72)).statusCode, 401, 'so is the 72-byte prefix')
  t.equal((await login(app, alice.email, ascii)).statusCode, 200, 'control: the real password logs in')

  const greek = 'καλημέρασουφίλεμουπώςείσαιστοσπίτικα' // 36 two-byte letters: 72 bytes
  const multibyte = `${greek}!` // then the 73rd byte
  t.equal(Buffer.byteLength(greek), 72)
  t.equal((await register(app, withPassword(multibyte, 'bob@example.test'))).statusCode, 200)
  t.equal((await login(app, 'bob@example.test', `${greek}?`)).statusCode, 401)
  t.equal((await login(app, 'bob@example.test', `${greek.slice(0, 35)}i!`)).statusCode, 401)
  t.equal((await login(app, 'bob@example.test', multibyte)).statusCode, 200)

  const nul = 'correct horse\u0000battery staple'
  t.equal((await register(app, withPassword(nul, 'carol@example.test'))).statusCode, 200)
  t.equal((await login(app, 'carol@example.test', 'correct horse')).statusCode, 401, 'a NUL byte does not end the password')
  t.equal((await login(app, 'carol@example.test', 'correct horse\u0000something else')).statusCode, 401)
  t.equal((await login(app, 'carol@example.test', nul)).statusCode, 200)

  t.match(events.take('login.failure'), [
    { reason: 'bad_password' }, { reason: 'bad_password' }, { reason: 'bad_password' },
    { reason: 'bad_password' }, { reason: 'bad_password' }, { reason: 'bad_password' }
  ])
  t.equal(events.take('login.success').length, 3)
})

t.test('PWD-02: 64 four-byte emoji are accepted, more than 128 code points are not', async t => {
  const { app, events } = await build(t)
  // Varied emoji: one repeated would be refused as guessable.
  const emojiOf = (count: number, base: number, step: number): string => Array.from({ length: count }, (_, i) => String.fromCodePoint(base + (i * step) % count)).join('')
  const emoji = emojiOf(64, 0x1F600, 7)
  t.equal(Buffer.byteLength(emoji), 256)
  t.equal((await register(app, withPassword(emoji))).statusCode, 200)
  t.equal((await login(app, alice.email, emoji)).statusCode, 200)
  t.equal((await login(app, alice.email, `${[...emoji].slice(0, 63).join('')}😁`)).statusCode, 401, 'the last emoji counts')

  const max = emojiOf(128, 0x1F300, 37)
  t.equal((await register(app, withPassword(max, 'max@example.test'))).statusCode, 200, '128 code points (256 UTF-16 units) are accepted')

  for (const [label, long] of [['129 emoji', '🙂'.repeat(129)], ['129 letters', 'long passphrase '.repeat(9).slice(0, 129)]] as const) {
    const response = await register(app, withPassword(long, 'long@example.test'))
    t.equal(response.statusCode, 400, `${label} are refused`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_PASSWORD_POLICY')
  }
  t.equal(await app.lcauth.storage.users.findByEmail('long@example.test'), null)

  const shortEmoji = '😀'.repeat(7) // 14 UTF-16 units, but 7 code points
  const short = await register(app, withPassword(shortEmoji, 'short@example.test'))
  t.equal(short.statusCode, 400, 'the minimum is counted in code points')
  t.equal(errorOf(short).code, 'FST_LCAUTH_PASSWORD_POLICY')
  t.same(events.take('register.refused').map(e => e.reason), ['policy', 'policy', 'policy'])
})

t.test('PWD-02: a 1 MB password is refused before any hashing', async t => {
  const { hasher, counts, reset } = countingHasher()
  const { app } = await build(t, { hasher })
  reset() // the plugin hashes its dummy password when it starts
  const huge = 'x'.repeat(1024 * 1024)
  for (const [url, payload] of [
    ['/api/auth/register', withPassword(huge)],
    ['/api/auth/login', { email: alice.email, password: huge }]
  ] as const) {
    const started = performance.now()
    const response = await app.inject({ method: 'POST', url, payload })
    const elapsed = performance.now() - started
    t.equal(response.statusCode, 413, url)
    t.equal(errorOf(response).code, 'FST_LCAUTH_BODY_TOO_LARGE')
    t.ok(elapsed < 200, `${url} answered in ${elapsed.toFixed(1)} ms`)
  }
  // Under the body limit but far past any password: the schema refuses it, still without hashing.
  const long = 'x'.repeat(4000)
  for (const [url, payload] of [
    ['/api/auth/register', withPassword(long)],
    ['/api/auth/login', { email: alice.email, password: long }]
  ] as const) {
    const response = await app.inject({ method: 'POST', url, payload })
    t.equal(response.statusCode, 400, `${url} with a 4000-character password`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_VALIDATION')
  }
  t.same(counts, { hash: 0, verify: 0 }, 'no hash was computed or compared')
})

t.test('PWD-03: passwords are NFKC-normalised and otherwise left as typed', async t => {
  const { app } = await build(t)
  const nfc = 'caf\u00e9 au lait noir'
  const nfd = 'cafe\u0301 au lait noir'
  t.not(nfc, nfd)
  t.equal((await register(app, withPassword(nfc))).statusCode, 200)
  t.equal((await login(app, alice.email, nfd)).statusCode, 200, 'decomposed é logs in to a password set with composed é')
  t.equal((await register(app, withPassword(nfd, 'bob@example.test'))).statusCode, 200)
  t.equal((await login(app, 'bob@example.test', nfc)).statusCode, 200, 'and the other way round')

  const ligature = '\ufb01ne wine tasting' // ﬁ ligature: NFKC makes it "fi"
  t.equal((await register(app, withPassword(ligature, 'carol@example.test'))).statusCode, 200)
  t.equal((await login(app, 'carol@example.test', 'fine wine tasting')).statusCode, 200, 'compatibility forms are folded (NFKC)')

  const base = 'Passw0rd horse'
  t.equal((await register(app, withPassword(base, 'dave@example.test'))).statusCode, 200)
  for (const variant of [`${base} `, ` ${base}`, 'Passw0rd  horse', 'passw0rd horse', 'PASSW0RD HORSE', 'Passw0rd\thorse']) {
    t.equal((await login(app, 'dave@example.test', variant)).statusCode, 401, `${JSON.stringify(variant)} is a different password`)
  }
  t.equal((await login(app, 'dave@example.test', base)).statusCode, 200)

  const spaced = '  two  spaces  inside  '
  t.equal((await register(app, withPassword(spaced, 'erin@example.test'))).statusCode, 200)
  t.equal((await login(app, 'erin@example.test', spaced)).statusCode, 200, 'leading, trailing and repeated spaces are kept')
  t.equal((await login(app, 'erin@example.test', spaced.trim())).statusCode, 401)
})

t.test('PWD-04: stored hashes carry the scheme prefix, a salt and the configured cost', async t => {
  const { app } = await build(t, { bcryptRounds: 5 })
  const canary = 'CANARY-pwd04-7f3a9c1e'
  t.equal((await register(app, withPassword(canary))).statusCode, 200)
  t.equal((await register(app, withPassword(canary, 'bob@example.test'))).statusCode, 200)

  const first = await storedHash(app)
  const second = await storedHash(app, 'bob@example.test')
  t.match(first, SCHEME)
  t.equal(SCHEME.exec(first)?.[1], '05', 'at the configured cost')
  t.not(first, second, 'two users with the same password get different hashes')

  const rows = JSON.stringify([
    await app.lcauth.storage.users.findByEmail(alice.email),
    await app.lcauth.storage.users.findByEmail('bob@example.test')
  ])
  const forbidden = [
    canary,
    canary.normalize('NFKC'),
    createHash('sha256').update(canary).digest('hex'),
    createHash('sha256').update(canary).digest('base64'),
    createHash('sha256').update(canary).digest('base64url'),
    createHash('sha1').update(canary).digest('hex'),
    Buffer.from(canary).toString('base64')
  ]
  for (const value of forbidden) t.notOk(rows.includes(value), `the stored rows do not contain ${value.slice(0, 12)}…`)
})

t.test('PWD-04: a hash below the configured cost is upgraded at the next login', async t => {
  const { app, events } = await build(t, { bcryptRounds: 5 })
  await register(app, { ...alice, email: 'first@example.test' })
  const old = await bcryptHasher({ rounds: 4 }).hash(alice.password)
  const user = await app.lcauth.storage.users.create({
    email: alice.email, name: alice.name, username: null, provider: 'local', emailVerified: false, passwordHash: old
  }, new Date())
  t.equal((await login(app)).statusCode, 200)
  const upgraded = await storedHash(app)
  t.not(upgraded, old)
  t.equal(SCHEME.exec(upgraded)?.[1], '05', 're-hashed at the current cost')
  t.same(events.take('password.rehashed').map(e => e.userId), [user?.id])
  t.equal((await login(app)).statusCode, 200)
  t.equal(events.take('password.rehashed').length, 0)
})

t.test('policy: common passwords are refused', async t => {
  const { hasher, counts, reset } = countingHasher()
  const { app, events } = await build(t, { hasher })
  reset() // the plugin hashes its dummy password when it starts
  const common = ['password1', 'Password1', 'PASSWORD1', 'password123', 'qwertyuiop', 'iloveyou', 'p@ssw0rd', 'trustno1', 'ｐａｓｓｗｏｒｄ１']
  for (const password of common) {
    t.not(passwordProblem(password, 8), null, `${password} is on the list`)
    const response = await register(app, withPassword(password))
    t.equal(response.statusCode, 400, `${password} is refused`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_PASSWORD_POLICY')
    t.notMatch(response.body, password, 'the answer does not echo the password')
  }
  t.equal(await app.lcauth.storage.users.findByEmail(alice.email), null)
  t.equal(counts.hash, 0, 'nothing was hashed')
  t.same(events.take('register.refused').map(e => e.reason), common.map(() => 'policy'))

  t.equal(passwordProblem('tangerine kite!', 8), null)
  t.equal((await register(app, withPassword('tangerine kite!'))).statusCode, 200, 'control: an uncommon password of the same size')
})

t.test('policy: blank and short passwords are refused', async t => {
  const { app } = await build(t)
  for (const password of ['', ' '.repeat(12), '\t'.repeat(10), '\u3000'.repeat(10), 'Xk9#mQ2']) {
    const response = await register(app, withPassword(password))
    t.equal(response.statusCode, 400, `${JSON.stringify(password)} is refused`)
    t.equal(errorOf(response).code, 'FST_LCAUTH_PASSWORD_POLICY')
  }
  t.equal(await app.lcauth.storage.users.findByEmail(alice.email), null)
  t.equal((await register(app, withPassword('Xk9#mQ2z'))).statusCode, 200, 'control: 8 characters are enough')
})
