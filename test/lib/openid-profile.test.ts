import t from 'tap'
import { jwtClaims, rolesAt, valueAt } from '../../lib/identities/claims.ts'
import { holdsRole, openIdProfile } from '../../lib/identities/openid-profile.ts'

const names = { email: null, username: null, name: null }
const jwt = (claims: unknown): string => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

t.test('identity is sub; the email counts as verified only from the email claim with the provider\'s word', async t => {
  const issuer = 'https://id.example.com/realms/chat'
  t.same(openIdProfile({ sub: 'u-1', email: 'Ada@Example.com', email_verified: true, name: 'Ada L', preferred_username: 'ada', picture: 'https://id.example.com/a.png' }, issuer, names),
    { subject: 'u-1', email: 'Ada@Example.com', emailVerified: true, name: 'Ada L', username: 'ada', avatar: 'https://id.example.com/a.png' })
  t.equal(openIdProfile({ sub: 'u', email: 'a@example.com', email_verified: 'true' }, issuer, names).emailVerified, true, 'Cognito\'s string')
  t.equal(openIdProfile({ sub: 'u', email: 'a@example.com', email_verified: 'yes' }, issuer, names).emailVerified, false)
  t.match(openIdProfile({ sub: 'u', preferred_username: 'a@example.com', email_verified: true }, issuer, names), { email: 'a@example.com', emailVerified: false }, 'a fallback claim is never verified')
  t.match(openIdProfile({ sub: 'u', upn: 'b@example.com' }, issuer, names), { email: 'b@example.com', emailVerified: false })
  t.match(openIdProfile({ sub: 'u', mail: 'c@example.com', email_verified: true, preferred_username: 'd@example.com' }, issuer, { ...names, email: 'mail' }), { email: 'c@example.com', emailVerified: false }, 'email_verified speaks of the email claim only')
  t.match(openIdProfile({ sub: 'u', mail: 'c@example.com', email: 'c@example.com', email_verified: true }, issuer, { ...names, email: 'mail' }), { email: 'c@example.com', emailVerified: true })
  t.match(openIdProfile({ sub: 'u', preferred_username: 'd@example.com' }, issuer, { ...names, email: 'mail' }), { email: null }, 'a configured claim has no fallback')
  t.match(openIdProfile({ sub: 'u', given_name: 'Ada', family_name: 'Lovelace', picture: 'http://plain.example/p.png' }, issuer, names), { name: 'Ada Lovelace', avatar: null })
  t.match(openIdProfile({ sub: 'u', nick: 'adal', full: 'Ada Full', username: 'fallback' }, issuer, { ...names, username: 'nick', name: 'full' }), { username: 'adal', name: 'Ada Full' })
  t.match(openIdProfile({ sub: 'u', username: 'fallback' }, issuer, names), { username: 'fallback', name: null })
  t.throws(() => openIdProfile({ email: 'x@example.com' }, issuer, names), { name: 'ProviderFailure' })
})

t.test('Microsoft Entra: the email counts only with xms_edov (nOAuth)', async t => {
  const entra = 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0'
  t.equal(openIdProfile({ sub: 'u', email: 'a@contoso.com', email_verified: true }, entra, names).emailVerified, false)
  t.match(openIdProfile({ sub: 'u', email: 'a@contoso.com', xms_edov: true, picture: 'https://graph.microsoft.com/v1.0/me/photo/$value' }, entra, names), { emailVerified: true, avatar: null })
  t.equal(openIdProfile({ sub: 'u', email: 'a@contoso.com', email_verified: true, tid: 'tenant' }, 'https://id.example.com', names).emailVerified, false, 'an Entra token behind another issuer name')
})

t.test('claims at a dot path; roles as a list or a separated string; JWT payloads', async t => {
  const claims = { realm_access: { roles: ['user', 'admin', 5] }, scp: 'read write,admin', nested: { a: null } }
  t.same(valueAt(claims, 'realm_access.roles'), ['user', 'admin', 5])
  t.equal(valueAt(claims, 'nested.a.b'), undefined)
  t.equal(valueAt(claims, 'toString'), undefined, 'only own properties')
  t.same(rolesAt(claims, 'realm_access.roles'), ['user', 'admin'])
  t.same(rolesAt(claims, 'scp'), ['read', 'write', 'admin'])
  t.same(rolesAt(claims, 'missing'), [])
  t.same(jwtClaims(jwt({ roles: ['a'] })), { roles: ['a'] })
  for (const bad of ['opaque-token', 'a.b', jwt(['list']), 'a.!!!.c', jwt('text')]) t.equal(jwtClaims(bad), null, bad)
})

t.test('role rules read the token they name; an opaque access token is an error naming the variable', async t => {
  const sources = { id: { roles: ['user'] }, userinfo: { groups: 'staff admins' }, accessToken: jwt({ realm_access: { roles: ['admin'] } }) }
  t.equal(holdsRole({ roles: ['user'], path: 'roles', kind: 'id' }, sources, 'V'), true)
  t.equal(holdsRole({ roles: ['admin'], path: 'roles', kind: 'id' }, sources, 'V'), false)
  t.equal(holdsRole({ roles: ['x', 'admins'], path: 'groups', kind: 'userinfo' }, sources, 'V'), true)
  t.equal(holdsRole({ roles: ['admin'], path: 'realm_access.roles', kind: 'access' }, sources, 'V'), true)
  t.throws(() => holdsRole({ roles: ['admin'], path: 'roles', kind: 'access' }, { ...sources, accessToken: 'opaque' }, 'OPENID_ADMIN_ROLE_TOKEN_KIND'),
    { name: 'RoleSourceError', variable: 'OPENID_ADMIN_ROLE_TOKEN_KIND', message: /OPENID_ADMIN_ROLE_TOKEN_KIND is access, but the provider's access token is not a JWT/ })
})
