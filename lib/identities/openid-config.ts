import { configError } from '../errors.ts'
import { fieldOf, objectOf, onlyKnownKeys, optionalBoolean, text } from '../options/validate.ts'
import { callbackPath, endpointUrl } from './social-config.ts'

export type TokenKind = 'id' | 'access' | 'userinfo'

/** One OpenID Connect issuer (LibreChat's `OPENID_*` variables). See docs/openid.md. */
export interface OpenIdOptions {
  /** `OPENID_ISSUER`: the issuer, or its discovery URL; https, or http on loopback outside production. */
  issuer: string
  clientId: string
  /** `OPENID_CLIENT_SECRET`; without one the client is public (PKCE only). */
  clientSecret?: string
  /** `OPENID_SCOPE`, default `openid profile email`. */
  scope?: string
  /** `OPENID_CALLBACK_URL`: the callback's path on `domainServer`, default `/oauth/openid/callback`. */
  callbackUrl?: string
  /** `OPENID_SESSION_SECRET`: signs the flow cookie; default a key derived from `jwtRefreshSecret`. */
  sessionSecret?: string
  /** `OPENID_EMAIL_CLAIM`, `OPENID_USERNAME_CLAIM`, `OPENID_NAME_CLAIM`: where those come from. */
  emailClaim?: string
  usernameClaim?: string
  nameClaim?: string
  /** `OPENID_REQUIRED_ROLE` (any of), read at `requiredRoleParameterPath` in the `requiredRoleTokenKind` token. */
  requiredRole?: readonly string[]
  requiredRoleParameterPath?: string
  requiredRoleTokenKind?: TokenKind
  /** `OPENID_ADMIN_ROLE`: grants ADMIN at sign-in, and takes it away when the role is gone. */
  adminRole?: string
  adminRoleParameterPath?: string
  adminRoleTokenKind?: TokenKind
  /** `OPENID_BUTTON_LABEL` (default `Login with OpenID`), `OPENID_IMAGE_URL`, `OPENID_AUTO_REDIRECT`. */
  buttonLabel?: string
  imageUrl?: string
  autoRedirect?: boolean
  /** `OPENID_USE_END_SESSION_ENDPOINT`: logout answers the provider's end-session URL too. */
  useEndSessionEndpoint?: boolean
  /** `OPENID_POST_LOGOUT_REDIRECT_URI`, default `domainClient` + `/login`. */
  postLogoutRedirectUri?: string
}

/** A role rule: the user must (or, for admin, does) hold one of `roles` at `path` in the `kind` token. */
export interface RoleRule { roles: readonly string[], path: string, kind: TokenKind }

export interface OpenIdConfig {
  /** Normalised: what discovery is asked for (no `/.well-known/...`, no trailing slash). */
  issuer: string
  clientId: string
  clientSecret: string | null
  scope: string
  callbackUrl: string
  /** The flow cookie's own secret, or null for the key derived from the refresh secret. */
  sessionSecret: string | null
  claims: { email: string | null, username: string | null, name: string | null }
  requiredRole: RoleRule | null
  adminRole: RoleRule | null
  label: string
  imageUrl: string | null
  autoRedirect: boolean
  /** Where the provider sends the browser after its logout, or null when logout does not involve it. */
  postLogoutRedirectUri: string | null
}

const KEYS = {
  issuer: 1, clientId: 1, clientSecret: 1, scope: 1, callbackUrl: 1, sessionSecret: 1, emailClaim: 1, usernameClaim: 1, nameClaim: 1,
  requiredRole: 1, requiredRoleParameterPath: 1, requiredRoleTokenKind: 1, adminRole: 1, adminRoleParameterPath: 1, adminRoleTokenKind: 1,
  buttonLabel: 1, imageUrl: 1, autoRedirect: 1, useEndSessionEndpoint: 1, postLogoutRedirectUri: 1
}
const KINDS: readonly string[] = ['id', 'access', 'userinfo']
const MIN_SECRET_BYTES = 32

/**
 * The issuer as discovery wants it: the guide's forms (`…/.well-known/openid-configuration`, Entra's
 * `…/v2.0/`) lose the discovery suffix and the trailing slash. The one normalisation for every caller
 * (the plugin, the import of LibreChat users).
 */
export function normalizeIssuer (issuer: string): string {
  return issuer.trim().replace(/\/\.well-known\/openid-configuration\/?$/, '').replace(/\/+$/, '')
}

