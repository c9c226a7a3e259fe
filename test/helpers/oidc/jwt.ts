import { createHmac, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto'
import { promisify } from 'node:util'
import type { Misbehaviour } from './types.ts'

// The provider's signing key, kept so the stand-in can re-sign what oidc-provider issued, and the
// JWT surgery the misbehaviours need. Written with node:crypto alone, like the OAuth2 stand-ins.

export interface SigningKey {
  privateKey: KeyObject
  /** The private JWK as oidc-provider takes it in `jwks.keys`. */
  jwk: { kid: string, alg: 'RS256', use: 'sig', [member: string]: unknown }
}

let signingKey: Promise<SigningKey> | undefined

/** One RSA pair for the whole test process (generating one costs ~50 ms). */
export function providerSigningKey (): Promise<SigningKey> {
  signingKey ??= promisify(generateKeyPair)('rsa', { modulusLength: 2048 }).then(({ privateKey }) => ({
    privateKey,
    jwk: { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(12).toString('base64url'), alg: 'RS256', use: 'sig' }
  }))
  return signingKey
}

export type JwtPart = Record<string, unknown>

const encode = (part: JwtPart): string => Buffer.from(JSON.stringify(part)).toString('base64url')
const decodePart = (part: string | undefined): JwtPart => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as JwtPart

/** The header and payload of a compact JWS, unverified. */
export function decodeJwt (jwt: string): { header: JwtPart, payload: JwtPart } {
  const [header, payload] = jwt.split('.')
  return { header: decodePart(header), payload: decodePart(payload) }
}

export const isJwt = (value: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(value)

/** A compact JWS: RS256 with the key, HS256 with the secret, or `none` with no signature. */
export function signJwt (header: JwtPart, payload: JwtPart, key: KeyObject | string | null): string {
  const input = `${encode(header)}.${encode(payload)}`
  switch (header.alg) {
    case 'RS256':
      if (typeof key === 'string' || key === null) throw new Error('RS256 needs a private key')
      return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`
    case 'HS256':
      if (typeof key !== 'string') throw new Error('HS256 needs a secret')
      return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`
    case 'none':
      return `${input}.`
    default:
      throw new Error(`cannot sign with alg ${String(header.alg)}`)
  }
}

/** The signature with its first byte inverted: same length, same alg, no longer valid. */
function corrupt (jwt: string): string {
  const dot = jwt.lastIndexOf('.')
  const signature = Buffer.from(jwt.slice(dot + 1), 'base64url')
  signature[0] = (signature[0] ?? 0) ^ 0xff
  return `${jwt.slice(0, dot)}.${signature.toString('base64url')}`
}

export const ID_TOKEN_MISBEHAVIOURS = new Set<Misbehaviour>([
  'wrong-issuer', 'wrong-audience', 'extra-audience', 'bad-nonce', 'no-nonce', 'expired', 'iat-week-old', 'alg-none', 'bad-signature', 'hs256-client-secret'
])

const HOUR = 3600
const WEEK = 7 * 24 * HOUR

/** The ID token oidc-provider issued, changed the way `mode` says and signed again. */
export function misbehavingIdToken (idToken: string, mode: Misbehaviour, key: SigningKey, clientSecret: string): string {
  const { header, payload } = decodeJwt(idToken)
  const now = Math.floor(Date.now() / 1000)
  switch (mode) {
    case 'wrong-issuer': payload.iss = 'https://impostor.example.test'; break
    case 'wrong-audience': payload.aud = 'another-client'; break
    case 'extra-audience':
      payload.aud = [payload.aud, 'another-client']
      delete payload.azp
      break
    case 'bad-nonce': payload.nonce = 'not-the-nonce-that-was-sent'; break
    case 'no-nonce': delete payload.nonce; break
    case 'expired': Object.assign(payload, { iat: now - 2 * HOUR, exp: now - HOUR }); break
    case 'iat-week-old': payload.iat = now - WEEK; break
    case 'alg-none': return signJwt({ alg: 'none', typ: 'JWT' }, payload, null)
    case 'hs256-client-secret': return signJwt({ alg: 'HS256', typ: 'JWT' }, payload, clientSecret)
    case 'bad-signature': return corrupt(signJwt(header, payload, key.privateKey))
    default: throw new Error(`${String(mode)} is not an ID token misbehaviour`)
  }
  return signJwt(header, payload, key.privateKey)
}

/** What an access token JWT says (RFC 9068), with the account's claims merged under the protocol ones. */
export interface AccessTokenClaims { issuer: string, clientId: string, sub: string, scope: string, iat: number, exp: number, jti: string, claims: JwtPart }

export function accessTokenJwt (key: SigningKey, at: AccessTokenClaims): string {
  return signJwt({ alg: 'RS256', typ: 'at+jwt', kid: key.jwk.kid }, {
    ...at.claims,
    iss: at.issuer,
    sub: at.sub,
    aud: at.clientId,
    client_id: at.clientId,
    scope: at.scope,
    iat: at.iat,
    exp: at.exp,
    jti: at.jti
  }, key.privateKey)
}
