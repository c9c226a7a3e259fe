import t from 'tap'
import { refusalOf } from '../helpers/refusal.ts'
import { optionsFromEnv } from '../../lib/env/options-from-env.ts'
import { resolveOptions } from '../../lib/options/resolve.ts'
import type { AuthOptions } from '../../lib/options/types.ts'

const base: AuthOptions = { jwtSecret: 'a'.repeat(40), jwtRefreshSecret: 'b'.repeat(40), domainServer: 'https://chat.example.com/' }
const resolve = (options: Partial<AuthOptions>, production = false) => resolveOptions({ ...base, ...options }, production)
const refusal = refusalOf

t.test('a provider with credentials is enabled only with allowSocialLogin, in LibreChat\'s order, with presets', async t => {
  const socialLogin = { github: { clientId: 'gh-id', clientSecret: 'gh-secret' }, google: { clientId: 'g-id', clientSecret: 'g-secret' } }
  const on = resolve({ allowSocialLogin: true, socialLogin })
  t.same(on.config.socialLogin.providers.map(p => p.name), ['google', 'github'])
  t.match(on.config.socialLogin.providers[0], {
    name: 'google',
    clientId: 'g-id',
    callbackUrl: 'https://chat.example.com/oauth/google/callback',
    endpoints: { authorizeUrl: 'https://accounts.google.com/o/oauth2/v2/auth', tokenUrl: 'https://oauth2.googleapis.com/token' },
    scope: ['openid', 'profile', 'email'],
    pkce: true
  })
  t.equal(on.config.socialLogin.timeout, 10_000)
  t.same(on.warnings, [])

  const off = resolve({ socialLogin })
  t.same(off.config.socialLogin.providers, [])
  t.match(off.warnings, [/socialLogin configures google, github but allowSocialLogin is false/])

  t.match(resolve({ allowSocialLogin: true }).warnings, [/allowSocialLogin is true but no provider is configured/])
})

