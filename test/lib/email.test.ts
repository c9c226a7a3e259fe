import t from 'tap'
import { canonicalDomain, canonicalEmail, emailDomain } from '../../lib/accounts/email.ts'

t.test('REG-04: one canonical form', async t => {
  t.equal(canonicalEmail('  Alice@Example.COM '), 'alice@example.com')
  t.equal(canonicalEmail('alice@example.com'), 'alice@example.com')
  t.equal(canonicalEmail('a.b+tag@sub.example.co.uk'), 'a.b+tag@sub.example.co.uk')
  t.equal(canonicalEmail("o'brien!#$%&*/=?^_`{|}~-@example.com"), "o'brien!#$%&*/=?^_`{|}~-@example.com")
  t.equal(canonicalEmail('user@Bücher.example'), 'user@xn--bcher-kva.example')
  t.equal(canonicalEmail('user@xn--bcher-kva.example'), 'user@xn--bcher-kva.example')
  t.equal(emailDomain('user@xn--bcher-kva.example'), 'xn--bcher-kva.example')
})

t.test('REG-04: what is refused', async t => {
  const refused = [
    'mıke@x.test', // dotless i: no Unicode case folding into someone else's address
    'ａlice@example.com', // full-width
    '"v@x.test x"@evil.test',
    '"user"@x.test',
    'user@x.test(x)evil.test',
    'user@x.test.', // trailing dot
    'user@localhost',
    '@example.com',
    'user@',
    'user',
    'a@b@example.com',
    '.a@example.com',
    'a.@example.com',
    'a..b@example.com',
    'a b@example.com',
    'a@-example.com',
    'a@example-.com',
    'a@exa_mple.com',
    `${'a'.repeat(65)}@example.com`,
    `a@${'b'.repeat(64)}.com`,
    `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com`,
    'user@exa mple.com',
    'user\n@example.com'
  ]
  for (const email of refused) t.equal(canonicalEmail(email), null, JSON.stringify(email))
})

t.test('INP-04: adversarial 100 kB inputs return at once', async t => {
  for (const input of ['a'.repeat(1e5) + '@', 'a.'.repeat(5e4), '@'.repeat(1e5), `a@${'-'.repeat(1e5)}.com`, `a@${'b.'.repeat(5e4)}com`]) {
    const started = process.hrtime.bigint()
    t.equal(canonicalEmail(input), null)
    t.ok(process.hrtime.bigint() - started < 20_000_000n, 'under 20 ms')
  }
})

t.test('domains', async t => {
  t.equal(canonicalDomain('EXAMPLE.com'), 'example.com')
  t.equal(canonicalDomain(''), null)
  t.equal(canonicalDomain('x'.repeat(2000)), null)
  t.equal(canonicalDomain('a..b'), null)
  t.equal(canonicalDomain(`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`), `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.com`)
  t.equal(canonicalDomain(`${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(60)}.com`), null)
})
