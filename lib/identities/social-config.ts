import { configError } from '../errors.ts'
import { fieldOf, integer, objectOf, onlyKnownKeys, text } from '../options/validate.ts'
import { githubEnterpriseEndpoints, PRESETS, type ProviderEndpoints, type ProviderPreset, SOCIAL_PROVIDERS, type SocialProviderName } from './presets.ts'

/** One social provider's app credentials (`<P>_CLIENT_ID`, `<P>_CLIENT_SECRET`, `<P>_CALLBACK_URL`). */
export interface SocialProviderOptions {
  clientId: string
  clientSecret: string
  /** The callback's path on `domainServer` (`<P>_CALLBACK_URL`), default `/oauth/<provider>/callback`. */
  callbackUrl?: string
  /** Replaces preset endpoints (`<P>_AUTHORIZATION_URL`, `<P>_TOKEN_URL`, `<P>_API_URL`): https, or http on loopback outside production. */
  endpoints?: Partial<ProviderEndpoints>
}

export interface SocialLoginOptions {
  google?: SocialProviderOptions
  /** `enterpriseBaseUrl` (`GITHUB_ENTERPRISE_BASE_URL`): a GitHub Enterprise Server instance instead of github.com. */
  github?: SocialProviderOptions & { enterpriseBaseUrl?: string }
  discord?: SocialProviderOptions
  facebook?: SocialProviderOptions
  /** How long one request to a provider may take, ms (`OAUTH_TIMEOUT_MS`), default 10000. */
  timeout?: number
}

/** A provider ready to serve: its preset with the app's credentials and the absolute callback URL. */
export interface SocialProviderConfig extends ProviderPreset {
  clientId: string
  clientSecret: string
  /** `domainServer` + the callback path: what the provider redirects back to. Never built from a request. */
  callbackUrl: string
}

export interface SocialLoginConfig {
  /** The enabled providers, in LibreChat's order; empty unless `allowSocialLogin`. */
  providers: readonly SocialProviderConfig[]
  timeout: number
}

interface Context {
  allowSocialLogin: boolean
  domainServer: string
  risky: (option: string, problem: string) => void
  warnings: string[]
}

const PROVIDER_KEYS = { clientId: 1, clientSecret: 1, callbackUrl: 1, endpoints: 1, enterpriseBaseUrl: 1 }
const ENDPOINT_KEYS = { authorizeUrl: 1, tokenUrl: 1, apiUrl: 1 }

/** Validates `socialLogin`; providers with credentials are enabled only when `allowSocialLogin` is true. */
export function resolveSocialLogin (value: unknown, context: Context): SocialLoginConfig {
  const options = objectOf(value, 'socialLogin')
  onlyKnownKeys(options, 'socialLogin', { ...Object.fromEntries(SOCIAL_PROVIDERS.map(p => [p, 1])), timeout: 1 }, 'social login option')
  const configured = SOCIAL_PROVIDERS.filter(name => fieldOf(options, name) !== undefined)
    .map(name => provider(name, objectOf(fieldOf(options, name), `socialLogin.${name}`), context))
  if (!context.allowSocialLogin && configured.length > 0) {
    context.warnings.push(`socialLogin configures ${configured.map(p => p.name).join(', ')} but allowSocialLogin is false: no social login is offered`)
  }
  return {
    providers: context.allowSocialLogin ? configured : [],
    timeout: integer(fieldOf(options, 'timeout'), 'socialLogin.timeout', 10_000, 100, 60_000)
  }
}

function provider (name: SocialProviderName, options: Record<string, unknown>, context: Context): SocialProviderConfig {
  const option = `socialLogin.${name}`
  onlyKnownKeys(options, option, PROVIDER_KEYS, 'provider option')
  const preset = PRESETS[name]
  const enterprise = fieldOf(options, 'enterpriseBaseUrl')
  if (enterprise !== undefined && name !== 'github') throw configError(`${option}.enterpriseBaseUrl`, 'is for GitHub only')
  const base = enterprise === undefined ? preset.endpoints : githubEnterpriseEndpoints(endpointUrl(enterprise, `${option}.enterpriseBaseUrl`, context.risky))
  const overrides = objectOf(fieldOf(options, 'endpoints'), `${option}.endpoints`)
  onlyKnownKeys(overrides, `${option}.endpoints`, ENDPOINT_KEYS, 'endpoint')
  const endpoint = (key: keyof ProviderEndpoints): string => {
    const given = fieldOf(overrides, key)
    return given === undefined ? base[key] : endpointUrl(given, `${option}.endpoints.${key}`, context.risky)
  }
  const path = callbackPath(fieldOf(options, 'callbackUrl'), `${option}.callbackUrl`, name, context.warnings)
  return {
    ...preset,
    endpoints: { authorizeUrl: endpoint('authorizeUrl'), tokenUrl: endpoint('tokenUrl'), apiUrl: endpoint('apiUrl') },
    clientId: required(options, option, 'clientId'),
    clientSecret: required(options, option, 'clientSecret'),
    callbackUrl: `${context.domainServer}${path}`
  }
}

function required (options: Record<string, unknown>, option: string, key: string): string {
  const value = fieldOf(options, key)
  if (value === undefined) throw configError(`${option}.${key}`, 'is required')
  return text(value, `${option}.${key}`, '')
}

/** A callback path on DOMAIN_SERVER; one other than the route's own is allowed (a proxy may rewrite it) with a warning. */
export function callbackPath (value: unknown, option: string, name: string, warnings: string[]): string {
  const route = `/oauth/${name}/callback`
  if (value === undefined) return route
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) {
    throw configError(option, `must be a path on DOMAIN_SERVER such as ${route}`)
  }
  if (value !== route) warnings.push(`${option} is ${value}, but ${name}'s callback route is ${route}: the provider must reach that route (a proxy rewriting paths), or sign-in fails`)
  return value
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

/** Provider endpoints carry codes and secrets: https, except a loopback http URL (a stand-in) outside production. */
export function endpointUrl (value: unknown, option: string, risky: Context['risky']): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw configError(option, 'must be an absolute https URL')
  const url = new URL(value)
  const loopbackHttp = url.protocol === 'http:' && (LOOPBACK.has(url.hostname) || url.hostname.startsWith('127.'))
  if (url.protocol !== 'https:' && !loopbackHttp) throw configError(option, 'must be an https URL (http only for a loopback address, outside production)')
  if (loopbackHttp) risky(option, 'is a plain-http loopback URL, for development and tests only')
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') throw configError(option, 'must not carry a query, a fragment or credentials')
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}
