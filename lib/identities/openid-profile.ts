import { rolesAt, jwtClaims } from './claims.ts'
import type { OpenIdConfig, RoleRule, TokenKind } from './openid-config.ts'
import { httpsUrl, ProviderFailure, type ProviderProfile } from './provider-profile.ts'

type Json = Record<string, unknown>

const str = (value: unknown): string | null => typeof value === 'string' && value.trim() !== '' ? value.trim() : null
const ENTRA_HOSTS = /(^|\.)(login\.microsoftonline\.(com|us)|login\.partner\.microsoftonline\.cn|ciamlogin\.com)$/

/**
 * Microsoft Entra's `email` claim is whatever a tenant admin typed ("nOAuth"): it counts as verified
 * only when the token says the domain owner verified it (`xms_edov`). Entra is known by its issuer,
 * or by the tenant id its tokens always carry.
 */
function isEntra (issuer: string, claims: Json): boolean {
  return ENTRA_HOSTS.test(new URL(issuer).hostname) || typeof claims.tid === 'string'
}

/**
 * Who signed in, from the ID token's claims merged with userinfo. Identity is `sub` (with the issuer);
 * the email counts as verified only when it is the `email` claim's value and the provider said so.
 */
export function openIdProfile (claims: Json, issuer: string, names: OpenIdConfig['claims']): ProviderProfile {
  const subject = str(claims.sub)
  if (subject === null || subject.length > 255) throw new ProviderFailure('provider_error', 'the ID token has no usable sub')
  const emailClaim = names.email ?? 'email'
  const email = str(claims[emailClaim]) ?? (names.email === null ? str(claims.preferred_username) ?? str(claims.upn) : null)
  // email_verified (and Entra's xms_edov) speak of the `email` claim only, whatever claim supplied the address.
  const fromEmailClaim = email !== null && email === str(claims.email)
  const entra = isEntra(issuer, claims)
  const said = entra ? claims.xms_edov : claims.email_verified
  return {
    subject,
    email,
    // Cognito's userinfo sends "true" as a string.
    emailVerified: fromEmailClaim && (said === true || said === 'true'),
    name: str(claims[names.name ?? 'name']) ?? ([str(claims.given_name), str(claims.family_name)].filter(Boolean).join(' ') || null),
    username: str(claims[names.username ?? 'preferred_username']) ?? str(claims.username),
    // Entra's picture is a Microsoft Graph URL that needs a token: no use as an avatar.
    avatar: entra ? null : httpsUrl(claims.picture)
  }
}

/** Where a role rule reads from: the ID token's claims, userinfo, or the access token (a JWT). */
export interface RoleSources { id: Json, userinfo: Json, accessToken: string }

/** Thrown when `access` is asked for but the access token is not a JWT: the variable named is the operator's to fix. */
export class RoleSourceError extends Error {
  constructor (readonly variable: string) {
    super(`${variable} is access, but the provider's access token is not a JWT: its roles cannot be read`)
    this.name = 'RoleSourceError'
  }
}

function claimsOf (sources: RoleSources, kind: TokenKind, variable: string): Json {
  if (kind === 'id') return sources.id
  if (kind === 'userinfo') return sources.userinfo
  const claims = jwtClaims(sources.accessToken)
  if (claims === null) throw new RoleSourceError(variable)
  return claims
}

/** True when the rule's token holds one of its roles. `variable` names the token-kind setting for errors. */
export function holdsRole (rule: RoleRule, sources: RoleSources, variable: string): boolean {
  const held = rolesAt(claimsOf(sources, rule.kind, variable), rule.path)
  return rule.roles.some(role => held.includes(role))
}
