import type { Clock } from '../clock.ts'
import type { MailAddress, Mailer } from '../ports/mailer.ts'
import { type MailKind, type MailTemplate, type MailVars, renderMail } from './templates.ts'

export interface MailLog {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

export interface MailService {
  /**
   * Queues a mail to be sent after the current request answers, so a request that mails and one that
   * does not take the same time. Silently drops it when the recipient already got `perRecipient.max`
   * mails of this kind in the window (no mail bombs; the caller's answer does not change). `onFailure`
   * runs when the transport refuses it.
   */
  queue(kind: MailKind, to: MailAddress, vars: Omit<MailVars, 'appTitle' | 'name'> & { name?: string }, onFailure?: () => Promise<void>): void
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

  const allowed = (kind: MailKind, address: string): boolean => {
    const key = `${kind}\u0000${address}`
    const at = now().getTime()
    const times = (recent.get(key) ?? []).filter(t => t > at - perRecipient.windowMs)
    if (times.length >= perRecipient.max) {
      recent.set(key, times)
      return false
    }
    times.push(at)
    recent.set(key, times)
    // Forget idle recipients so the map stays bounded by recent traffic.
    if (recent.size > 10_000) for (const [k, v] of recent) if ((v.at(-1) as number) <= at - perRecipient.windowMs) recent.delete(k)
    return true
  }

  return {
    queue (kind, to, vars, onFailure) {
      if (!allowed(kind, to.address)) {
        log.warn({ event: 'lcauth.mail_throttled', kind }, 'mail not sent: this recipient got enough of these lately')
        return
      }
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
    },
    async idle () {
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
