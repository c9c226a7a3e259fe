import type { FastifyRequest } from 'fastify'
import t from 'tap'
import { bearerToken } from '../../plugins/http/bearer.ts'
import { contextOf } from '../../plugins/http/context.ts'

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
