/**
 * The development inbox: a Mailer that keeps mail in memory instead of sending it, and the two pages
 * that show it (`/dev/mail`, `/dev/mail.json`) to this machine only. With it, verification and
 * password reset work with no SMTP server, and no link ever travels in an API response.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { MailMessage, Mailer } from '../index.ts'
import { isLoopbackAddress, isLoopbackHost } from './loopback.ts'
import { inboxPage, splitLinks } from './dev-inbox-page.ts'

/** One kept mail, as `/dev/mail.json` returns it. */
export interface InboxMail {
  /** The recipient's address. */
  to: string
  subject: string
  text: string
  html: string
  /** Every http(s) URL of the text body, in order, each once. */
  links: string[]
  /** When it was sent (ISO 8601). */
  at: string
}

export interface DevInbox extends Mailer {
  /** How many mails it keeps. */
  readonly max: number
  /** The kept mails, newest first. */
  mails(): InboxMail[]
}

export const DEV_INBOX_SIZE = 200

/** A Mailer that keeps the last `max` mails in memory, newest first. `onMail` hears of each (its subject only). */
export function devInbox (options: { max?: number, now?: () => Date, onMail?: (subject: string) => void } = {}): DevInbox {
  const max = options.max ?? DEV_INBOX_SIZE
  const now = options.now ?? (() => new Date())
  const kept: InboxMail[] = []
  return {
    max,
    async send (message: MailMessage) {
      const links = [...new Set(splitLinks(message.text).filter(p => p.link).map(p => p.text))]
      kept.unshift({ to: message.to.address, subject: message.subject, text: message.text, html: message.html, links, at: now().toISOString() })
      if (kept.length > max) kept.length = max
      options.onMail?.(message.subject)
    },
    async close () {},
    mails: () => kept.map(mail => ({ ...mail, links: [...mail.links] }))
  }
}

/**
 * Whether to use the inbox, from `EMAIL_DEV_INBOX`: `true` and `false` decide; unset, it is on when
 * there is no SMTP server (EMAIL_SERVICE/EMAIL_HOST), HOST is loopback and it is not production.
 * `true` in production or on a non-loopback HOST is refused (it would show every user's links to
 * whoever reaches the page); `true` with SMTP settings wins over them (nothing leaves the machine).
 */
export function devInboxWanted (input: { setting: string | undefined, smtp: boolean, host: string, production: boolean }): boolean {
  const setting = input.setting?.trim().toLowerCase() ?? ''
  if (setting !== '' && setting !== 'true' && setting !== 'false') throw new Error('EMAIL_DEV_INBOX must be true or false')
  if (setting === 'false') return false
  const loopback = isLoopbackHost(input.host)
  if (setting === '') return !input.smtp && loopback && !input.production
  if (input.production) throw new Error('EMAIL_DEV_INBOX=true is refused when NODE_ENV=production: the inbox page shows every mail and its links')
  if (!loopback) throw new Error(`EMAIL_DEV_INBOX=true needs a loopback HOST (127.0.0.1, ::1 or localhost), not ${input.host}: the inbox page shows every mail and its links`)
  return true
}

/** Headers that say a proxy forwarded the request: such a request came from elsewhere, whatever its socket says. */
const FORWARDING = ['forwarded', 'x-forwarded-for', 'x-real-ip']

/**
 * Who may read the inbox: a peer on this machine (the raw socket's address; forwarding headers are
 * never believed, and their presence refuses the request), asking for a loopback name or one of the
 * app's own origins (so a page on another site cannot read it through DNS rebinding).
 */
export function mayReadInbox (request: { socketAddress: string | undefined, hostname: string, headers: Record<string, unknown> }, ownHostnames: readonly string[]): boolean {
  if (!isLoopbackAddress(request.socketAddress)) return false
  if (FORWARDING.some(name => request.headers[name] !== undefined)) return false
  const hostname = request.hostname.toLowerCase()
  return isLoopbackHost(hostname) || ownHostnames.includes(hostname)
}

/** `GET /dev/mail` (HTML) and `GET /dev/mail.json`; any other client gets the ordinary 404. */
export function devInboxRoutes (app: FastifyInstance, inbox: DevInbox, origins: readonly string[]): void {
  const ownHostnames = origins.map(origin => new URL(origin).hostname.toLowerCase())
  const allowed = (request: FastifyRequest): boolean =>
    mayReadInbox({ socketAddress: request.raw.socket.remoteAddress, hostname: request.hostname, headers: request.headers }, ownHostnames)
  // Links carry tokens: kept out of caches and out of Referer headers.
  const guarded = (send: (reply: FastifyReply) => unknown) => async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    if (!allowed(request)) {
      reply.callNotFound()
      return reply
    }
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').header('x-content-type-options', 'nosniff')
    return send(reply)
  }
  app.get('/dev/mail', guarded(reply => reply
    .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    .type('text/html; charset=utf-8')
    .send(inboxPage(inbox.mails(), inbox.max))))
  app.get('/dev/mail.json', guarded(() => inbox.mails()))
}
