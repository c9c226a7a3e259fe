import { createHash } from 'node:crypto'
import bcrypt from 'bcrypt'
import t from 'tap'
import { bcryptHasher, SCHEME_PREFIX } from '../../lib/passwords/hasher.ts'
import { MAX_PASSWORD_LENGTH, passwordProblem } from '../../lib/passwords/policy.ts'

const hasher = bcryptHasher({ rounds: 4 })

t.test('PWD-01: nothing past 72 bytes is lost, NUL bytes included', async t => {
  const stored = await hasher.hash('a'.repeat(72) + 'X')
  t.equal(await hasher.verify('a'.repeat(72) + 'X', stored), true)
  t.equal(await hasher.verify('a'.repeat(72) + 'Y', stored), false)
  const accented = await hasher.hash('é'.repeat(36) + '!')
  t.equal(await hasher.verify('é'.repeat(36) + '?', accented), false)
  const nul = await hasher.hash('pass\u0000word-one')
  t.equal(await hasher.verify('pass\u0000word-two', nul), false)
  t.equal(await hasher.verify('pass', nul), false)
})

t.test('PWD-03: NFKC before hashing, nothing else changed', async t => {
  const stored = await hasher.hash('caf\u00e9 au lait')
  t.equal(await hasher.verify('cafe\u0301 au lait', stored), true)
  t.equal(await hasher.verify('caf\u00e9 au lait ', stored), false)
  t.equal(await hasher.verify('CAF\u00c9 AU LAIT', stored), false)
})

t.test('PWD-04: scheme prefix, salted, cost recorded', async t => {
  const a = await hasher.hash('same password here')
  const b = await hasher.hash('same password here')
  t.not(a, b)
  t.match(a, /^\$lcsha256\$\$2b\$04\$/)
  t.notOk(a.includes(createHash('sha256').update('same password here').digest('hex')))
  t.equal(hasher.needsRehash(a), false)
  t.equal(bcryptHasher({ rounds: 5 }).needsRehash(a), true)
})

t.test('plain LibreChat bcrypt hashes verify and ask for a rehash', async t => {
  const legacy = await bcrypt.hash('librechat password', 4)
  t.equal(await hasher.verify('librechat password', legacy), true)
  t.equal(await hasher.verify('wrong password', legacy), false)
  t.equal(hasher.needsRehash(legacy), true)
})

t.test('malformed stored values never verify', async t => {
  for (const stored of ['', 'plaintext', `${SCHEME_PREFIX}garbage`, `${SCHEME_PREFIX}$2b$04$short`, '$2b$04$short', `${SCHEME_PREFIX}`]) {
    t.equal(await hasher.verify('anything', stored), false, JSON.stringify(stored))
  }
  t.equal(hasher.needsRehash(`${SCHEME_PREFIX}garbage`), true)
})

t.test('policy: length in code points, not blank, not common', async t => {
  const varied = (count: number): string => Array.from({ length: count }, (_, i) => String.fromCodePoint(0x1F600 + (i * 7) % 64)).join('')
  t.equal(passwordProblem('correct horse battery', 8), null)
  t.match(passwordProblem('short', 8), /at least 8 characters/)
  t.match(passwordProblem('😀'.repeat(7), 8), /at least 8/)
  t.equal(passwordProblem(varied(64), 8), null)
  t.equal(passwordProblem(`violet elephants juggle quartz pebbles ${'x'.repeat(MAX_PASSWORD_LENGTH - 39)}`, 8), null, '128 code points')
  t.match(passwordProblem('b'.repeat(MAX_PASSWORD_LENGTH + 1), 8), /at most 128/)
  t.match(passwordProblem('          ', 8), /only spaces/)
  t.match(passwordProblem('password', 8), /too common/)
  t.match(passwordProblem('PassWord', 8), /too common/)
  t.match(passwordProblem('12345678', 8), /too common/)
  t.match(passwordProblem('short1', 15), /at least 15/)
})

t.test('policy: guessable passwords are refused (zxcvbn score 0-1), whatever their length', async t => {
  for (const weak of ['password12345678', 'aaaaaaaaaaaaaaaa', 'qwertyuiopasdfgh', '1234567890123456', 'abcdefghijklmnop', '😀'.repeat(64), 'a'.repeat(MAX_PASSWORD_LENGTH)]) {
    t.match(passwordProblem(weak, 8), /too easy to guess/, JSON.stringify(weak.slice(0, 20)))
  }
  for (const strong of ['correct horse battery staple', 'violet elephants juggle quartz', 'Tr0ub4dor&3 plus more', 'καλημέρα σου φίλε μου']) {
    t.equal(passwordProblem(strong, 8), null, strong)
  }
})

t.test('policy: only the first 32 characters are analysed, so a long password costs little', async t => {
  const long = `${'violet elephants juggle quartz p'}${'a'.repeat(MAX_PASSWORD_LENGTH - 32)}`
  const started = performance.now()
  t.equal(passwordProblem(long, 8), null, 'a strong start is enough')
  // Not a timing test: the bound is generous; the figure that matters is the estimator seeing 32 characters.
  t.ok(performance.now() - started < 2000)
})

t.test('policy: no piece of the account\'s email, name or username, nor the app title', async t => {
  const account = { email: 'alice.liddell@example.test', name: 'Alice Pleasance', username: 'wonderland', appTitle: 'LibreChat' }
  const personal = /must not contain your name, username or email address, or the name of this app/
  for (const password of ['Alice-in-a-hurry-2024', 'my LIDDELL password 99', 'pleasance is my middle name', 'welcome to wonderland 1865', 'librechat rocks forever', 'XX aliceliddell XX']) {
    t.match(passwordProblem(password, 8, account), personal, password)
  }
  t.equal(passwordProblem('correct horse battery staple', 8, account), null)
  t.equal(passwordProblem('al is short for nothing here', 8, { ...account, name: 'Al' }), null, 'pieces under 4 characters do not count')
  t.equal(passwordProblem('Alice-in-a-hurry-2024', 8), null, 'without the account, nothing personal to refuse')
  t.notMatch(passwordProblem('Alice-in-a-hurry-2024', 8, account) ?? '', /Alice-in/i, 'the message never echoes the password')
})

t.test('policy: the account\'s details also feed the estimator', async t => {
  // Close to the name without containing a 4-letter piece of it: the estimator is told of the name.
  t.match(passwordProblem('Xyzq7Xyzq7', 8, { name: 'Xyz' }), /too easy to guess|must not contain/)
})
