/**
 * Turns a nodemailer error into an Error whose message says what failed, built only from error
 * codes, SMTP reply codes and the server's address: never the driver's own text (it may quote a
 * server reply that echoes an address), never a credential. The original error is the `cause`.
 */

/** Thrown (as `cause`) when a send or a verify outlived its overall deadline. */
export class SmtpDeadlineError extends Error {
  constructor (readonly ms: number) {
    super(`no result within ${ms} ms`)
    this.name = 'SmtpDeadlineError'
  }
}

function text (error: unknown, key: string): string | undefined {
  const value = typeof error === 'object' && error !== null ? (error as Record<string, unknown>)[key] : undefined
  return typeof value === 'string' ? value : undefined
}

const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/
const TLS = /^ERR_(SSL|TLS)_|^EPROTO$/

function reason (error: unknown): string {
  if (error instanceof SmtpDeadlineError) return `timed out after ${error.ms} ms`
  const code = text(error, 'code')
  const system = text(error, 'originalCode') ?? ''
  const command = /^[A-Z][A-Z -]{1,20}$/.exec(text(error, 'command') ?? '')?.[0]
  const response = text(error, 'response')?.match(/^[245]\d\d/)?.[0]
  const replied = response === undefined ? '' : ` (server replied ${response})`
  if (code === 'ETIMEDOUT') return `timed out${command === undefined ? '' : ` at ${command}`}`
  if (system === 'ECONNREFUSED') return 'connection refused'
  if (CERTIFICATE.test(system)) return `TLS certificate not accepted (${system})`
  if (code === 'ETLS' || TLS.test(system)) return `TLS negotiation failed${command === 'STARTTLS' ? ': the server does not allow STARTTLS' : ''}${replied}`
  if (code === 'EAUTH' || code === 'ENOAUTH') return `authentication failed${replied}`
  if (code === 'EENVELOPE' && command === 'RCPT TO') return `recipient rejected${replied}`
  if (code === 'EENVELOPE') return `sender rejected${replied}`
  if (code === 'EMESSAGE') return `message rejected${replied}`
  if (code === 'ECONNECTION' || code === 'ESOCKET') return `connection lost (${system || 'closed unexpectedly'})`
  return `${code ?? 'unexpected error'}${replied}`
}

/** `what` is `send` or `verify`; `server` is `host:port` or the service name. */
export function smtpFailure (what: 'send' | 'verify', server: string, error: unknown): Error {
  return new Error(`SMTP ${what} to ${server} failed: ${reason(error)}`, { cause: error })
}
