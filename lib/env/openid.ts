import { configError } from '../errors.ts'
import type { OpenIdOptions, TokenKind } from '../identities/openid-config.ts'
import { bool, type Env, read, setterOf } from './read.ts'

/**
 * LibreChat's `OPENID_*` variables. OpenID is configured when `OPENID_CLIENT_ID` or `OPENID_ISSUER`
 * is set; then both are required. Values are checked where the option is resolved, except the token
 * kinds, whose variable is named here.
 */
export function openIdFromEnv (env: Env): OpenIdOptions | undefined {
  const clientId = read(env, 'OPENID_CLIENT_ID')
  const issuer = read(env, 'OPENID_ISSUER')
  if (clientId === undefined && issuer === undefined) return undefined
  if (clientId === undefined) throw configError('OPENID_CLIENT_ID', 'is required when OPENID_ISSUER is set')
  if (issuer === undefined) throw configError('OPENID_ISSUER', 'is required when OPENID_CLIENT_ID is set')
  const options: OpenIdOptions = { issuer, clientId }
  const set = setterOf(options)
  set('clientSecret', read(env, 'OPENID_CLIENT_SECRET', { trim: false }))
  set('scope', read(env, 'OPENID_SCOPE'))
  set('callbackUrl', read(env, 'OPENID_CALLBACK_URL'))
  set('sessionSecret', read(env, 'OPENID_SESSION_SECRET', { trim: false }))
  set('emailClaim', read(env, 'OPENID_EMAIL_CLAIM'))
  set('usernameClaim', read(env, 'OPENID_USERNAME_CLAIM'))
  set('nameClaim', read(env, 'OPENID_NAME_CLAIM'))
  set('requiredRole', read(env, 'OPENID_REQUIRED_ROLE')?.split(',').map(r => r.trim()).filter(r => r !== ''))
  set('requiredRoleParameterPath', read(env, 'OPENID_REQUIRED_ROLE_PARAMETER_PATH'))
  set('requiredRoleTokenKind', tokenKind(env, 'OPENID_REQUIRED_ROLE_TOKEN_KIND'))
  set('adminRole', read(env, 'OPENID_ADMIN_ROLE'))
  set('adminRoleParameterPath', read(env, 'OPENID_ADMIN_ROLE_PARAMETER_PATH'))
  set('adminRoleTokenKind', tokenKind(env, 'OPENID_ADMIN_ROLE_TOKEN_KIND'))
  set('buttonLabel', read(env, 'OPENID_BUTTON_LABEL'))
  set('imageUrl', read(env, 'OPENID_IMAGE_URL'))
  set('autoRedirect', bool(env, 'OPENID_AUTO_REDIRECT'))
  set('useEndSessionEndpoint', bool(env, 'OPENID_USE_END_SESSION_ENDPOINT'))
  set('postLogoutRedirectUri', read(env, 'OPENID_POST_LOGOUT_REDIRECT_URI'))
  return options
}

function tokenKind (env: Env, name: 'OPENID_REQUIRED_ROLE_TOKEN_KIND' | 'OPENID_ADMIN_ROLE_TOKEN_KIND'): TokenKind | undefined {
  const value = read(env, name)?.toLowerCase()
  if (value === undefined) return undefined
  if (value !== 'id' && value !== 'access' && value !== 'userinfo') throw configError(name, 'must be id, access or userinfo')
  return value
}
