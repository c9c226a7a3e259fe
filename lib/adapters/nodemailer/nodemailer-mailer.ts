import { createTransport } from 'nodemailer'
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool'
import type { Mailer, MailMessage } from '../../ports/mailer.ts'
import { checkSmtpOptions, isPlainAddress, type SmtpMailerOptions } from '../../mail/smtp-options.ts'
import { SmtpDeadlineError, smtpFailure } from './smtp-failure.ts'

const DEFAULT_TIMEOUT_MS = 10_000

/** The nodemailer pool options for these mailer options: nothing else, no nodemailer defaults left implicit that matter. */
export function transportOptions (options: SmtpMailerOptions): SMTPPoolOptions & { pool: true } {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const { encryption, username, password } = options
  return {
    pool: true,
    ...(options.service ? { service: options.service } : { host: options.host, port: options.port ?? 25 }),
    // `tls`: TLS from the first byte. `starttls`: nodemailer sends STARTTLS whether or not it is
    // announced and fails if the server refuses it. Opportunistic: neither (STARTTLS when offered).
    ...(encryption === 'tls' ? { secure: true } : encryption === 'starttls' ? { requireTLS: true } : {}),
    tls: {
      rejectUnauthorized: options.allowSelfSigned !== true,
      ...(options.encryptionHostname ? { servername: options.encryptionHostname } : {})
    },
    ...(username && password ? { auth: { user: username, pass: password } } : {}),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
    logger: false
  }
}

/** Settles like `run`, or rejects with SmtpDeadlineError after `ms`, aborting `run`'s signal. */
async function withDeadline<T> (ms: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController()
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const error = new SmtpDeadlineError(ms)
      reject(error) // first, so that the race settles with it rather than with the abort it causes
      controller.abort(error)
    }, ms)
  })
  try {
    return await Promise.race([run(controller.signal), deadline])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A Mailer over a pooled nodemailer SMTP transport. `send` resolves once the server accepted the
 * message for its one recipient; failures reject with an Error naming what failed (the nodemailer
 * error as `cause`). `verify` connects (and authenticates) once, within `timeoutMs`.
 */
export function smtpMailer (options: SmtpMailerOptions): Mailer {
  checkSmtpOptions(options)
  const settings = transportOptions(options)
  const transport = createTransport(settings)
  const server = options.service || `${options.host}:${settings.port}`
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const sendTimeout = options.sendTimeoutMs ?? 3 * timeout
  const from = { name: options.fromName ?? '', address: options.from }
  let closed = false

  return {
    async send (message: MailMessage): Promise<void> {
      if (closed) throw new Error('SMTP send refused: the mailer is closed')
      // The port hands over the stored address; anything a parser could split into more recipients is refused here too.
      if (!isPlainAddress(message.to.address)) throw new Error('SMTP send refused: the recipient is not a single plain email address')
      const to = { name: message.to.name ?? '', address: message.to.address }
      try {
        await withDeadline(sendTimeout, signal => transport.sendMail({
          from,
          to,
          envelope: { from: options.from, to: [message.to.address] },
          subject: message.subject,
          text: message.text,
          html: message.html,
          signal
        }))
      } catch (error) {
        throw smtpFailure('send', server, error)
      }
    },
    async verify (): Promise<void> {
      if (closed) throw new Error('SMTP verify refused: the mailer is closed')
      try {
        await withDeadline(timeout, async () => transport.verify())
      } catch (error) {
        throw smtpFailure('verify', server, error)
      }
    },
    /** Idle connections close at once; a delivery in progress finishes first. Idempotent. */
    async close (): Promise<void> {
      closed = true
      transport.close()
    }
  }
}
