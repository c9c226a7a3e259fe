import { createSigner } from 'fast-jwt'
import t from 'tap'
import { accessTokenClaims, accessTokenVerifier } from '../../lib/sessions/access-token.ts'
import type { User } from '../../lib/ports/storage.ts'

const secret = 'verifier-test-secret-0123456789-0123456789'
const issuer = 'https://api.example.com'
const user: User = {
  id: 'u1', email: 'a@example.com', name: 'Alice', username: 'alice', avatar: null, provider: 'local', role: 'USER',
  emailVerified: true, passwordHash: null, disabledAt: null, createdAt: new Date(0), updatedAt: new Date(0)
}
const sign = createSigner({ key: secret, algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } })

t.test('standard claims win over extras; extras stay plain data', async t => {
  const claims = accessTokenClaims(user, 's1', issuer, 1_000_000, 900_000, JSON.parse('{"role":"ADMIN","tenant":"t1","__proto__":{"x":1}}'))
  t.equal(claims.role, 'USER')
  t.equal(claims.tenant, 't1')
  t.equal(claims.iat, 1000)
  t.equal(claims.exp, 1900)
  t.equal(Object.getPrototypeOf(claims), null)
  t.equal(({} as Record<string, unknown>).x, undefined)
})

t.test('expiry follows the injected clock, also for cached tokens', async t => {
  let now = 1_000_000
  const verify = accessTokenVerifier({ secret, issuer, now: () => new Date(now) })
  const token = sign(accessTokenClaims(user, 's1', issuer, now, 900_000, {}))
  t.equal(verify(token)?.expired, false)
  t.equal(verify(token)?.expired, false, 'served from the cache')
  now += 900_000
  t.equal(verify(token)?.expired, true)
  t.equal(verify(token)?.claims.sid, 's1')
})

t.test('refuses what is not one of our access tokens', async t => {
  const verify = accessTokenVerifier({ secret, issuer, now: () => new Date(1_000_000) })
  const good = accessTokenClaims(user, 's1', issuer, 1_000_000, 900_000, {})
  t.equal(verify('x'.repeat(9000)), null, 'too long to parse')
  t.equal(verify('not.a.token'), null)
  t.equal(verify(sign({ ...good, role: 'ROOT' })), null, 'unknown role')
  t.equal(verify(sign({ ...good, email: 5 })), null, 'email not a string')
  t.equal(verify(createSigner({ key: secret, algorithm: 'HS256' })(good)), null, 'typ JWT')
  t.equal(verify(sign({ ...good, iss: 'https://evil.example' })), null, 'wrong issuer')
})

t.test('the cache stays bounded', async t => {
  const verify = accessTokenVerifier({ secret, issuer, now: () => new Date(1_000_000) })
  const first = sign(accessTokenClaims(user, 'first', issuer, 1_000_000, 900_000, {}))
  t.ok(verify(first))
  for (let i = 0; i < 10_001; i++) verify(sign(accessTokenClaims(user, `s${i}`, issuer, 1_000_000, 900_000, {})))
  t.equal(verify(first)?.claims.sid, 'first', 'an evicted token still verifies, just not from the cache')
})
