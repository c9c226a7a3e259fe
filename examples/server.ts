/**
 * A small host app: the plugin configured from the environment, a protected demo route, structured
 * logs with secrets redacted. Run it with `npm run example`.
 * In your own app, import from 'librechat-auth' instead of '../index.ts'.
 */
import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import fastifyEnv from '@fastify/env'
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify'
import authPlugin, { type AuthOptions, DEFAULT_DATABASE_URL, envSchema, optionsFromEnv, proxyTrust } from '../index.ts'
import { exampleConsole, type ExampleConsole } from './console.ts'
import { devInbox, devInboxRoutes, devInboxWanted } from './dev-inbox.ts'
import { mailOf, type MailMode, signInOf, storageOf, summaryText } from './startup-summary.ts'
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
    DATA_DIR: { type: 'string', default: 'data' },
    EMAIL_DEV_INBOX: { type: 'string' }
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

export interface ExampleServer {
  app: FastifyInstance
  port: number
  host: string
  /** The address to open in a browser (never 0.0.0.0). */
  origin: string
  storage: string
  mail: MailMode
}

/** `http://host:port` as a browser reaches it: a server on every interface is reached as localhost. */
export function originOf (host: string, port: number): string {
  const publicHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host
  return `http://${publicHost}:${port}`
}

export async function buildExampleServer (rawEnv: Env, output: ExampleConsole = exampleConsole()): Promise<ExampleServer> {
  // A blank variable (`PORT=` in a copied .env.example) counts as unset, as the plugin reads its own.
  const env = Object.fromEntries(Object.entries(rawEnv).filter(([, value]) => value !== undefined && value.trim() !== ''))
  // Fastify follows the plugin's own rule for TRUST_PROXY, so request.ip and the plugin agree; a bad
  // entry is refused here, naming the variable.
  const proxies = proxyTrust(optionsFromEnv(env).trustProxy, 'TRUST_PROXY')
  const app = Fastify({
    trustProxy: proxies.trusts,
    logger: {
      level: env.LOG_LEVEL ?? 'info',
      stream: output.stream,
      // Headers are not logged by default; if a serializer ever adds them, these stay hidden.
      redact: {
        paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]', '*.password', '*.token', '*.refreshToken', '*.confirm_password'],
        censor: '[redacted]'
      },
      serializers: { req: requestForLog }
    },
    bodyLimit: 1024 * 1024
  })
  await app.register(fastifyEnv, { schema: exampleEnvSchema, data: env, dotenv: false })
  const config = app.getEnvs<Env>()

  const port = Number(config.PORT)
  const host = config.HOST as string
  const options = optionsFromEnv(config)
  // LibreChat keeps registration closed while ALLOW_REGISTRATION is unset; the demo opens it, and says so.
  if ((config.ALLOW_REGISTRATION ?? '').trim() === '') {
    options.allowRegistration = true
    app.log.info({ event: 'example.registration_open' }, 'ALLOW_REGISTRATION is not set: this example opens registration for the demo (LibreChat and optionsFromEnv keep it closed; set ALLOW_REGISTRATION=false to close it)')
  }
  // Listening on every interface: browsers reach it by a real name, never as 0.0.0.0, so default to localhost.
  const origin = originOf(host, port)
  options.domainServer ??= origin
  options.domainClient ??= options.domainServer
  // Decided before anything is written to disk, so a refused EMAIL_DEV_INBOX leaves nothing behind.
  const mail = chooseMail(app, config, options, origin)
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
  return { app, port, host, origin, storage: storageOf(options.storage), mail }
}

/**
 * SMTP from the EMAIL_* variables, or the development inbox (EMAIL_DEV_INBOX, see dev-inbox.ts), or
 * none. The inbox is a Mailer like any other: the plugin then requires verified emails at login
 * (unless ALLOW_UNVERIFIED_EMAIL_LOGIN=true) and mails reset links instead of answering them.
 */
function chooseMail (app: FastifyInstance, config: Env, options: AuthOptions, origin: string): MailMode {
  const smtp = options.mailer !== undefined && 'from' in options.mailer ? options.mailer : null
  const production = options.production ?? process.env.NODE_ENV === 'production'
  const host = config.HOST as string
  if (devInboxWanted({ setting: config.EMAIL_DEV_INBOX, smtp: smtp !== null, host, production })) {
    if (smtp !== null) app.log.warn('EMAIL_DEV_INBOX=true: mail goes to the development inbox, the EMAIL_* server is not used')
    const inbox = devInbox({ onMail: subject => app.log.info({ event: 'example.dev_mail', subject }, `mail kept in the development inbox: ${origin}/dev/mail`) })
    options.mailer = inbox
    devInboxRoutes(app, inbox, [origin, options.domainServer ?? origin, options.domainClient ?? origin])
    app.log.info({ event: 'example.dev_inbox' }, `development inbox on: mail is kept in memory and shown at ${origin}/dev/mail, to this machine only${config.EMAIL_DEV_INBOX === undefined ? ' (the default without EMAIL_* settings on a loopback HOST; EMAIL_DEV_INBOX=false turns it off)' : ''}`)
    return { kind: 'inbox' }
  }
  if (smtp !== null) return { kind: 'smtp', server: 'service' in smtp ? `the ${smtp.service} service` : `${smtp.host}:${smtp.port ?? 25}` }
  if (config.EMAIL_DEV_INBOX === undefined && !production) {
    app.log.info({ event: 'example.dev_inbox' }, `no mail: the development inbox is only used on a loopback HOST (HOST is ${host}); set EMAIL_* for SMTP`)
  }
  return { kind: 'none' }
}

async function main (): Promise<void> {
  // ./.env, when there is one, with Node's own reader: a variable already in the environment wins.
  const envFile = existsSync('.env') ? '.env' : null
  if (envFile !== null) process.loadEnvFile(envFile)
  const output = exampleConsole()
  let server: ExampleServer
  try {
    server = await buildExampleServer(process.env, output)
  } catch (error) {
    // A configuration mistake is the operator's to fix: say what it is, without a stack trace.
    const message = error instanceof Error ? error.message : String(error)
    process.stderr.write(`librechat-auth example: ${message}${envFile === null ? '' : ' (some variables may come from .env)'}\n`)
    process.exit(1)
  }
  const { app, port, host } = server
  if (envFile !== null) app.log.info({ event: 'example.env_file' }, `loaded ${envFile} (variables set in the environment win over it)`)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      app.log.info({ signal }, 'shutting down')
      app.close().then(() => process.exit(0), () => process.exit(1))
    })
  }
  await app.listen({ port, host })
  const address = app.server.address()
  const url = originOf(host, typeof address === 'object' && address !== null ? address.port : port)
  const facts = { url, storage: server.storage, mail: mailOf(server.mail, url), signIn: signInOf(app), envFile, warnings: [...output.warnings] }
  // One block a person can read on a terminal; one structured line for log collectors.
  if (output.pretty) output.print(summaryText(facts))
  else app.log.info({ event: 'example.ready', ...facts }, `ready: open ${url}`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
