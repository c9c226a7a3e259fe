/** Reading values out of token claims and userinfo responses, as LibreChat's role options name them. */

type Json = Record<string, unknown>

/** The value at a dot path (`realm_access.roles`, `resource_access.chat.roles`); undefined when any step is missing. */
export function valueAt (claims: Json, path: string): unknown {
  let value: unknown = claims
  for (const step of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, step)) return undefined
    value = (value as Json)[step]
  }
  return value
}

/** Roles at a path: an array of strings, or one string of roles separated by spaces or commas. */
export function rolesAt (claims: Json, path: string): string[] {
  const value = valueAt(claims, path)
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string')
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(v => v !== '')
  return []
}

/** The claims of a JWT's payload, unverified (it came straight from the token endpoint); null when it is not a JWT. */
export function jwtClaims (token: string): Json | null {
  const parts = token.split('.')
  if (parts.length !== 3) return null
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'))
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims) ? claims as Json : null
  } catch {
    return null
  }
}
