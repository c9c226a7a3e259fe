import type { FastifyBaseLogger } from 'fastify'
import * as oidc from 'openid-client'
import type { Clock } from '../../lib/clock.ts'
import { ProviderFailure } from '../../lib/identities/provider-profile.ts'
import type { OpenIdConfig } from '../../lib/identities/openid-config.ts'

/** How long a failed discovery stands before the next request tries again. */
export const DISCOVERY_RETRY_MS = 5000

/**
 * The issuer's discovered configuration, fetched once and kept (openid-client keeps its JWKS and
 * fetches them again when a token names a key it has not seen: key rotation). An issuer that is down
 * does not stop the app: each OpenID request fails (`unavailable`) until a retry reaches it, a few
 * seconds apart, and the log says so once per outage.
 */
export interface OpenIdIssuer {
  configuration(): Promise<oidc.Configuration>
}

/**
 * How the client proves itself at the token endpoint: HTTP Basic (the spec's default, and what Okta or
 * Keycloak register by default) unless the issuer lists only `client_secret_post`; none for a public client.
 */
export function clientAuthentication (secret: string | null): oidc.ClientAuth {
  if (secret === null) return oidc.None()
  const basic = oidc.ClientSecretBasic(secret)
  const post = oidc.ClientSecretPost(secret)
  return (as, client, body, headers) => {
    const methods = as.token_endpoint_auth_methods_supported
    const useBasic = methods === undefined || methods.includes('client_secret_basic') || !methods.includes('client_secret_post')
    return (useBasic ? basic : post)(as, client, body, headers)
  }
}

/**
 * ID-token signatures are checked against the issuer's keys (fetched again on an unknown key id), not
 * left to TLS alone. Plain http is only used for a loopback issuer outside production (checked at start).
 */
export function discoveryOptions (issuer: URL, timeoutMs: number): oidc.DiscoveryRequestOptions {
  const execute = [oidc.enableNonRepudiationChecks]
  if (issuer.protocol === 'http:') execute.push(oidc.allowInsecureRequests)
  return { timeout: Math.max(1, Math.ceil(timeoutMs / 1000)), execute }
}

export function openIdIssuer (config: OpenIdConfig, options: { timeoutMs: number, log: FastifyBaseLogger, now: Clock }): OpenIdIssuer {
  const { log, now } = options
  let ready: oidc.Configuration | null = null
  let pending: Promise<oidc.Configuration> | null = null
  let failedAt: number | null = null
  let down = false

  const discoverIssuer = async (): Promise<oidc.Configuration> => {
    const url = new URL(config.issuer)
    const discover = async (issuer: URL): Promise<oidc.Configuration> =>
      oidc.discovery(issuer, config.clientId, undefined, clientAuthentication(config.clientSecret), discoveryOptions(issuer, options.timeoutMs))
    // The issuer is kept without a trailing slash (Entra's `…/v2.0/` is `…/v2.0`), but some issuers'
    // names end in one (Authentik's `…/application/o/<app>/`): when discovery says the name differs, try that.
    const configuration = await discover(url).catch(async (error: unknown) => {
      if ((error as { code?: unknown }).code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED') throw error
      return discover(new URL(`${url.href}/`))
    })
    if (down) log.info({ event: 'lcauth.openid_issuer_recovered', issuer: config.issuer }, 'the OpenID issuer answers again')
    down = false
    ready = configuration
    return configuration
  }

  return {
    async configuration () {
      if (ready !== null) return ready
      if (failedAt !== null && now().getTime() - failedAt < DISCOVERY_RETRY_MS) throw new ProviderFailure('unavailable', 'the OpenID issuer is unreachable (retrying shortly)')
      pending ??= discoverIssuer().catch((error: unknown) => {
        failedAt = now().getTime()
        if (!down) log.warn({ event: 'lcauth.openid_issuer_unavailable', issuer: config.issuer, reason: (error as Error).message }, 'the OpenID issuer could not be discovered: OpenID sign-in fails until it answers')
        down = true
        throw new ProviderFailure('unavailable', `the OpenID issuer could not be discovered (${(error as Error).message})`)
      }).finally(() => { pending = null })
      return pending
    }
  }
}
