import { once } from 'node:events'
import { createServer, type ServerResponse } from 'node:http'
import t from 'tap'
import { fetchProfile } from '../../lib/identities/provider-api.ts'
import { resolveSocialLogin, type SocialProviderConfig } from '../../lib/identities/social-config.ts'

// What the profile fetch makes of answers a well-behaved stand-in never gives: each is a
// ProviderFailure with a reason, and none of the provider's words.

const now = (): Date => new Date('2030-01-01T00:00:00Z')
const unsigned = (claims: Record<string, unknown>): string => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`

async function provider (t: { teardown(fn: () => unknown): void }, name: 'google' | 'github' | 'discord', answer: (path: string, res: ServerResponse) => void): Promise<SocialProviderConfig> {
  const server = createServer((req, res) => { answer(req.url ?? '', res) })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.teardown(() => { server.closeAllConnections(); server.close() })
  const origin = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  const config = resolveSocialLogin({ [name]: { clientId: 'client', clientSecret: 'secret', endpoints: { authorizeUrl: `${origin}/a`, tokenUrl: `${origin}/t`, apiUrl: origin } } }, {
    allowSocialLogin: true, domainServer: 'http://127.0.0.1:3080', risky: () => {}, warnings: []
  })
  return config.providers[0] as SocialProviderConfig
}

t.test('google: the ID token must be readable, for this client, from Google, and current', async t => {
  const google = await provider(t, 'google', (_p, res) => res.end())
  const claims = { iss: 'https://accounts.google.com', aud: 'client', sub: '1', exp: now().getTime() / 1000 + 60 }
  t.match(await fetchProfile(google, { access_token: 'x', id_token: unsigned(claims) }, { timeoutMs: 500, now }), { subject: '1' })
  t.match(await fetchProfile(google, { access_token: 'x', id_token: unsigned({ ...claims, iss: 'accounts.google.com', aud: ['other', 'client'] }) }, { timeoutMs: 500, now }), { subject: '1' })
  const bad = [undefined, 'not-a-jwt', 'a.bm90IGpzb24.c', unsigned({ ...claims, aud: 'other' }), unsigned({ ...claims, iss: 'https://evil.test' }), unsigned({ ...claims, exp: now().getTime() / 1000 - 31 }), unsigned({ ...claims, exp: undefined }), 'a.WzFd.c']
  for (const idToken of bad) {
    await t.rejects(fetchProfile(google, { access_token: 'x', id_token: idToken }, { timeoutMs: 500, now }), { name: 'ProviderFailure', reason: 'provider_error' }, String(idToken))
  }
  await t.rejects(fetchProfile(google, { id_token: unsigned(claims) }, { timeoutMs: 500, now }), { name: 'ProviderFailure', reason: 'provider_error', message: /no access token/ })
})

t.test('user APIs: errors, non-JSON, oversized and unreachable answers', async t => {
  const github = await provider(t, 'github', (path, res) => {
    if (path === '/user') return res.end('this is not json')
    res.setHeader('content-type', 'application/json')
    res.end('[]')
  })
  await t.rejects(fetchProfile(github, { access_token: 'x' }, { timeoutMs: 500, now }), { name: 'ProviderFailure', reason: 'provider_error', message: /something other than JSON/ })

  const discord = await provider(t, 'discord', (_p, res) => res.end(JSON.stringify({ id: '1', padding: 'x'.repeat(1024 * 1024) })))
  await t.rejects(fetchProfile(discord, { access_token: 'x' }, { timeoutMs: 2000, now }), { name: 'ProviderFailure', reason: 'provider_error', message: /answered 200/ })

  const listy = await provider(t, 'discord', (_p, res) => res.end('["a list"]'))
  await t.rejects(fetchProfile(listy, { access_token: 'x' }, { timeoutMs: 500, now }), { name: 'ProviderFailure', reason: 'provider_error', message: /not an object/ })

  const closed = await provider(t, 'discord', (_p, res) => { res.socket?.destroy() })
  await t.rejects(fetchProfile(closed, { access_token: 'x' }, { timeoutMs: 500, now }), { name: 'ProviderFailure', reason: 'provider_error', message: /request failed/ })

  const moved = await provider(t, 'discord', (_p, res) => { res.statusCode = 302; res.setHeader('location', 'https://evil.test/'); res.end() })
  await t.rejects(fetchProfile(moved, { access_token: 'x' }, { timeoutMs: 500, now }), { name: 'ProviderFailure', reason: 'provider_error' }, 'redirects are not followed with the token')
})
