import type { AuthConfig, PublicConfig } from './types.ts'

/** The settings without a secret: the JWT secrets, every provider's client secret, OpenID's secrets. */
export function publicConfigOf (config: AuthConfig): PublicConfig {
  const { jwtSecret: _jwt, jwtRefreshSecret: _refresh, socialLogin, openid, ...settings } = config
  return {
    ...settings,
    socialLogin: { ...socialLogin, providers: socialLogin.providers.map(({ clientSecret: _secret, ...provider }) => provider) },
    openid: openid === null ? null : (({ clientSecret: _secret, sessionSecret: _session, ...rest }) => rest)(openid)
  }
}
