import type { CoreConfig } from '../options/types.ts'
import type { ProviderRegistry } from './providers.ts'

/**
 * The auth part of LibreChat's startup config (its client's `TStartupConfig`), with LibreChat's field
 * names: what a login page needs to know. Providers this package does not offer (Apple, SAML, LDAP)
 * are reported off, so LibreChat's client renders as it would with them unset.
 */
export interface StartupConfig {
  emailLoginEnabled: boolean
  registrationEnabled: boolean
  socialLoginEnabled: boolean
  emailEnabled: boolean
  passwordResetEnabled: boolean
  socialLogins: string[]
  googleLoginEnabled: boolean
  githubLoginEnabled: boolean
  discordLoginEnabled: boolean
  facebookLoginEnabled: boolean
  appleLoginEnabled: boolean
  openidLoginEnabled: boolean
  openidLabel: string
  openidImageUrl: string
  openidAutoRedirect: boolean
  samlLoginEnabled: boolean
  samlLabel: string
  samlImageUrl: string
  ldap: { enabled: boolean }
  serverDomain: string
  minPasswordLength: number
}

/** LibreChat's default `socialLogins` order; providers it does not know follow, in registration order. */
const LIBRECHAT_ORDER = ['google', 'facebook', 'openid', 'github', 'discord']
const rank = (name: string): number => {
  const at = LIBRECHAT_ORDER.indexOf(name)
  return at === -1 ? LIBRECHAT_ORDER.length : at
}

export function startupConfig (config: CoreConfig, providers: ProviderRegistry, state: { mail: boolean, passwordReset: boolean }): StartupConfig {
  const names = providers.list().map(p => p.name)
  const openid = providers.get('openid')
  return {
    emailLoginEnabled: config.allowEmailLogin,
    registrationEnabled: config.allowRegistration,
    socialLoginEnabled: config.allowSocialLogin,
    emailEnabled: state.mail,
    passwordResetEnabled: state.passwordReset,
    // A stable sort keeps registration order among providers of equal rank.
    socialLogins: [...names].sort((a, b) => rank(a) - rank(b)),
    googleLoginEnabled: names.includes('google'),
    githubLoginEnabled: names.includes('github'),
    discordLoginEnabled: names.includes('discord'),
    facebookLoginEnabled: names.includes('facebook'),
    appleLoginEnabled: false,
    openidLoginEnabled: openid !== null,
    openidLabel: openid?.label ?? 'Login with OpenID',
    openidImageUrl: openid?.imageUrl ?? '',
    openidAutoRedirect: openid !== null && config.openid?.autoRedirect === true,
    samlLoginEnabled: false,
    samlLabel: '',
    samlImageUrl: '',
    ldap: { enabled: false },
    serverDomain: config.domainServer,
    minPasswordLength: config.minPasswordLength
  }
}
