import t from 'tap'
import { dataDir, freePort, startExample } from '../helpers/example.ts'
import { startOidcProvider } from '../helpers/oidc-provider.ts'

// The user guide's OpenID .env blocks (AWS Cognito's and Azure AD's), unchanged but for the values a
// person would paste, against a real OpenID provider, through the example server.

const cookieOf = (response: Response, name: string): string | null =>
  response.headers.getSetCookie().map(c => c.split(';')[0] as string).find(c => c.startsWith(`${name}=`) && c !== `${name}=`) ?? null

const guides = [
  { name: 'AWS Cognito', issuerPath: '/eu-west-1_AbCdEf', issuer: (base: string) => `${base}/.well-known/openid-configuration` },
  { name: 'Azure AD', issuerPath: '/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0', issuer: (base: string) => `${base}/` }
]

for (const guide of guides) {
  t.test(`${guide.name}'s .env from the guide signs a user in on the example server`, async t => {
    const port = await freePort()
    const server = `http://127.0.0.1:${port}`
    const provider = await startOidcProvider({ issuerPath: guide.issuerPath, redirectUris: [`${server}/oauth/openid/callback`] })
    t.teardown(() => provider.close())
    const example = await startExample({
      NODE_ENV: 'development',
      DATA_DIR: await dataDir(),
      PORT: String(port),
      DOMAIN_CLIENT: server,
      DOMAIN_SERVER: server,
      ALLOW_SOCIAL_LOGIN: 'true',
      ALLOW_SOCIAL_REGISTRATION: 'true',
      OPENID_CLIENT_ID: provider.clientId,
      OPENID_CLIENT_SECRET: provider.clientSecret,
      OPENID_ISSUER: guide.issuer(provider.issuer),
      OPENID_SESSION_SECRET: 'Any random string',
      OPENID_SCOPE: 'openid profile email',
      OPENID_CALLBACK_URL: '/oauth/openid/callback'
    })
    t.teardown(example.stop)
    t.match(await (await fetch(`${server}/api/auth/config`)).json(), { openidLoginEnabled: true, openidLabel: 'Login with OpenID', socialLogins: ['openid'] })

    const start = await fetch(`${server}/oauth/openid`, { redirect: 'manual' })
    t.equal(start.status, 302)
    const callbackUrl = await provider.signIn(start.headers.get('location') as string)
    t.ok(callbackUrl.startsWith(`${server}/oauth/openid/callback?`))
    const callback = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: cookieOf(start, 'lcauth_oauth') as string } })
    t.equal(callback.headers.get('location'), `${server}/`)
    const refreshed = await fetch(`${server}/api/auth/refresh`, { method: 'POST', headers: { cookie: cookieOf(callback, 'refreshToken') as string } })
    t.equal(refreshed.status, 200)
    t.match(await refreshed.json(), { user: { email: 'ada@example.test', provider: 'openid', role: 'USER' } })
    t.match(example.output(), /openid.sessionSecret is shorter than 32 bytes/, 'the guide\'s sample secret is a warning here, refused in production')
    t.notOk(example.output().includes(provider.clientSecret), 'the client secret is never logged')
  })
}
