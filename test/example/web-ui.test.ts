import type { FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import { exampleConsole } from '../../examples/console.ts'
import { buildExampleServer, redactTokens } from '../../examples/server.ts'
import { PAGE_PATHS } from '../../examples/web/plugin.ts'
import { dataDir } from '../helpers/example.ts'

// The example's web UI as served: every page under a strict policy, the mailed-link pages without a
// Referer, the browser code and the stylesheet, and no token in the request log. In-process, no browser.

async function exampleApp (t: Test): Promise<{ app: FastifyInstance, log: () => Array<Record<string, unknown>> }> {
  const lines: string[] = []
  const { app } = await buildExampleServer({ NODE_ENV: 'development', DATA_DIR: await dataDir(), LOG_LEVEL: 'info' }, exampleConsole({ write: (line: string) => { lines.push(line) } }))
  t.teardown(() => app.close())
  await app.ready()
  return { app, log: () => lines.map(line => JSON.parse(line) as Record<string, unknown>) }
}

t.test('every page path answers the HTML shell under a strict Content-Security-Policy', async t => {
  const { app } = await exampleApp(t)
  for (const path of PAGE_PATHS) {
    const response = await app.inject({ method: 'GET', url: path })
    t.equal(response.statusCode, 200, path)
    t.match(response.headers['content-type'], /^text\/html; charset=utf-8/, path)
    const csp = String(response.headers['content-security-policy'])
    for (const directive of ["default-src 'self'", "script-src 'self'", "form-action 'self'", "frame-ancestors 'none'"]) t.ok(csp.includes(directive), `${path}: ${directive}`)
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, `${path}: no inline script or eval`)
    t.equal(response.headers['x-content-type-options'], 'nosniff')
    t.match(response.body, '<script type="module" src="/app.js"></script>', `${path}: boots the app`)
    t.notMatch(response.body, /<script(?![^>]*\bsrc=)[^>]*>/, `${path}: no inline script`)
    t.match(response.body, /role="alert"[\s\S]*role="status"/, `${path}: both live regions are in the page from the start`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/no-such-page' })).statusCode, 404, 'other paths are not the shell')
})

t.test('the pages opened from mailed links send no Referer and are not cached', async t => {
  const { app } = await exampleApp(t)
  for (const url of ['/reset-password?token=abc&userId=u', '/verify?token=abc&email=alice%40example.com']) {
    const response = await app.inject({ method: 'GET', url })
    t.equal(response.statusCode, 200, url)
    t.equal(response.headers['referrer-policy'], 'no-referrer', url)
    t.equal(response.headers['cache-control'], 'no-store', url)
    t.match(String(response.headers['content-security-policy']), "frame-ancestors 'none'", url)
  }
  t.not((await app.inject({ method: 'GET', url: '/login' })).headers['referrer-policy'], 'unsafe-url')
})

t.test('/app.js and /app.css are served with their content types', async t => {
  const { app } = await exampleApp(t)
  const script = await app.inject({ method: 'GET', url: '/app.js' })
  t.equal(script.statusCode, 200)
  t.match(script.headers['content-type'], /^text\/javascript; charset=utf-8/)
  t.match(script.body, '/api/auth/refresh', 'the compiled client, with its silent refresh')
  t.notMatch(script.body, /^import .* from /m, 'bundled: no import left for the browser to resolve')
  const style = await app.inject({ method: 'GET', url: '/app.css' })
  t.equal(style.statusCode, 200)
  t.match(style.headers['content-type'], /^text\/css; charset=utf-8/)
  t.match(style.body, ':focus-visible')
})

t.test('the request log shows a mailed link without its token', async t => {
  const { app, log } = await exampleApp(t)
  t.equal((await app.inject({ method: 'GET', url: '/reset-password?token=abc&userId=u' })).statusCode, 200)
  const incoming = log().find(line => line.msg === 'incoming request' && /^\/reset-password/.test((line.req as { url: string }).url)) as { reqId: string, req: { url: string, method: string } } | undefined
  t.ok(incoming, 'the request is logged')
  t.equal(incoming?.req.url, '/reset-password?token=[redacted]&userId=u')
  const lines = log().filter(line => line.reqId === incoming?.reqId)
  t.ok(lines.length >= 2, 'its lines: incoming and completed')
  t.equal(incoming?.req.method, 'GET', 'the rest of the request line is kept')
  t.ok(lines.every(line => !JSON.stringify(line).includes('abc')), 'the token value is in no line of the request')
})

t.test('redactTokens replaces every token value and nothing else', async t => {
  t.equal(redactTokens('/verify?email=a%40b.c&token=s3cr3t'), '/verify?email=a%40b.c&token=[redacted]')
  t.equal(redactTokens('/x?token=a&token=b#frag'), '/x?token=[redacted]&token=[redacted]#frag')
  t.equal(redactTokens('/x?refresh_token=keep&notoken=keep'), '/x?refresh_token=keep&notoken=keep')
  t.equal(redactTokens('/x?TOKEN=a'), '/x?TOKEN=[redacted]')
  t.equal(redactTokens('/login'), '/login')
})