t.test('callback URLs come from domainServer and the configured path; a path off the route is a warning', async t => {
  const { config, warnings } = resolve({ allowSocialLogin: true, socialLogin: { google: { clientId: 'i', clientSecret: 's', callbackUrl: '/oauth/github/callback' } } })
  t.equal(config.socialLogin.providers[0]?.callbackUrl, 'https://chat.example.com/oauth/github/callback')
  t.match(warnings, [/socialLogin.google.callbackUrl is \/oauth\/github\/callback, but google's callback route is \/oauth\/google\/callback/])
  for (const bad of ['oauth/google/callback', 'https://evil.test/cb', '/a b', 5]) {
    t.match(refusal(() => resolve({ socialLogin: { google: { clientId: 'i', clientSecret: 's', callbackUrl: bad as string } } })), /socialLogin.google.callbackUrl must be a path/)
  }
})

t.test('endpoints: GitHub Enterprise, overrides, https only (loopback http outside production)', async t => {
  const ghe = resolve({ allowSocialLogin: true, socialLogin: { github: { clientId: 'i', clientSecret: 's', enterpriseBaseUrl: 'https://ghe.example.com/' } } })
  t.same(ghe.config.socialLogin.providers[0]?.endpoints, {
    authorizeUrl: 'https://ghe.example.com/login/oauth/authorize', tokenUrl: 'https://ghe.example.com/login/oauth/access_token', apiUrl: 'https://ghe.example.com/api/v3'
  })
  const local = resolve({ allowSocialLogin: true, socialLogin: { discord: { clientId: 'i', clientSecret: 's', endpoints: { apiUrl: 'http://127.0.0.1:9999/api' } } } })
  t.equal(local.config.socialLogin.providers[0]?.endpoints.apiUrl, 'http://127.0.0.1:9999/api')
  t.match(local.warnings, [/socialLogin.discord.endpoints.apiUrl is a plain-http loopback URL/])
  t.match(refusal(() => resolve({ socialLogin: { discord: { clientId: 'i', clientSecret: 's', endpoints: { apiUrl: 'http://localhost/api' } } } }, true)), /refused when NODE_ENV=production/)
  t.match(refusal(() => resolve({ socialLogin: { discord: { clientId: 'i', clientSecret: 's', endpoints: { apiUrl: 'http://discord.example.com/api' } } } })), /must be an https URL/)
  t.match(refusal(() => resolve({ socialLogin: { discord: { clientId: 'i', clientSecret: 's', endpoints: { tokenUrl: 'https://x.example.com/t?secret=1' } } } })), /must not carry a query/)
  t.match(refusal(() => resolve({ socialLogin: { discord: { clientId: 'i', clientSecret: 's', endpoints: { tokenUrl: 'not a url' } } } })), /must be an absolute https URL/)
  t.match(refusal(() => resolve({ socialLogin: { discord: { clientId: 'i', clientSecret: 's', endpoints: { userUrl: 'https://x.example.com' } as never } } })), /socialLogin.discord.endpoints.userUrl is not a known endpoint/)
  t.match(refusal(() => resolve({ socialLogin: { discord: { clientId: 'i', clientSecret: 's', enterpriseBaseUrl: 'https://x.example.com' } as never } })), /socialLogin.discord.enterpriseBaseUrl is for GitHub only/)
})

t.test('credentials are required; unknown providers and keys are refused', async t => {
  t.match(refusal(() => resolve({ socialLogin: { google: { clientSecret: 's' } as never } })), /socialLogin.google.clientId is required/)
  t.match(refusal(() => resolve({ socialLogin: { google: { clientId: 'i', clientSecret: ' ' } } })), /socialLogin.google.clientSecret must be a non-empty string/)
  t.match(refusal(() => resolve({ socialLogin: { gitlab: {} } as never })), /socialLogin.gitlab is not a known social login option/)
  t.match(refusal(() => resolve({ socialLogin: { google: { clientId: 'i', clientSecret: 's', secret: 'x' } as never } })), /socialLogin.google.secret is not a known provider option/)
  t.match(refusal(() => resolve({ socialLogin: { timeout: 10 } })), /socialLogin.timeout must be an integer from 100 to 60000/)
})

t.test('optionsFromEnv maps every provider variable; one credential alone names the other', async t => {
  const options = optionsFromEnv({
    GOOGLE_CLIENT_ID: 'g-id',
    GOOGLE_CLIENT_SECRET: ' g secret ',
    GOOGLE_CALLBACK_URL: '/oauth/google/callback',
    GITHUB_CLIENT_ID: 'gh-id',
    GITHUB_CLIENT_SECRET: 'gh-secret',
    GITHUB_ENTERPRISE_BASE_URL: 'https://ghe.example.com',
    DISCORD_CLIENT_ID: 'd-id',
    DISCORD_CLIENT_SECRET: 'd-secret',
    DISCORD_AUTHORIZATION_URL: 'http://127.0.0.1:1/oauth2/authorize',
    DISCORD_TOKEN_URL: 'http://127.0.0.1:1/api/oauth2/token',
    DISCORD_API_URL: 'http://127.0.0.1:1/api',
    FACEBOOK_CLIENT_ID: '',
    OAUTH_TIMEOUT_MS: '2500'
  })
  t.same(options.socialLogin, {
    google: { clientId: 'g-id', clientSecret: ' g secret ', callbackUrl: '/oauth/google/callback' },
    github: { clientId: 'gh-id', clientSecret: 'gh-secret', enterpriseBaseUrl: 'https://ghe.example.com' },
    discord: { clientId: 'd-id', clientSecret: 'd-secret', endpoints: { authorizeUrl: 'http://127.0.0.1:1/oauth2/authorize', tokenUrl: 'http://127.0.0.1:1/api/oauth2/token', apiUrl: 'http://127.0.0.1:1/api' } },
    timeout: 2500
  })
  t.equal(optionsFromEnv({}).socialLogin, undefined)
  t.match(refusal(() => optionsFromEnv({ GOOGLE_CLIENT_ID: 'x' })), /GOOGLE_CLIENT_SECRET is required when GOOGLE_CLIENT_ID is set/)
  t.match(refusal(() => optionsFromEnv({ FACEBOOK_CLIENT_SECRET: 'x' })), /FACEBOOK_CLIENT_ID is required when FACEBOOK_CLIENT_SECRET is set/)
})
