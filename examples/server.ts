/**
 * A small host app: the plugin configured from the environment, a protected demo route, structured
 * logs with secrets redacted. Run it with `npm run example`.
 * In your own app, import from 'librechat-auth' instead of '../index.ts'.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import fastifyEnv from '@fastify/env'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import authPlugin, { DEFAULT_DATABASE_URL, envSchema, optionsFromEnv, proxyTrust } from '../index.ts'
import { webUi } from './web/plugin.ts'

type Env = Record<string, string | undefined>

/** The plugin's variables plus the ones only this server reads; every field a string. */
const exampleEnvSchema = {
  type: 'object',
  properties: {
    ...envSchema.properties,
    PORT: { type: 'string', default: '3080' },
    HOST: { type: 'string', default: '127.0.0.1' },
    LOG_LEVEL: { type: 'string', default: 'info' },
    DATA_DIR: { type: 'string', default: 'data' }
  }
}

interface DevSecrets { jwtSecret: string, jwtRefreshSecret: string }

/**
 * Development secrets, made once and kept in the data folder (readable by this user only) so a
 * restart keeps everyone's sessions. Never used in production, where the secrets must be set.
 */
async function devSecrets (dataDir: string): Promise<{ secrets: DevSecrets, created: boolean }> {
  const file = `${dataDir}/dev-secrets.json`
  try {
    return { secrets: JSON.parse(await readFile(file, 'utf8')) as DevSecrets, created: false }
  } catch {
    const secrets = { jwtSecret: randomBytes(32).toString('hex'), jwtRefreshSecret: randomBytes(32).toString('hex') }
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
    await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' })
    return { secrets, created: true }
  }
}

/** Mailed links carry one-time tokens in their query (`/verify?token=…`, `/reset-password?token=…`): never log them. */
export function redactTokens (url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, '$1[redacted]')
}

/** Fastify's own request serializer, with the URL's token values replaced. */
function requestForLog (raw: { method?: string | undefined, url?: string | undefined, socket?: { remotePort?: number | undefined } }): Record<string, unknown> {
  const request = raw as typeof raw & { host?: string, ip?: string }
  return { method: request.method, url: redactTokens(request.url ?? ''), host: request.host, remoteAddress: request.ip, remotePort: request.socket?.remotePort }
}

/** Where the log goes: stdout unless a test passes a stream to read it back. */
export interface ExampleServerOptions { logStream?: { write: (line: string) => void } }

export async function buildExampleServer (env: Env, serverOptions: ExampleServerOptions = {}): Promise<{ app: FastifyInstance, port: number, host: string }> {
  // Fastify follows the plugin's own rule for TRUST_PROXY, so request.ip and the plugin agree; a bad
  // entry is refused here, naming the variable.
  const proxies = proxyTrust(optionsFromEnv(env).trustProxy, 'TRUST_PROXY')
  const app = Fastify({
    trustProxy: proxies.trusts,
    logger: {
      level: env.LOG_LEVEL ?? 'info',
      // Headers are not logged by default; if a serializer ever adds them, these stay hidden.
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token', '*.refreshToken', '*.confirm_password'],
        censor: '[redacted]'
      },
      serializers: { req: requestForLog },
      ...(serverOptions.logStream === undefined ? {} : { stream: serverOptions.logStream })
    },
    bodyLimit: 1024 * 1024
  })
  await app.register(fastifyEnv, { schema: exampleEnvSchema, data: env, dotenv: false })
  const config = app.getEnvs<Env>()

  const port = Number(config.PORT)
  const host = config.HOST as string
  const options = optionsFromEnv(config)
  // Listening on every interface: browsers reach it by a real name, never as 0.0.0.0, so default to localhost.
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  const origin = `http://${publicHost}:${port}`
  options.domainServer ??= origin
  options.domainClient ??= options.domainServer
  // The embedded default: SQLite in the data folder, no other service needed.
  options.storage ??= { url: DEFAULT_DATABASE_URL.replace('data/', `${config.DATA_DIR as string}/`) }
  if (options.production !== true && (options.jwtSecret === undefined || options.jwtRefreshSecret === undefined)) {
    const { secrets, created } = await devSecrets(config.DATA_DIR as string)
    options.jwtSecret ??= secrets.jwtSecret
    options.jwtRefreshSecret ??= secrets.jwtRefreshSecret
    app.log.warn(`JWT_SECRET or JWT_REFRESH_SECRET is not set: using development secrets ${created ? 'just created in' : 'kept in'} ${config.DATA_DIR as string}/dev-secrets.json (never in production)`)
  }
  // The plugin logs every security event through app.log (its logEvents option): the audit trail.
  await app.register(authPlugin, options)

  app.get('/api/demo/protected', { preHandler: app.lcauth.authenticate }, async (request) => ({
    message: `Hello, ${request.authUser?.email ?? 'nobody'}.`,
    user: request.authUser
  }))
  app.get('/api/demo/admin', { preHandler: app.lcauth.requireRole('ADMIN') }, async () => ({ message: 'Only admins see this.' }))
  // Host routes that opt into LibreChat's message moderation (LIMIT_MESSAGE_IP, LIMIT_MESSAGE_USER,
  // LIMIT_CONCURRENT_MESSAGES; /chat also scores non-browser clients). `?wait=ms` stands in for a slow reply.
  const demoMessage = async (request: FastifyRequest<{ Querystring: { wait?: string } }>): Promise<{ message: string }> => {
    const wait = Math.min(5000, Math.max(0, Number(request.query.wait ?? 0) || 0))
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
    return { message: 'Message received.' }
  }
  app.post('/api/demo/messages', { config: { lcauth: { moderation: ['message', 'concurrent'] } } }, demoMessage)
  app.post('/api/demo/chat', { config: { lcauth: { moderation: ['message', 'concurrent', 'nonBrowser'] } } }, demoMessage)
  app.get('/health', async () => ({ status: 'ok' }))
  await app.register(webUi)
  return { app, port, host }
}

async function main (): Promise<void> {
  let server: Awaited<ReturnType<typeof buildExampleServer>>
  try {
    server = await buildExampleServer(process.env)
  } catch (error) {
    // A configuration mistake is the operator's to fix: say what it is, without a stack trace.
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`librechat-auth example: ${message}\n`)
    process.exit(1)
  }
  const { app, port, host } = server
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down')
      app.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
  await app.listen({ port, host })
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
