import Fastify from 'fastify'
import fp from 'fastify-plugin'
import t from 'tap'
import authPlugin from '../../index.ts'
import { localPlugin } from '../../plugins/local.ts'
import { baseOptions, build, registerAndLogin } from '../helpers/app.ts'

const SUB_PLUGINS = ['moderation', 'local', 'tokens', 'sessions', 'password', 'password-reset', 'email-verification', 'user', 'config']

t.test('printPlugins shows the root and its named sub-plugins, moderation before the routes that use its guards', async t => {
  const { app } = await build(t)
  const tree = app.printPlugins()
  const at = (name: string): number => tree.indexOf(`librechat-auth/${name} `)
  t.ok(tree.includes('librechat-auth '), 'the root')
  for (const name of SUB_PLUGINS) t.ok(at(name) > tree.indexOf('librechat-auth '), `librechat-auth/${name} under the root`)
  t.same([...SUB_PLUGINS].sort((a, b) => at(a) - at(b)), SUB_PLUGINS, 'in registration order')
  t.ok(tree.indexOf('@fastify/rate-limit') > at('moderation') && tree.indexOf('@fastify/rate-limit') < at('local'), 'rate-limit lives inside the moderation sub-plugin')
})

t.test('the plugin\'s helpers stay in its scope: the host sees only lcauth, authUser and lcauthIp', async t => {
  const { app } = await build(t)
  for (const name of ['lcauthScope', 'lcauthGuards', 'createRateLimit', 'rateLimit', 'jwt']) t.notOk(app.hasDecorator(name), `no ${name} on the host`)
  t.ok(app.hasDecorator('lcauth'))
  t.ok(app.hasRequestDecorator('authUser'))
})

t.test('a sub-plugin registered outside the plugin\'s scope fails registration, naming what it needs', async t => {
  const alone = Fastify()
  t.teardown(() => alone.close())
  await t.rejects(async () => { await alone.register(localPlugin).ready() }, /librechat-auth/)

  const beside = Fastify()
  t.teardown(() => beside.close())
  await beside.register(authPlugin, baseOptions)
  // Beside the plugin, on the host: the root is there, but not the scope's kit.
  await t.rejects(async () => { await beside.register(localPlugin).ready() }, /lcauthScope|librechat-auth\/moderation/)
})

t.test('a host route declared after the plugin still opts into moderation', async t => {
  const { app } = await build(t, { moderation: { limitMessageIp: true, limits: { messageIp: { max: 1, windowMs: 60_000 } } } }, host => {
    host.get('/api/chat', { config: { lcauth: { moderation: ['message'] } } }, async () => ({ ok: true }))
  })
  const { token } = await registerAndLogin(app)
  const call = () => app.inject({ method: 'GET', url: '/api/chat', headers: { authorization: `Bearer ${token}` } })
  t.equal((await call()).statusCode, 200)
  const refused = await call()
  t.equal(refused.statusCode, 429)
  t.equal(refused.json().code, 'FST_LCAUTH_RATE_LIMITED')
})

t.test('a login provider is one more plugin: it adds itself to the registry and /api/auth/config lists it', async t => {
  // What a social-login sub-plugin does first; here as a host plugin that depends on the root.
  const provider = fp(async (fastify) => {
    fastify.lcauth.providers.add({ name: 'github', label: 'Continue with GitHub' })
    fastify.lcauth.providers.add({ name: 'gitlab', label: 'Continue with GitLab' })
    fastify.lcauth.providers.add({ name: 'openid', label: 'Company login', imageUrl: 'https://id.example.test/logo.svg' })
  }, { name: 'test-provider', dependencies: ['librechat-auth'] })
  const { app } = await build(t, {}, async host => { await host.register(provider) })
  const config = (await app.inject({ method: 'GET', url: '/api/auth/config' })).json()
  // LibreChat's order (openid before github), unknown providers last in the order they came.
  t.same(config.socialLogins, ['openid', 'github', 'gitlab'])
  t.match(config, { githubLoginEnabled: true, googleLoginEnabled: false, discordLoginEnabled: false, facebookLoginEnabled: false })
  t.match(config, { openidLoginEnabled: true, openidLabel: 'Company login', openidImageUrl: 'https://id.example.test/logo.svg' })

  t.throws(() => app.lcauth.providers.add({ name: 'github', label: 'again' }), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /provider github is registered twice/ })
  t.throws(() => app.lcauth.providers.add({ name: 'Not Valid', label: 'x' }), { code: 'FST_LCAUTH_CONFIG_INVALID' })
})

t.test('without providers /api/auth/config offers none', async t => {
  const { app } = await build(t)
  const config = (await app.inject({ method: 'GET', url: '/api/auth/config' })).json()
  t.match(config, {
    socialLogins: [], googleLoginEnabled: false, githubLoginEnabled: false, openidLoginEnabled: false, openidLabel: 'Login with OpenID', openidImageUrl: ''
  })
  // Every auth field of LibreChat's startup config is there, off where this package has no such provider.
  t.match(config, { appleLoginEnabled: false, samlLoginEnabled: false, samlLabel: '', samlImageUrl: '', ldap: { enabled: false }, openidAutoRedirect: false })
  t.same(app.lcauth.startupConfig(), config, 'the same fields for a host\'s own /api/config')
})
