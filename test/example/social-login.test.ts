import t from 'tap'
import { dataDir, startExample } from '../helpers/example.ts'
import { type ProviderKind, type ProviderStandIn, startProviderStandIn } from '../helpers/oauth-providers.ts'

// From outside, as an operator would: the example server configured only through environment
// variables, each provider's local stand-in answering for the real one, a browser played with fetch.

const cookieOf = (response: Response, name: string): string | null =>
  response.headers.getSetCookie().map(c => c.split(';')[0] as string).find(c => c.startsWith(`${name}=`) && c !== `${name}=`) ?? null

function envFor (s: ProviderStandIn): Record<string, string> {
  const P = s.kind.toUpperCase()
  const env: Record<string, string> = { [`${P}_CLIENT_ID`]: s.clientId, [`${P}_CLIENT_SECRET`]: s.clientSecret }
  if (s.enterpriseBaseUrl !== undefined) return { ...env, GITHUB_ENTERPRISE_BASE_URL: s.enterpriseBaseUrl }
  return { ...env, [`${P}_AUTHORIZATION_URL`]: s.endpoints.authorizeUrl, [`${P}_TOKEN_URL`]: s.endpoints.tokenUrl, [`${P}_API_URL`]: s.endpoints.apiUrl }
}

t.test('each provider signs a user in end to end on the example server, configured by variables only', async t => {
  const kinds: ProviderKind[] = ['google', 'github', 'discord', 'facebook']
  const standIns = await Promise.all(kinds.map((kind, i) => startProviderStandIn(kind, {
    enterprise: kind === 'github',
    user: { subject: String(500 + i), email: `${kind}.user@example.com`, emailVerified: true, name: `${kind} user` }
  })))
  t.teardown(() => Promise.all(standIns.map(s => s.close())))
  const server = await startExample({
    NODE_ENV: 'development',
    DATA_DIR: await dataDir(),
    ALLOW_SOCIAL_LOGIN: 'true',
    ALLOW_SOCIAL_REGISTRATION: 'true',
    OAUTH_TIMEOUT_MS: '5000',
    ...Object.assign({}, ...standIns.map(envFor))
  })
  t.teardown(server.stop)

  const config = await (await fetch(`${server.url}/api/auth/config`)).json() as Record<string, unknown>
  t.match(config, { socialLoginEnabled: true, socialLogins: ['google', 'facebook', 'github', 'discord'], googleLoginEnabled: true, githubLoginEnabled: true })

  for (const s of standIns) {
    const start = await fetch(`${server.url}/oauth/${s.kind}`, { redirect: 'manual' })
    t.equal(start.status, 302, `${s.kind}: to the provider`)
    const flow = cookieOf(start, 'lcauth_oauth')
    t.ok(flow, `${s.kind}: the flow cookie`)
    const callbackUrl = await s.consent(start.headers.get('location') as string)
    t.ok(callbackUrl.startsWith(`${server.url}/oauth/${s.kind}/callback?`), `${s.kind}: back to DOMAIN_SERVER's callback`)
    const callback = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: flow as string } })
    t.equal(callback.status, 302)
    t.equal(callback.headers.get('location'), `${server.url}/`, `${s.kind}: signed in, sent to DOMAIN_CLIENT`)
    const refresh = cookieOf(callback, 'refreshToken')
    t.ok(refresh, `${s.kind}: the refresh cookie`)
    const refreshed = await fetch(`${server.url}/api/auth/refresh`, { method: 'POST', headers: { cookie: refresh as string } })
    t.equal(refreshed.status, 200)
    t.match(await refreshed.json(), { user: { email: `${s.kind}.user@example.com`, provider: s.kind, role: 'USER' } })
  }
  t.match(server.output(), /GOOGLE_AUTHORIZATION_URL is a plain-http loopback URL|socialLogin.google.endpoints.authorizeUrl is a plain-http loopback URL/)
  for (const s of standIns) t.notOk(server.output().includes(s.clientSecret), `${s.kind}: the client secret is never logged`)
})

t.test('ALLOW_SOCIAL_LOGIN=true without a provider is a startup warning and offers no route', async t => {
  const server = await startExample({ NODE_ENV: 'development', DATA_DIR: await dataDir(), ALLOW_SOCIAL_LOGIN: 'true' })
  t.teardown(server.stop)
  t.match(server.output(), /allowSocialLogin is true but no provider is configured/)
  t.equal((await fetch(`${server.url}/oauth/google`, { redirect: 'manual' })).status, 404)
})
