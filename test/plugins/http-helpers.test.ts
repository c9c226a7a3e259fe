import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { bearerToken } from '../../plugins/http/bearer.ts'
import { contextOf } from '../../plugins/http/context.ts'
import { refreshCookie } from '../../plugins/http/refresh-cookie.ts'

const request = (headers: Record<string, unknown>): FastifyRequest => ({ headers, lcauthIp: '192.0.2.1', id: 'req-9' }) as unknown as FastifyRequest

t.test('only an Authorization: Bearer header carries a token', async t => {
  t.equal(bearerToken(request({ authorization: 'Bearer abc.def.ghi' })), 'abc.def.ghi')
  t.equal(bearerToken(request({ authorization: 'bearer   abc.def.ghi  ' })), 'abc.def.ghi')
  t.equal(bearerToken(request({ authorization: 'Bearer        ' })), null)
  t.equal(bearerToken(request({ authorization: 'Basic dXNlcjpwYXNz' })), null)
  t.equal(bearerToken(request({ authorization: 'Bearer' })), null)
  t.equal(bearerToken(request({ authorization: 'Bearerxabc.def' })), null)
  t.equal(bearerToken(request({})), null)
})

t.test('the request context: ip, a bounded user agent, the request id', async t => {
  t.same(contextOf(request({ 'user-agent': 'x'.repeat(600) })), { ip: '192.0.2.1', userAgent: 'x'.repeat(512), requestId: 'req-9' })
  t.same(contextOf(request({})), { ip: '192.0.2.1', userAgent: null, requestId: 'req-9' })
})

t.test('the refresh cookie is read from request.cookies, or parsed when the host\'s @fastify/cookie has not parsed yet', async t => {
  const cookie = refreshCookie(false)
  const parsed = { headers: { cookie: 'refreshToken=abc; other=1' }, cookies: { refreshToken: 'abc', other: '1' } } as unknown as FastifyRequest
  t.equal(cookie.read(parsed), 'abc')
  const unparsed = { headers: { cookie: 'other=1; refreshToken=xyz' }, cookies: null, server: { parseCookie: (header: string) => Object.fromEntries(header.split('; ').map(pair => pair.split('='))) } } as unknown as FastifyRequest
  t.equal(cookie.read(unparsed), 'xyz')
  t.equal(cookie.read({ headers: { cookie: `refreshToken=${'a'.repeat(9000)}` }, cookies: {} } as unknown as FastifyRequest), null, 'an oversized header is ignored')
  t.equal(cookie.read({ headers: {}, cookies: {} } as unknown as FastifyRequest), null)
  t.equal(refreshCookie(true).read(parsed), null, 'only the configured name counts')
})
