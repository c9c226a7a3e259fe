import { configError } from '../errors.ts'
import { integer, optionalPositiveMs } from '../options/validate.ts'

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

const ENCRYPTIONS: readonly string[] = ['tls', 'starttls', 'opportunistic']

/** Checks options given in code (the env mapping has already checked its own); errors name the option. */
export function checkSmtpOptions (options: SmtpMailerOptions): void {
  const { service, host, port, encryption, username, password, from } = options
  if (!service && !host) throw configError('mailer', 'needs a service (such as gmail) or a host')
  if (port !== undefined) integer(port, 'mailer.port', 0, 1, 65535)
  if (encryption !== undefined && !ENCRYPTIONS.includes(encryption)) throw configError('mailer.encryption', 'must be tls, starttls or opportunistic')
  if (!username !== !password) throw configError(username ? 'mailer.password' : 'mailer.username', 'is required with the other credential (or leave out both)')
  if (typeof from !== 'string' || !isPlainAddress(from)) throw configError('mailer.from', 'must be a plain email address such as noreply@example.com')
  optionalPositiveMs(options.timeoutMs, 'mailer.timeoutMs')
  optionalPositiveMs(options.sendTimeoutMs, 'mailer.sendTimeoutMs')
}
