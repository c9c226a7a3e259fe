import type { Env } from '../../env.ts'
import { configError } from '../../errors.ts'

/**
 * How the connection is encrypted: `tls` = TLS from the first byte (usually port 465); `starttls` =
 * STARTTLS required, a server that does not offer it is refused; `opportunistic` = STARTTLS when the
 * server offers it, plain otherwise (LibreChat's "anything else").
 */
export type SmtpEncryption = 'tls' | 'starttls' | 'opportunistic'

/** What `smtpMailer` builds its nodemailer SMTP pool from. */
export interface SmtpMailerOptions {
  /**
   * A nodemailer well-known service (`gmail`). When set, `host` and `port` are ignored: the preset's
   * host and port apply, and so does its `secure` flag where the preset has one (over `encryption: 'tls'`).
   */
  service?: string
  /** The SMTP server's name or IP address, used when `service` is not set. */
  host?: string
  /** Defaults to 25 for `host` (nodemailer: 465 = implicit TLS unless `encryption` says otherwise). */
  port?: number
  /** Defaults to `opportunistic`. */
  encryption?: SmtpEncryption
  /** The name the server's certificate is checked against (and sent as SNI) instead of `host`. */
  encryptionHostname?: string
  /** Accept a certificate that does not verify (self-signed). Only for testing. Defaults to false. */
  allowSelfSigned?: boolean
  /** SMTP AUTH credentials: both or neither. */
  username?: string
  password?: string
  /** The From address, also the SMTP envelope sender. */
  from: string
  /** The From display name. */
  fromName?: string
  /** Limit for each phase (connecting with the greeting and TLS, then any silence on the socket). Defaults to 10 s. */
  timeoutMs?: number
  /** Limit for a whole `send()`, queueing in the pool included. Defaults to 3 × `timeoutMs`. */
  sendTimeoutMs?: number
}

/** One address, no display name, no list, no control character: what a From or a recipient address must be. */
const PLAIN_ADDRESS = /^[^\s\p{Cc}@<>()[\]\\,;:"]+@[^\s\p{Cc}@<>()[\]\\,;:"]+$/u

/** True for a single bare address such as `alice@example.com`: nothing a parser could split or extend. */
export function isPlainAddress (address: string): boolean {
  return PLAIN_ADDRESS.test(address)
}

/** An empty or whitespace-only variable counts as unset; `trim: false` keeps a value's own spaces (passwords). */
function read (env: Env, name: string, trim = true): string | undefined {
  const value = Object.hasOwn(env, name) ? env[name] : undefined
  if (value === undefined || value.trim() === '') return undefined
  return trim ? value.trim() : value
}

function port (env: Env): number {
  const value = read(env, 'EMAIL_PORT')
  if (value === undefined) return 25
  const number = /^\d{1,5}$/.test(value) ? Number(value) : 0
  if (number < 1 || number > 65535) throw configError('EMAIL_PORT', 'must be a whole number from 1 to 65535')
  return number
}

/** LibreChat's rule, as the user guide states it: `tls`, `starttls`, anything else is opportunistic. */
function encryption (env: Env): SmtpEncryption {
  const value = read(env, 'EMAIL_ENCRYPTION')?.toLowerCase()
  return value === 'tls' || value === 'starttls' ? value : 'opportunistic'
}

function credentials (env: Env): Pick<SmtpMailerOptions, 'username' | 'password'> {
  const username = read(env, 'EMAIL_USERNAME')
  const password = read(env, 'EMAIL_PASSWORD', false)
  if (username !== undefined && password !== undefined) return { username, password }
  if (username !== undefined) throw configError('EMAIL_PASSWORD', 'is required when EMAIL_USERNAME is set (unset both for a server without authentication)')
  if (password !== undefined) throw configError('EMAIL_USERNAME', 'is required when EMAIL_PASSWORD is set (unset both for a server without authentication)')
  return {}
}

/**
 * Maps LibreChat's EMAIL_* variables to mailer options, or null when neither EMAIL_SERVICE nor
 * EMAIL_HOST is set (no mailer). EMAIL_SERVICE wins: EMAIL_HOST and EMAIL_PORT are then ignored.
 * Throws FST_LCAUTH_CONFIG_INVALID naming the variable at fault; never with a password in it.
 */
export function smtpOptionsFromEnv (env: Env, appTitle: string): SmtpMailerOptions | null {
  const service = read(env, 'EMAIL_SERVICE')
  const host = read(env, 'EMAIL_HOST')
  const server = service !== undefined ? { service } : host !== undefined ? { host, port: port(env) } : null
  if (server === null) return null
  const from = read(env, 'EMAIL_FROM')
  if (from === undefined) throw configError('EMAIL_FROM', 'is required when EMAIL_SERVICE or EMAIL_HOST is set')
  if (!isPlainAddress(from)) throw configError('EMAIL_FROM', 'must be a plain email address such as noreply@example.com')
  const hostname = read(env, 'EMAIL_ENCRYPTION_HOSTNAME')
  return {
    ...server,
    encryption: encryption(env),
    ...(hostname === undefined ? {} : { encryptionHostname: hostname }),
    allowSelfSigned: read(env, 'EMAIL_ALLOW_SELFSIGNED')?.toLowerCase() === 'true',
    ...credentials(env),
    from,
    fromName: read(env, 'EMAIL_FROM_NAME') ?? appTitle
  }
}

const ENCRYPTIONS: readonly string[] = ['tls', 'starttls', 'opportunistic']

function positiveMs (value: number | undefined): boolean {
  return value === undefined || (Number.isSafeInteger(value) && value > 0)
}

/** Checks options given in code (the env mapping has already checked its own); errors name the option. */
export function checkSmtpOptions (options: SmtpMailerOptions): void {
  const { service, host, port, encryption, username, password, from } = options
  if (!service && !host) throw configError('mailer', 'needs a service (such as gmail) or a host')
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) throw configError('mailer.port', 'must be a whole number from 1 to 65535')
  if (encryption !== undefined && !ENCRYPTIONS.includes(encryption)) throw configError('mailer.encryption', 'must be tls, starttls or opportunistic')
  if (!username !== !password) throw configError(username ? 'mailer.password' : 'mailer.username', 'is required with the other credential (or leave out both)')
  if (typeof from !== 'string' || !isPlainAddress(from)) throw configError('mailer.from', 'must be a plain email address such as noreply@example.com')
  if (!positiveMs(options.timeoutMs)) throw configError('mailer.timeoutMs', 'must be a positive whole number of milliseconds')
  if (!positiveMs(options.sendTimeoutMs)) throw configError('mailer.sendTimeoutMs', 'must be a positive whole number of milliseconds')
}
