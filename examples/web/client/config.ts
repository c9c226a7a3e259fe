/** GET /api/auth/config once per page load, and the names of the sign-in providers it lists. */
import { request } from './api.ts'

export interface AuthConfig {
  emailLoginEnabled: boolean
  registrationEnabled: boolean
  emailEnabled: boolean
  passwordResetEnabled: boolean
  socialLogins: string[]
  openidLabel: string
  openidAutoRedirect: boolean
  openidLoginEnabled: boolean
  minPasswordLength: number
}

let loading: Promise<AuthConfig> | null = null

export function authConfig (): Promise<AuthConfig> {
  loading ??= request<AuthConfig>('GET', '/api/auth/config').catch(error => {
    loading = null
    throw error
  })
  return loading
}

const NAMES: Record<string, string> = { google: 'Google', github: 'GitHub', discord: 'Discord', facebook: 'Facebook' }

/** "GitHub"; for OpenID the button label without its verb ("Login with Keycloak" → "Keycloak"). */
export function providerName (config: AuthConfig, provider: string): string {
  if (provider === 'openid') {
    const short = config.openidLabel.replace(/^\s*(log\s*in|sign\s*in|continue)\s+(with|using|via)\s+/i, '').trim()
    return short === '' ? 'OpenID' : short
  }
  return NAMES[provider] ?? provider.charAt(0).toUpperCase() + provider.slice(1)
}

/** The sign-in button's text: "Continue with GitHub", or the configured OpenID label as it is. */
export function signInLabel (config: AuthConfig, provider: string): string {
  return provider === 'openid' ? config.openidLabel : `Continue with ${providerName(config, provider)}`
}
