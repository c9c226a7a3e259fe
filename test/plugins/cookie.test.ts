import fastifyCookie from '@fastify/cookie'
import t from 'tap'
import { build, login, refreshCookieOf, register } from '../helpers/app.ts'

t.test('a host that registered @fastify/cookie first shares it; its parseOptions never change the refresh cookie', async t => {
  const { app } = await build(t, {}, undefined, async host => {
    await host.register(fastifyCookie, { secret: 'host cookie secret 0123456789abcdef', parseOptions: { domain: 'example.test', signed: true, sameSite: 'none' } })
  })
  t.equal((await register(app)).statusCode, 200)
  const response = await login(app)
  t.equal(response.statusCode, 200)
  const cookie = response.cookies.find(c => c.name === 'refreshToken')
  t.match(cookie, { httpOnly: true, sameSite: 'Strict', path: '/' })
  t.equal(cookie?.domain, undefined, 'no Domain')
  t.equal(cookie?.value.split('.').length, 2, 'our `<session>.<secret>` as is: not signed by the host\'s secret (which appends a third part)')
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { refreshToken: refreshCookieOf(response) as string } })
  t.equal(refreshed.statusCode, 200)
  t.ok(refreshCookieOf(refreshed), 'rotated through the host\'s @fastify/cookie')
})

t.test('a host whose @fastify/cookie parses late (preHandler): the refresh cookie is still read and written', async t => {
  const { app } = await build(t, {}, undefined, async host => {
    await host.register(fastifyCookie, { hook: 'preHandler' })
  })
  await register(app)
  const response = await login(app)
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', cookies: { refreshToken: refreshCookieOf(response) as string } })
  t.equal(refreshed.statusCode, 200)
})

t.test('without a host @fastify/cookie the plugin keeps its own in its scope: the host gets no cookie decorators', async t => {
  const { app } = await build(t)
  t.notOk(app.hasReplyDecorator('setCookie'))
  t.notOk(app.hasDecorator('parseCookie'))
})
