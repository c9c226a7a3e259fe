/** The OAuth2 providers a stand-in can play. */
export type ProviderKind = 'google' | 'github' | 'discord' | 'facebook'

/**
 * A string no real provider sends: it is in every fault body and every denial's error_description,
 * so a test can assert that nothing the provider said reaches a reply, a log line or an event.
 */
export const PROVIDER_CANARY = 'provider-canary-3f9c1d7e'

/**
 * The person who consents at the next authorize request. Each authorize takes a snapshot, so a
 * change after it applies from the next authorize on. Email is only released when the client asked
 * for it, as the real providers do: Google's `email` scope, GitHub's `user:email` (or `user`) for
 * /user/emails, Discord's `email`, Facebook's `email` permission.
 */
export interface StandInUser {
  /** Google sub, GitHub numeric id (as a string), Discord snowflake, Facebook id. */
  subject: string
  /** null: the provider gives no email. */
  email: string | null
  /** Google email_verified, Discord verified, GitHub: the primary email's verified flag; Facebook has no flag. */
  emailVerified: boolean
  name?: string | null
  /** GitHub login / Discord username. */
  login?: string | null
  /** GitHub avatar_url, Discord avatar hash, Google picture URL, Facebook picture URL. */
  avatar?: string | null
  /**
   * GitHub /user/emails override. GitHub's /user shows the primary email only when it is verified
   * (a profile's public email must be a verified one).
   */
  emails?: Array<{ email: string, primary: boolean, verified: boolean }>
}

/** One request as the stand-in received it. */
export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  headers: Record<string, string | string[] | undefined>
  /** The parsed body when it was application/x-www-form-urlencoded; null otherwise. */
  form: Record<string, string> | null
}

export type Fault = null | 'error' | 'hang'

export interface ProviderStandIn {
  kind: ProviderKind
  /** http://127.0.0.1:<port> */
  origin: string
  clientId: string
  clientSecret: string
  /** The values to configure the plugin with, for this kind: authorizeUrl, tokenUrl, apiUrl (API base). */
  endpoints: { authorizeUrl: string, tokenUrl: string, apiUrl: string }
  /** For GitHub Enterprise: the base URL to give as GITHUB_ENTERPRISE_BASE_URL (origin); undefined otherwise. */
  enterpriseBaseUrl?: string
  /** Mutable: the person who consents at the next authorize. */
  user: StandInUser
  /** The next authorize answers error=access_denied&error_description=<canary>, then this resets to false. */
  deny: boolean
  /** 'error': 500 with a body containing PROVIDER_CANARY; 'hang': never answers (until close()). */
  tokenFault: Fault
  apiFault: Fault
  /** Every request received, in order, for assertions such as PKCE and redirect_uri. */
  requests: RecordedRequest[]
  /**
   * Plays the browser at the provider: GETs `authorizeUrl` (what our /oauth/<p> redirected to) with
   * redirect: 'manual' and returns the Location it answers (our callback URL with code and state, or
   * error). Throws when the URL is not this stand-in's or the answer is not a redirect.
   */
  consent(authorizeUrl: string): Promise<string>
  /** Stops the server and destroys open sockets, hanging ones included. */
  close(): Promise<void>
}

export interface StandInOptions {
  /** GitHub only: play GitHub Enterprise Server (API under /api/v3). */
  enterprise?: boolean
  clientId?: string
  clientSecret?: string
  user?: StandInUser
  /** The clock for Google's id_token iat and exp (default: the real one); give the test's injected clock. */
  now?: () => Date
}
