import t from 'tap'
import { refusalOf } from '../helpers/refusal.ts'
import { optionsFromEnv } from '../../lib/env/options-from-env.ts'
import { normalizeIssuer } from '../../lib/identities/openid-config.ts'
import { resolveOptions } from '../../lib/options/resolve.ts'
import type { AuthOptions } from '../../lib/options/types.ts'

const base: AuthOptions = { jwtSecret: 'a'.repeat(40), jwtRefreshSecret: 'b'.repeat(40), domainServer: 'https://chat.example.com', allowSocialLogin: true }
const openid = { issuer: 'https://id.example.com/realms/chat', clientId: 'chat' }
const resolve = (options: Partial<AuthOptions>, production = false) => resolveOptions({ ...base, ...options }, production)
const refusal = refusalOf

t.test('normalizeIssuer: the guide\'s forms become what discovery wants', async t => {
  t.equal(normalizeIssuer('https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC/.well-known/openid-configuration'), 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC')
  t.equal(normalizeIssuer('https://login.microsoftonline.com/tenant-id/v2.0/'), 'https://login.microsoftonline.com/tenant-id/v2.0')
  t.equal(normalizeIssuer(' https://id.example.com/.well-known/openid-configuration/ '), 'https://id.example.com')
  t.equal(normalizeIssuer('https://id.example.com'), 'https://id.example.com')
})

t.test('defaults, and OpenID only with social login on', async t => {
  const { config } = resolve({ openid })
  t.same(config.openid, {
    issuer: 'https://id.example.com/realms/chat',
    clientId: 'chat',
    clientSecret: null,
    scope: 'openid profile email',
    callbackUrl: 'https://chat.example.com/oauth/openid/callback',
    sessionSecret: null,
    claims: { email: null, username: null, name: null },
    requiredRole: null,
    adminRole: null,
    label: 'Login with OpenID',
    imageUrl: null,
    autoRedirect: false,
    postLogoutRedirectUri: null
  })
  const off = resolve({ openid, allowSocialLogin: false })
  t.equal(off.config.openid, null)
  t.match(off.warnings, [/openid is configured but allowSocialLogin is false/])
  t.equal(resolve({}).config.openid, null)
  t.equal(resolve({ openid: { ...openid, useEndSessionEndpoint: true } }).config.openid?.postLogoutRedirectUri, 'https://chat.example.com/login')
  t.equal(resolve({ openid: { ...openid, useEndSessionEndpoint: true, postLogoutRedirectUri: 'https://chat.example.com/bye' } }).config.openid?.postLogoutRedirectUri, 'https://chat.example.com/bye')
})

t.test('role rules are all or nothing, and checked at start', async t => {
  t.match(resolve({ openid: { ...openid, requiredRole: ['chat-user', 'chat-admin'], requiredRoleParameterPath: 'realm_access.roles', requiredRoleTokenKind: 'access' } }).config.openid,
    { requiredRole: { roles: ['chat-user', 'chat-admin'], path: 'realm_access.roles', kind: 'access' } })
  t.match(resolve({ openid: { ...openid, adminRole: 'admin', adminRoleParameterPath: 'roles' } }).config.openid, { adminRole: { roles: ['admin'], path: 'roles', kind: 'id' } })
  t.match(refusal(() => resolve({ openid: { ...openid, requiredRole: ['x'] } })), /openid.requiredRoleParameterPath is required when openid.requiredRole is set/)
  t.match(refusal(() => resolve({ openid: { ...openid, requiredRoleParameterPath: 'roles' } })), /openid.requiredRole is required when openid.requiredRoleParameterPath or openid.requiredRoleTokenKind is set/)
  t.match(refusal(() => resolve({ openid: { ...openid, adminRoleTokenKind: 'id' } })), /openid.adminRole is required/)
  t.match(refusal(() => resolve({ openid: { ...openid, adminRole: 'a', adminRoleParameterPath: 'roles', adminRoleTokenKind: 'refresh' as never } })), /openid.adminRoleTokenKind must be id, access or userinfo/)
  t.match(refusal(() => resolve({ openid: { ...openid, requiredRole: [] } })), /openid.requiredRole must be a non-empty list/)
})

t.test('the issuer, the secrets and the rest are checked', async t => {
  t.match(refusal(() => resolve({ openid: { clientId: 'x' } as never })), /openid.issuer is required/)
  t.match(refusal(() => resolve({ openid: { issuer: 'https://id.example.com' } as never })), /openid.clientId is required/)
  t.match(refusal(() => resolve({ openid: { ...openid, issuer: 'http://id.example.com' } })), /openid.issuer must be an https URL/)
  t.match(resolve({ openid: { ...openid, issuer: 'http://127.0.0.1:9000/.well-known/openid-configuration' } }).warnings, [/openid.issuer is a plain-http loopback URL/])
  t.match(refusal(() => resolve({ openid: { ...openid, issuer: 'http://127.0.0.1:9000' } }, true)), /refused when NODE_ENV=production/)
  t.match(refusal(() => resolve({ openid: { ...openid, sessionSecret: 'Any random string' } }, true)), /openid.sessionSecret is shorter than 32 bytes/)
  t.match(refusal(() => resolve({ openid: { ...openid, sessionSecret: 'b'.repeat(40) } }, true)), /openid.sessionSecret must differ from jwtSecret and jwtRefreshSecret/)
  t.equal(resolve({ openid: { ...openid, sessionSecret: 'c'.repeat(40) } }, true).config.openid?.sessionSecret, 'c'.repeat(40))
  t.match(refusal(() => resolve({ openid: { ...openid, scope: 'profile email' } })), /openid.scope must include openid/)
  t.match(refusal(() => resolve({ openid: { ...openid, postLogoutRedirectUri: 'javascript:alert(1)', useEndSessionEndpoint: true } })), /openid.postLogoutRedirectUri must be an absolute http\(s\) URL/)
  t.match(refusal(() => resolve({ openid: { ...openid, audience: 'x' } as never })), /openid.audience is not a known OpenID option/)
  t.match(resolve({ openid: { ...openid, callbackUrl: '/auth/oidc' } }).warnings, [/openid.callbackUrl is \/auth\/oidc, but openid's callback route is \/oauth\/openid\/callback/])
})

t.test('optionsFromEnv reads every OPENID_ variable', async t => {
  t.same(optionsFromEnv({
    OPENID_ISSUER: 'https://login.microsoftonline.com/tenant/v2.0/',
    OPENID_CLIENT_ID: 'app-id',
    OPENID_CLIENT_SECRET: ' secret ',
    OPENID_SESSION_SECRET: 'session secret of at least thirty-two bytes',
    OPENID_SCOPE: 'openid profile email',
    OPENID_CALLBACK_URL: '/oauth/openid/callback',
    OPENID_EMAIL_CLAIM: 'email',
    OPENID_USERNAME_CLAIM: 'upn',
    OPENID_NAME_CLAIM: 'name',
    OPENID_REQUIRED_ROLE: 'chat.user, chat.admin',
    OPENID_REQUIRED_ROLE_PARAMETER_PATH: 'roles',
    OPENID_REQUIRED_ROLE_TOKEN_KIND: 'ID',
    OPENID_ADMIN_ROLE: 'chat.admin',
    OPENID_ADMIN_ROLE_PARAMETER_PATH: 'roles',
    OPENID_ADMIN_ROLE_TOKEN_KIND: 'access',
    OPENID_BUTTON_LABEL: 'Company login',
    OPENID_IMAGE_URL: 'https://id.example.com/logo.svg',
    OPENID_AUTO_REDIRECT: 'true',
    OPENID_USE_END_SESSION_ENDPOINT: 'true',
    OPENID_POST_LOGOUT_REDIRECT_URI: 'https://chat.example.com/login'
  }).openid, {
    issuer: 'https://login.microsoftonline.com/tenant/v2.0/',
    clientId: 'app-id',
    clientSecret: ' secret ',
    scope: 'openid profile email',
    callbackUrl: '/oauth/openid/callback',
    sessionSecret: 'session secret of at least thirty-two bytes',
    emailClaim: 'email',
    usernameClaim: 'upn',
    nameClaim: 'name',
    requiredRole: ['chat.user', 'chat.admin'],
    requiredRoleParameterPath: 'roles',
    requiredRoleTokenKind: 'id',
    adminRole: 'chat.admin',
    adminRoleParameterPath: 'roles',
    adminRoleTokenKind: 'access',
    buttonLabel: 'Company login',
    imageUrl: 'https://id.example.com/logo.svg',
    autoRedirect: true,
    useEndSessionEndpoint: true,
    postLogoutRedirectUri: 'https://chat.example.com/login'
  })
  t.equal(optionsFromEnv({}).openid, undefined)
  t.match(refusal(() => optionsFromEnv({ OPENID_ISSUER: 'https://id.example.com' })), /OPENID_CLIENT_ID is required when OPENID_ISSUER is set/)
  t.match(refusal(() => optionsFromEnv({ OPENID_CLIENT_ID: 'x' })), /OPENID_ISSUER is required when OPENID_CLIENT_ID is set/)
  t.match(refusal(() => optionsFromEnv({ OPENID_CLIENT_ID: 'x', OPENID_ISSUER: 'https://id.example.com', OPENID_REQUIRED_ROLE_TOKEN_KIND: 'refresh' })), /OPENID_REQUIRED_ROLE_TOKEN_KIND must be id, access or userinfo/)
})
