import { randomBytes } from 'node:crypto'
import type { Configuration } from 'oidc-provider'
import { mapAdapter } from './adapter.ts'
import type { SigningKey } from './jwt.ts'
import type { OidcAccount } from './types.ts'

/** The standard claims (OpenID Connect Core §5.4) under the scope that releases them. */
const STANDARD_CLAIMS: Record<string, string[]> = {
  profile: ['name', 'family_name', 'given_name', 'middle_name', 'nickname', 'preferred_username', 'profile', 'picture', 'website', 'gender', 'birthdate', 'zoneinfo', 'locale', 'updated_at'],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified']
}

/** What providers add on their own (Entra ID, Keycloak, Okta, Google Workspace), released with openid. */
const PROVIDER_CLAIMS = ['roles', 'groups', 'realm_access', 'resource_access', 'xms_edov', 'tid', 'oid', 'upn', 'unique_name', 'wids', 'hd']

/**
 * The claims configuration: oidc-provider releases only the claim names it was configured with,
 * so any other name in the first account is added under openid.
 */
export function claimsConfig (account: OidcAccount): Record<string, string[]> {
  const known = new Set(Object.values(STANDARD_CLAIMS).flat())
  const custom = new Set(PROVIDER_CLAIMS)
  for (const name of Object.keys(account.claims)) if (!known.has(name)) custom.add(name)
  return { openid: ['sub', ...custom], ...STANDARD_CLAIMS }
}

export interface ConfigInput {
  clientId: string
  clientSecret: string
  redirectUris: string[]
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post'
  endSession: boolean
  /** False: no userinfo endpoint (discovery does not list one). */
  userinfo: boolean
  issuerPath: string
  key: SigningKey
  account: OidcAccount
  /** The account a login recorded for a sub, or undefined. */
  findAccount: (sub: string) => OidcAccount | undefined
}

const page = (title: string, body: string): string => `<!DOCTYPE html><html><head><title>${title}</title></head><body>${body}</body></html>`
const escape = (text: string): string => text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)

export function providerConfig (input: ConfigInput): Configuration {
  const client = {
    client_id: input.clientId,
    client_secret: input.clientSecret,
    redirect_uris: input.redirectUris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: input.tokenEndpointAuthMethod
  }
  return {
    adapter: mapAdapter(),
    clients: [input.endSession ? { ...client, post_logout_redirect_uris: input.redirectUris.map(uri => new URL('/login', uri).href) } : client],
    findAccount (_ctx, sub) {
      const account = input.findAccount(sub)
      return account === undefined ? undefined : { accountId: sub, claims: () => ({ ...account.claims, sub }) }
    },
    claims: claimsConfig(input.account),
    // The scope's claims go into the ID token too, as Entra ID, Keycloak and Google do.
    conformIdTokenClaims: false,
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: input.userinfo },
      rpInitiatedLogout: {
        enabled: input.endSession,
        logoutSource: (ctx: { body: string }, form: string) => { ctx.body = page('Sign out', `${form}<button form="op.logoutForm" type="submit" name="logout" value="yes">Sign out</button>`) },
        postLogoutSuccessSource: (ctx: { body: string }) => { ctx.body = page('Signed out', '<p>Signed out.</p>') }
      }
    },
    // The page for errors that cannot go back to the client (an unknown client or redirect_uri).
    renderError (ctx, out) {
      ctx.type = 'html'
      ctx.body = page('Error', `<h1>${escape(out.error)}</h1><p>${escape(out.error_description ?? '')}</p>`)
    },
    interactions: { url: (_ctx, interaction) => `${input.issuerPath}/interaction/${interaction.uid}` },
    jwks: { keys: [input.key.jwk] },
    pkce: { required: () => true },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 }
  }
}
