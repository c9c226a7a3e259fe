import type { Clock } from '../clock.ts'
import type { MailAddress, Mailer } from '../ports/mailer.ts'
import { type MailKind, type MailTemplate, type MailVars, renderMail } from './templates.ts'

export interface MailLog {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

type Vars = Omit<MailVars, 'appTitle' | 'name'> & { name?: string }

export interface MailService {
  /**
   * Takes one of the recipient's slots for this kind of mail: false (and nothing recorded) when they
   * already got `perRecipient.max` of them in the window. A caller that must create something for the
   * mail (a token) reserves first, so a throttled request changes nothing.
   */
  reserve(kind: MailKind, address: string): boolean
  /**
   * Sends a reserved mail after the current request answers, so a request that mails and one that does
   * not take the same time. `onFailure` runs when the transport refuses it.
   */
  send(kind: MailKind, to: MailAddress, vars: Vars, onFailure?: () => Promise<void>): void
  /** `reserve` then `send`; a throttled mail is dropped silently (no mail bombs; the caller's answer does not change). */
  queue(kind: MailKind, to: MailAddress, vars: Vars): boolean
  /** Resolves when every queued mail has been handed to the transport or failed (tests, shutdown). */
  idle(): Promise<void>
}

export function mailService (deps: {
  mailer: Mailer
  appTitle: string
  templates: Partial<Record<MailKind, MailTemplate>>
  perRecipient: { max: number, windowMs: number }
  now: Clock
  log: MailLog
}): MailService {
  const { mailer, appTitle, templates, perRecipient, now, log } = deps
  const pending = new Set<Promise<void>>()
  /** (kind, address) → send times within the window. */
  const recent = new Map<string, number[]>()

  const reserve = (kind: MailKind, address: string): boolean => {
    const key = `${kind}\u0000${address}`
    const at = now().getTime()
    const times = (recent.get(key) ?? []).filter(t => t > at - perRecipient.windowMs)
    if (times.length >= perRecipient.max) {
      recent.set(key, times)
      log.warn({ event: 'lcauth.mail_throttled', kind }, 'mail not sent: this recipient got enough of these lately')
      return false
    }
    times.push(at)
    recent.set(key, times)
    // Forget idle recipients so the map stays bounded by recent traffic.
    if (recent.size > 10_000) for (const [k, v] of recent) if ((v.at(-1) as number) <= at - perRecipient.windowMs) recent.delete(k)
    return true
  }

  const send = (kind: MailKind, to: MailAddress, vars: Vars, onFailure?: () => Promise<void>): void => {
    const message = renderMail(kind, { ...vars, name: vars.name ?? to.name ?? to.address, appTitle }, templates[kind])
    const job = new Promise<void>(resolve => setImmediate(resolve))
      .then(() => mailer.send({ to, ...message }))
      .catch(async (err: unknown) => {
        log.error({ err, event: 'lcauth.mail_failed', kind }, 'mail could not be sent')
        await onFailure?.()
      })
      .catch((err: unknown) => { log.error({ err, event: 'lcauth.mail_cleanup_failed', kind }, 'cleanup after a failed mail failed') })
      .finally(() => { pending.delete(job) })
    pending.add(job)
  }

  return {
    reserve,
    send,
    queue (kind, to, vars) {
      if (!reserve(kind, to.address)) return false
      send(kind, to, vars)
      return true
    },
    async idle () {
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
