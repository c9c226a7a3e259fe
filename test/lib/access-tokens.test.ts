import { createSigner } from 'fast-jwt'
import t from 'tap'
import { accessTokens } from '../../lib/tokens/access-tokens.ts'
import { accessTokenClaims } from '../../lib/tokens/claims.ts'
import { type AccessTokenKeySet, hmacKeySet } from '../../lib/tokens/key-set.ts'
import type { User } from '../../lib/ports/storage.ts'

const secret = 'verifier-test-secret-0123456789-0123456789'
const issuer = 'https://api.example.com'
const user: User = {
  id: 'u1', email: 'a@example.com', name: 'Alice', username: 'alice', avatar: null, provider: 'local', role: 'USER',
  emailVerified: true, emailVerifiedBy: 'mail', passwordHash: null, disabledAt: null, createdAt: new Date(0), updatedAt: new Date(0)
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
  const tokens = accessTokens({ keys: hmacKeySet(secret), issuer, lifetimeMs: 900_000, now: () => new Date(now) })
  const verify = tokens.verify
  const token = tokens.issue(user, 's1', new Date(now))
  t.equal(verify(token)?.expired, false)
  t.equal(verify(token)?.expired, false, 'served from the cache')
  now += 900_000
  t.equal(verify(token)?.expired, true)
  t.equal(verify(token)?.claims.sid, 's1')
})

t.test('refuses what is not one of our access tokens', async t => {
  const { verify } = accessTokens({ keys: hmacKeySet(secret), issuer, lifetimeMs: 900_000, now: () => new Date(1_000_000) })
  const good = accessTokenClaims(user, 's1', issuer, 1_000_000, 900_000, {})
  t.equal(verify('x'.repeat(9000)), null, 'too long to parse')
  t.equal(verify('not.a.token'), null)
  t.equal(verify(sign({ ...good, role: 'ROOT' })), null, 'unknown role')
  t.equal(verify(sign({ ...good, email: 5 })), null, 'email not a string')
  t.equal(verify(createSigner({ key: secret, algorithm: 'HS256' })(good)), null, 'typ JWT')
  t.equal(verify(sign({ ...good, iss: 'https://evil.example' })), null, 'wrong issuer')
  t.equal(verify(createSigner({ key: 'another-secret-0123456789-0123456789-0123', algorithm: 'HS256', header: { alg: 'HS256', typ: 'at+jwt' } })(good)), null, 'another key')
  t.equal(verify(createSigner({ key: secret, algorithm: 'HS512', header: { alg: 'HS512', typ: 'at+jwt' } })(good)), null, 'another algorithm, even with the same secret')
  t.equal(verify(createSigner({ algorithm: 'none', header: { alg: 'none', typ: 'at+jwt' } })(good)), null, 'alg none')
})

t.test('the cache stays bounded', async t => {
  const { verify } = accessTokens({ keys: hmacKeySet(secret), issuer, lifetimeMs: 900_000, now: () => new Date(1_000_000) })
  const first = sign(accessTokenClaims(user, 'first', issuer, 1_000_000, 900_000, {}))
  t.ok(verify(first))
  for (let i = 0; i < 10_001; i++) verify(sign(accessTokenClaims(user, `s${i}`, issuer, 1_000_000, 900_000, {})))
  t.equal(verify(first)?.claims.sid, 'first', 'an evicted token still verifies, just not from the cache')
})

t.test('a key set: the signing key names itself with kid; tokens of a key kept for verification still pass', async t => {
  const old = { kind: 'hmac', algorithm: 'HS256', secret: 'old-secret-0123456789-0123456789-012345', kid: 'k1' } as const
  const current = { kind: 'hmac', algorithm: 'HS256', secret, kid: 'k2' } as const
  const before = accessTokens({ keys: { signing: old, verifying: [old] }, issuer, lifetimeMs: 900_000, now: () => new Date(1_000_000) })
  const rotated: AccessTokenKeySet = { signing: current, verifying: [current, old] }
  const after = accessTokens({ keys: rotated, issuer, lifetimeMs: 900_000, now: () => new Date(1_000_000) })
  const oldToken = before.issue(user, 's-old', new Date(1_000_000))
  const newToken = after.issue(user, 's-new', new Date(1_000_000))
  t.equal(JSON.parse(Buffer.from(newToken.split('.')[0] as string, 'base64url').toString()).kid, 'k2')
  t.equal(after.verify(oldToken)?.claims.sid, 's-old', 'a token of the previous key')
  t.equal(after.verify(newToken)?.claims.sid, 's-new')
  t.equal(before.verify(newToken), null, 'the old set does not know the new key')
})

t.test('without keys (an operator\'s process) nothing is signed and nothing verifies', async t => {
  const none = accessTokens({ keys: null, issuer, lifetimeMs: 900_000, now: () => new Date(1_000_000) })
  t.throws(() => none.issue(user, 's1', new Date()), /no key to sign/)
  t.equal(none.verify(sign(accessTokenClaims(user, 's1', issuer, 1_000_000, 900_000, {}))), null)
})
