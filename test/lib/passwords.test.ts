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
  t.equal(passwordProblem('correct horse battery', 8), null)
  t.match(passwordProblem('short', 8), /at least 8 characters/)
  t.match(passwordProblem('😀'.repeat(7), 8), /at least 8/)
  t.equal(passwordProblem('😀'.repeat(64), 8), null)
  t.equal(passwordProblem('a'.repeat(MAX_PASSWORD_LENGTH - 20) + 'x'.repeat(20), 8), null)
  t.match(passwordProblem('b'.repeat(MAX_PASSWORD_LENGTH + 1), 8), /at most 128/)
  t.match(passwordProblem('          ', 8), /only spaces/)
  t.match(passwordProblem('password', 8), /too common/)
  t.match(passwordProblem('PassWord', 8), /too common/)
  t.match(passwordProblem('12345678', 8), /too common/)
  t.match(passwordProblem('short1', 15), /at least 15/)
})
