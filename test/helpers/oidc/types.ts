/** The person who signs in at the provider. */
export interface OidcAccount {
  sub: string
  /**
   * Claims returned in the ID token and at userinfo (email, email_verified, name, preferred_username,
   * picture, roles, groups, realm_access: { roles }, xms_edov, tid, ...), arbitrary JSON. The
   * standard ones are released by their scope (profile, email, address, phone); any other name is
   * released with `openid`, as Entra ID and Keycloak release roles and groups.
   */
  claims: Record<string, unknown>
}

/**
 * How the next responses lie, until set back to null. The ID token ones re-sign it with the
 * provider's own RSA key (unless the name says otherwise):
 * - 'wrong-issuer', 'wrong-audience': iss, aud name someone else;
 * - 'extra-audience': aud is [clientId, another client] and there is no azp;
 * - 'bad-nonce', 'no-nonce': the nonce differs from the authorization request's, or is left out;
 * - 'expired': exp an hour ago (iat two hours ago); 'iat-week-old': iat a week ago, exp still ahead;
 * - 'alg-none': `alg: none` and no signature; 'bad-signature': RS256 with a corrupted signature;
 * - 'hs256-client-secret': HS256 with the client secret as the key;
 * - 'userinfo-other-sub': userinfo answers another sub;
 * - 'discovery-issuer-mismatch': discovery names another issuer (a URL under the same origin);
 * - 'access-token-opaque': the access token is the provider's opaque one, not a JWT.
 */
export type Misbehaviour = null | 'wrong-issuer' | 'wrong-audience' | 'extra-audience' | 'bad-nonce' | 'no-nonce' | 'expired' | 'iat-week-old' |
  'alg-none' | 'bad-signature' | 'hs256-client-secret' | 'userinfo-other-sub' | 'discovery-issuer-mismatch' | 'access-token-opaque'

/** One request as the stand-in received it. */
export interface OidcRequest {
  method: string
  /** The full path, issuerPath included. */
  path: string
  query: Record<string, string>
  /** The form fields of an application/x-www-form-urlencoded body; null otherwise. */
  form: Record<string, string> | null
}

export interface OidcStandIn {
  /** The issuer URL as discovery reports it, e.g. http://127.0.0.1:<port> (or with a path, see options). */
  issuer: string
  clientId: string
  clientSecret: string
  /**
   * The account that "logs in" at the next interaction (mutable). The login takes a snapshot: tokens
   * and userinfo keep what the account was then. A claim name the provider was not started with
   * (options.account) makes signIn throw, since oidc-provider fixes its claim names at start.
   */
  account: OidcAccount
  /** The next token (and userinfo, and discovery) responses misbehave this way until set back to null. */
  misbehave: Misbehaviour
  /*
   * Access tokens are RS256 JWTs (typ at+jwt, signed with the ID token key, aud the client id)
   * carrying account.claims merged in, so role claims can be read from them; userinfo takes them.
   * With 'access-token-opaque' they are oidc-provider's opaque strings.
   */
  /** Requests seen, for assertions (method, path, query, form). */
  requests: OidcRequest[]
  /**
   * Plays the browser: given our app's authorization redirect URL (to this provider), walks the
   * provider's login and consent interaction pages with a cookie jar (real HTTP: GET the authorize
   * URL, follow to the interaction, POST login for `account.sub`, POST consent, follow back) and
   * returns the final redirect Location: our callback URL with code and state (or error).
   * `deny: true` answers access_denied instead. Throws when the provider answers with a page of
   * its own (an error the client cannot be told through the redirect, such as a wrong redirect_uri).
   */
  signIn(authorizeUrl: string, options?: { deny?: boolean }): Promise<string>
  /** Stop answering (connection refused) and start again on the same port: for "issuer down at start, then up". */
  stop(): Promise<void>
  start(): Promise<void>
  close(): Promise<void>
}

export interface OidcProviderOptions {
  clientId?: string
  clientSecret?: string
  /** Default ['http://127.0.0.1:3080/oauth/openid/callback'] (LibreChat's callback on its default port). */
  redirectUris?: string[]
  /** The issuer's path, e.g. '/tenant/v2.0' (Entra ID's shape): discovery is at <issuer>/.well-known/openid-configuration. */
  issuerPath?: string
  account?: OidcAccount
  /** How the client must authenticate at the token endpoint (default client_secret_basic, the spec's default). */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post'
  /** Advertise an end_session_endpoint (RP-initiated logout); default false. */
  endSession?: boolean
  /** false: the provider has no userinfo endpoint. Default true. */
  userinfo?: boolean
}

export const DEFAULT_REDIRECT_URIS = ['http://127.0.0.1:3080/oauth/openid/callback']

/** A verified person with a role and a group, as most OpenID providers describe one. */
export function defaultAccount (): OidcAccount {
  return {
    sub: 'a7c3e9f0-5b1d-4e2a-9c8f-0d6b4a1e2f37',
    claims: {
      email: 'ada@example.test',
      email_verified: true,
      name: 'Ada Lovelace',
      preferred_username: 'ada',
      picture: 'https://idp.example.test/avatars/ada.png',
      roles: ['librechat-user'],
      groups: ['engineering']
    }
  }
}
