import { configError } from '../errors.ts'
import { SOCIAL_PROVIDERS } from '../identities/presets.ts'
import type { SocialLoginOptions, SocialProviderOptions } from '../identities/social-config.ts'
import { type Env, integer, read } from './read.ts'
import type { EnvVariable } from './variables.ts'

/**
 * LibreChat's `<P>_CLIENT_ID`, `<P>_CLIENT_SECRET`, `<P>_CALLBACK_URL` per provider, plus ours: endpoint
 * overrides and `GITHUB_ENTERPRISE_BASE_URL`. A provider with neither id nor secret is left out; one
 * of the two alone is an error naming the other.
 */
export function socialLoginFromEnv (env: Env): SocialLoginOptions | undefined {
  const options: SocialLoginOptions = {}
  for (const name of SOCIAL_PROVIDERS) {
    const P = name.toUpperCase()
    const v = (suffix: string): string | undefined => read(env, `${P}_${suffix}` as EnvVariable, { trim: suffix !== 'CLIENT_SECRET' })
    const clientId = v('CLIENT_ID')
    const clientSecret = v('CLIENT_SECRET')
    if (clientId === undefined && clientSecret === undefined) continue
    if (clientId === undefined) throw configError(`${P}_CLIENT_ID`, `is required when ${P}_CLIENT_SECRET is set`)
    if (clientSecret === undefined) throw configError(`${P}_CLIENT_SECRET`, `is required when ${P}_CLIENT_ID is set`)
    const provider: SocialProviderOptions & { enterpriseBaseUrl?: string } = { clientId, clientSecret }
    const callbackUrl = v('CALLBACK_URL')
    if (callbackUrl !== undefined) provider.callbackUrl = callbackUrl
    const endpoints = Object.fromEntries(([['authorizeUrl', 'AUTHORIZATION_URL'], ['tokenUrl', 'TOKEN_URL'], ['apiUrl', 'API_URL']] as const)
      .map(([key, suffix]) => [key, v(suffix)]).filter(([, value]) => value !== undefined))
    if (Object.keys(endpoints).length > 0) provider.endpoints = endpoints
    const enterprise = name === 'github' ? read(env, 'GITHUB_ENTERPRISE_BASE_URL') : undefined
    if (enterprise !== undefined) provider.enterpriseBaseUrl = enterprise
    options[name] = provider
  }
  const timeout = integer(env, 'OAUTH_TIMEOUT_MS')
  if (timeout !== undefined) options.timeout = timeout
  return Object.keys(options).length === 0 ? undefined : options
}
