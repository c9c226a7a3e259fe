import Fastify, { type FastifyError } from 'fastify'
import t from 'tap'
import { errors } from '../../lib/errors.ts'
import { authErrorHandler } from '../../plugins/http/error-handler.ts'

/** An app whose only route throws the given error through the plugin's error handler. */
async function throwing (t: { teardown(fn: () => unknown): void }, error: Error): Promise<{ statusCode: number, body: Record<string, unknown>, headers: Record<string, unknown>, logs: string[] }> {
  const logs: string[] = []
  const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => logs.push(line) } } })
  t.teardown(() => app.close())
  app.setErrorHandler(authErrorHandler)
  app.get('/', async () => { throw error })
  const response = await app.inject({ url: '/' })
  return { statusCode: response.statusCode, body: response.json(), headers: response.headers, logs }
}

const withStatus = (message: string, statusCode: number, code?: string): FastifyError =>
  Object.assign(new Error(message), { statusCode, ...(code === undefined ? {} : { code }) }) as FastifyError

t.test('our own errors pass through with their status, and Retry-After when they carry one', async t => {
  const busy = Object.assign(new errors.FST_LCAUTH_BUSY(), { retryAfterSeconds: 7 })
  const r = await throwing(t, busy)
  t.equal(r.statusCode, 503)
  t.same(r.body, { statusCode: 503, code: 'FST_LCAUTH_BUSY', error: 'Service Unavailable', message: 'The server is busy. Please try again shortly.' })
  t.equal(r.headers['retry-after'], '7')
  t.same(r.logs, [], 'a shed request is not an error worth logging')
})

t.test('Fastify\'s early errors map to our codes', async t => {
  const cases: Array<[string, number, string]> = [
    ['FST_ERR_CTP_INVALID_MEDIA_TYPE', 415, 'FST_LCAUTH_UNSUPPORTED_MEDIA_TYPE'],
    ['FST_ERR_CTP_INVALID_CONTENT_LENGTH', 400, 'FST_LCAUTH_BAD_REQUEST'],
    ['FST_ERR_CTP_BODY_TOO_LARGE', 413, 'FST_LCAUTH_BODY_TOO_LARGE'],
    ['FST_ERR_CTP_INVALID_JSON_BODY', 400, 'FST_LCAUTH_INVALID_JSON']
  ]
  for (const [code, status, ours] of cases) {
    const r = await throwing(t, withStatus('from fastify', status, code))
    t.equal(r.statusCode, status, code)
    t.equal(r.body.code, ours, code)
  }
})

t.test('other client errors become a generic 400 without their message', async t => {
  const r = await throwing(t, withStatus('secret detail from a dependency', 418, 'SOME_DEP_CODE'))
  t.same(r.body, { statusCode: 400, code: 'FST_LCAUTH_BAD_REQUEST', error: 'Bad Request', message: 'The request could not be understood.' })
})

t.test('a bare 400 or a SyntaxError is a JSON problem', async t => {
  t.match((await throwing(t, withStatus('bad', 400))).body, { code: 'FST_LCAUTH_INVALID_JSON' })
  t.match((await throwing(t, new SyntaxError('Unexpected token'))).body, { code: 'FST_LCAUTH_INVALID_JSON' })
})

t.test('anything else is a logged, detail-free 500', async t => {
  const r = await throwing(t, new Error('database password is hunter2'))
  t.same(r.body, { statusCode: 500, code: 'FST_LCAUTH_INTERNAL', error: 'Internal Server Error', message: 'Something went wrong.' })
  t.equal(r.logs.length, 1)
  t.match(r.logs[0], /librechat-auth request failed/)
  const wrongCode = await throwing(t, Object.assign(new Error('x'), { code: 'FST_LCAUTH_NOT_REAL' }))
  t.equal(wrongCode.statusCode, 500, 'a look-alike code without a status is not trusted')
})
