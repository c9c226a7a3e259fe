/** The social providers this package knows, in the order LibreChat's login page lists them. */
export const SOCIAL_PROVIDERS = ['google', 'facebook', 'github', 'discord'] as const
export type SocialProviderName = typeof SOCIAL_PROVIDERS[number]

/** Where a provider's OAuth2 endpoints live. `apiUrl` is the base its user endpoints hang off. */
export interface ProviderEndpoints {
  authorizeUrl: string
  tokenUrl: string
  apiUrl: string
}

/** What is fixed about a provider: data, so a stand-in or a regional endpoint only overrides URLs. */
export interface ProviderPreset {
  name: SocialProviderName
  label: string
  endpoints: ProviderEndpoints
  scope: readonly string[]
  /** Sends a PKCE S256 challenge (the provider documents support for it). */
  pkce: boolean
  /** How the client authenticates at the token endpoint. */
  clientAuth: 'header' | 'body'
}

export const PRESETS: Readonly<Record<SocialProviderName, ProviderPreset>> = {
  google: {
    name: 'google',
    label: 'Continue with Google',
    endpoints: { authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth', tokenUrl: 'https://oauth2.googleapis.com/token', apiUrl: 'https://openidconnect.googleapis.com' },
    scope: ['openid', 'profile', 'email'],
    pkce: true,
    clientAuth: 'header'
  },
  facebook: {
    name: 'facebook',
    label: 'Continue with Facebook',
    endpoints: { authorizeUrl: 'https://www.facebook.com/v19.0/dialog/oauth', tokenUrl: 'https://graph.facebook.com/v19.0/oauth/access_token', apiUrl: 'https://graph.facebook.com/v19.0' },
    scope: ['public_profile', 'email'],
    // Facebook's web login documents no PKCE for confidential clients: state and the secret carry it.
    pkce: false,
    clientAuth: 'body'
  },
  github: {
    name: 'github',
    label: 'Continue with GitHub',
    endpoints: { authorizeUrl: 'https://github.com/login/oauth/authorize', tokenUrl: 'https://github.com/login/oauth/access_token', apiUrl: 'https://api.github.com' },
    scope: ['read:user', 'user:email'],
    pkce: true,
    clientAuth: 'body'
  },
  discord: {
    name: 'discord',
    label: 'Continue with Discord',
    endpoints: { authorizeUrl: 'https://discord.com/oauth2/authorize', tokenUrl: 'https://discord.com/api/oauth2/token', apiUrl: 'https://discord.com/api' },
    scope: ['identify', 'email'],
    pkce: true,
    clientAuth: 'header'
  }
}

/** GitHub Enterprise Server keeps the OAuth pages at the instance's root and the REST API under `/api/v3`. */
export function githubEnterpriseEndpoints (baseUrl: string): ProviderEndpoints {
  return { authorizeUrl: `${baseUrl}/login/oauth/authorize`, tokenUrl: `${baseUrl}/login/oauth/access_token`, apiUrl: `${baseUrl}/api/v3` }
}
