import type { Clock } from '../clock.ts'
import type { BanStore } from '../ports/ban-store.ts'
import type { MailAddress, Mailer } from '../ports/mailer.ts'
import { type MailKind, type MailTemplate, type MailVars, renderMail } from './templates.ts'

export interface MailLog {
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

type Vars = Omit<MailVars, 'appTitle' | 'name'> & { name?: string }

/** A mail a caller prepared: where it goes, what it says, and what to undo when the transport refuses it. */
export interface PreparedMail {
  to: MailAddress
  vars: Vars
  onFailure?: () => Promise<void>
}

export interface MailService {
  /**
   * Sends a mail after the current request answers, so a request that mails and one that does not
   * take the same time. A recipient gets at most `perRecipient.max` mails of a kind per window, counted
   * in the ban store (shared by every instance when it is); past that the mail is dropped silently (no
   * mail bombs; the caller's answer does not change).
   */
  queue(kind: MailKind, to: MailAddress, vars: Vars): void
  /**
   * `queue` for a mail that needs work first (writing its token): the recipient's slot is taken, then
   * `prepare` runs, then the mail goes out, all after the current request answers, so a request that
   * mails and one that does not make the same calls before it. A throttled mail never prepares: a
   * throttled request changes nothing.
   */
  compose(kind: MailKind, address: string, prepare: () => Promise<PreparedMail>): void
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
  /** Where the per-recipient windows are counted (the ban store: shared between instances when it is). */
  store: Pick<BanStore, 'hit'>
  /** A keyed hash of the address: window keys never hold an address in clear. */
  subjectOf: (address: string) => string
}): MailService {
  const { mailer, appTitle, templates, perRecipient, now, log, store, subjectOf } = deps
  const pending = new Set<Promise<void>>()

  const reserve = async (kind: MailKind, address: string): Promise<boolean> => {
    const window = await store.hit(`mail:${kind}:${subjectOf(address)}`, perRecipient.windowMs, now())
    if (window.count <= perRecipient.max) return true
    log.warn({ event: 'lcauth.mail_throttled', kind }, 'mail not sent: this recipient got enough of these lately')
    return false
  }

  /** After the current request answers: takes the recipient's slot, prepares, renders, hands over to the transport. */
  const compose = (kind: MailKind, address: string, prepare: () => Promise<PreparedMail>): void => {
    let prepared: PreparedMail | null = null
    const job = new Promise<void>(resolve => setImmediate(resolve))
      .then(async () => {
        if (!await reserve(kind, address)) return
        prepared = await prepare()
        const { to, vars } = prepared
        const message = renderMail(kind, { ...vars, name: vars.name ?? to.name ?? to.address, appTitle }, templates[kind])
        await mailer.send({ to, ...message })
      })
      .catch(async (err: unknown) => {
        log.error({ err, event: 'lcauth.mail_failed', kind }, 'mail could not be sent')
        await prepared?.onFailure?.()
      })
      .catch((err: unknown) => { log.error({ err, event: 'lcauth.mail_cleanup_failed', kind }, 'cleanup after a failed mail failed') })
      .finally(() => { pending.delete(job) })
    pending.add(job)
  }

  return {
    queue: (kind, to, vars) => { compose(kind, to.address, async () => ({ to, vars })) },
    compose,
    async idle () {
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
