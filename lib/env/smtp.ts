import { configError } from '../errors.ts'
import { isPlainAddress, type SmtpEncryption, type SmtpMailerOptions } from '../mail/smtp-options.ts'
import { type Env, read } from './read.ts'

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
  const password = read(env, 'EMAIL_PASSWORD', { trim: false })
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