interface Context {
  allowSocialLogin: boolean
  domainServer: string
  domainClient: string
  secrets: readonly string[]
  risky: (option: string, problem: string) => void
  warnings: string[]
}

/** Validates `openid`; null when it is not given or social login is off. */
export function resolveOpenId (value: unknown, context: Context): OpenIdConfig | null {
  if (value === undefined) return null
  const options = objectOf(value, 'openid')
  onlyKnownKeys(options, 'openid', KEYS, 'OpenID option')
  const get = (key: string): unknown => fieldOf(options, key)
  const optionalText = (key: string): string | null => get(key) === undefined ? null : text(get(key), `openid.${key}`, '')
  if (get('issuer') === undefined) throw configError('openid.issuer', 'is required')
  if (get('clientId') === undefined) throw configError('openid.clientId', 'is required')
  const issuer = endpointUrl(normalizeIssuer(String(get('issuer'))), 'openid.issuer', context.risky)
  const sessionSecret = optionalText('sessionSecret')
  if (sessionSecret !== null) {
    if (Buffer.byteLength(sessionSecret, 'utf8') < MIN_SECRET_BYTES) context.risky('openid.sessionSecret', `is shorter than ${MIN_SECRET_BYTES} bytes`)
    if (context.secrets.includes(sessionSecret)) context.risky('openid.sessionSecret', 'must differ from jwtSecret and jwtRefreshSecret')
  }
  const path = callbackPath(get('callbackUrl'), 'openid.callbackUrl', 'openid', context.warnings)
  const postLogout = optionalText('postLogoutRedirectUri')
  const config: OpenIdConfig = {
    issuer,
    clientId: text(get('clientId'), 'openid.clientId', ''),
    clientSecret: optionalText('clientSecret'),
    scope: optionalText('scope') ?? 'openid profile email',
    callbackUrl: `${context.domainServer}${path}`,
    sessionSecret,
    claims: { email: optionalText('emailClaim'), username: optionalText('usernameClaim'), name: optionalText('nameClaim') },
    requiredRole: roleRule(options, 'requiredRole', optionsList(get('requiredRole'))),
    adminRole: roleRule(options, 'adminRole', get('adminRole') === undefined ? null : [text(get('adminRole'), 'openid.adminRole', '')]),
    label: optionalText('buttonLabel') ?? 'Login with OpenID',
    imageUrl: optionalText('imageUrl'),
    autoRedirect: optionalBoolean(get('autoRedirect'), 'openid.autoRedirect') ?? false,
    postLogoutRedirectUri: optionalBoolean(get('useEndSessionEndpoint'), 'openid.useEndSessionEndpoint') === true
      ? (postLogout === null ? `${context.domainClient}/login` : absoluteUrl(postLogout))
      : null
  }
  if (!config.scope.split(/\s+/).includes('openid')) throw configError('openid.scope', 'must include openid')
  if (!context.allowSocialLogin) {
    context.warnings.push('openid is configured but allowSocialLogin is false: OpenID sign-in is not offered')
    return null
  }
  return config
}

function optionsList (value: unknown): string[] | null {
  if (value === undefined) return null
  if (!Array.isArray(value) || value.length === 0 || !value.every(r => typeof r === 'string' && r.trim() !== '')) throw configError('openid.requiredRole', 'must be a non-empty list of role names')
  return value.map(r => (r as string).trim())
}

/** A role rule is all or nothing: a path or a kind without a role is a mistake, and so is a role without a path. */
function roleRule (options: Record<string, unknown>, name: 'requiredRole' | 'adminRole', roles: string[] | null): RoleRule | null {
  const path = fieldOf(options, `${name}ParameterPath`)
  const kind = fieldOf(options, `${name}TokenKind`)
  if (roles === null) {
    if (path !== undefined || kind !== undefined) throw configError(`openid.${name}`, `is required when openid.${name}ParameterPath or openid.${name}TokenKind is set`)
    return null
  }
  if (path === undefined) throw configError(`openid.${name}ParameterPath`, `is required when openid.${name} is set (a dot path such as roles or realm_access.roles)`)
  if (kind !== undefined && !KINDS.includes(kind as string)) throw configError(`openid.${name}TokenKind`, 'must be id, access or userinfo')
  return { roles, path: text(path, `openid.${name}ParameterPath`, ''), kind: (kind ?? 'id') as TokenKind }
}

function absoluteUrl (value: string): string {
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) throw configError('openid.postLogoutRedirectUri', 'must be an absolute http(s) URL')
  return value
}
