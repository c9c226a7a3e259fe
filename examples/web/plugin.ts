/**
 * The example's web UI: one HTML shell for every page path, the browser code compiled from
 * `client/` with esbuild (which tsx already brings) once at registration and served from memory,
 * and the stylesheet. No framework, no bundler step, no build output on disk.
 */
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import type { FastifyPluginAsync, FastifyReply } from 'fastify'

/** The page paths the client renders (see docs/example-app.md). */
export const PAGE_PATHS = ['/', '/login', '/register', '/forgot-password', '/reset-password', '/verify', '/profile'] as const

/** Pages opened from a mailed link with a one-time token in the query. */
const TOKEN_PAGES = new Set<string>(['/reset-password', '/verify'])

/** Same-origin everything, no inline script or style, no framing, forms post only here. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "object-src 'none'"
].join('; ')

const SHELL = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>librechat-auth example</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
<a class="site-name" href="/">librechat-auth example</a>
<nav id="account-nav" aria-label="Account"></nav>
</header>
<main id="main">
<h1 id="heading" tabindex="-1">Loading…</h1>
<div id="alert" class="message message-error" role="alert" aria-live="assertive" aria-atomic="true" tabindex="-1"></div>
<div id="status" class="message message-ok" role="status" aria-live="polite" aria-atomic="true"></div>
<div id="view"><noscript><p>This app needs JavaScript.</p></noscript></div>
</main>
</body>
</html>
`

async function compileClient (): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./client/app.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'esm',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    logLevel: 'silent'
  })
  const [output] = result.outputFiles
  if (output === undefined) throw new Error('esbuild produced no output for the web UI')
  return output.text
}

function securityHeaders (reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
}

/** Serves the web UI's pages, `/app.js` and `/app.css` on the host app (register it without a prefix). */
export const webUi: FastifyPluginAsync = async function webUi (fastify) {
  const [script, stylesheet] = await Promise.all([
    compileClient(),
    readFile(new URL('./app.css', import.meta.url), 'utf8')
  ])

  for (const path of PAGE_PATHS) {
    const tokenPage = TOKEN_PAGES.has(path)
    fastify.get(path, async (_request, reply) => securityHeaders(reply)
      // A token in the address must not leak to other sites, nor stay in a cache.
      .header('referrer-policy', tokenPage ? 'no-referrer' : 'same-origin')
      .header('cache-control', tokenPage ? 'no-store' : 'no-cache')
      .type('text/html; charset=utf-8')
      .send(SHELL))
  }
  fastify.get('/app.js', async (_request, reply) => securityHeaders(reply)
    .header('cache-control', 'no-cache')
    .type('text/javascript; charset=utf-8')
    .send(script))
  // Browsers ask for it on every page; no icon, and no 404 in the log for it.
  fastify.get('/favicon.ico', async (_request, reply) => reply.code(204).header('cache-control', 'max-age=86400').send())
  fastify.get('/app.css', async (_request, reply) => securityHeaders(reply)
    .header('cache-control', 'no-cache')
    .type('text/css; charset=utf-8')
    .send(stylesheet))
}
