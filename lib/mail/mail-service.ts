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
   * Takes one of the recipient's slots for this kind of mail: false when they already got
   * `perRecipient.max` of them in the current window. Counted in the ban store, so every instance
   * shares one count per recipient. A caller that must create something for the mail (a token)
   * reserves first, so a throttled request changes nothing.
   */
  reserve(kind: MailKind, address: string): Promise<boolean>
  /**
   * Sends a reserved mail after the current request answers, so a request that mails and one that does
   * not take the same time. `onFailure` runs when the transport refuses it.
   */
  send(kind: MailKind, to: MailAddress, vars: Vars, onFailure?: () => Promise<void>): void
  /**
   * `reserve` then `send`, both after the current request answers; a throttled mail is dropped silently
   * (no mail bombs; the caller's answer does not change).
   */
  queue(kind: MailKind, to: MailAddress, vars: Vars): void
  /**
   * `reserve`, then `prepare`, then `send`, all after the current request answers: the work a mail
   * needs (writing its token) never delays the answer, so a request that mails and one that does not
   * make the same calls before it. A throttled mail is dropped before `prepare` runs (a throttled
   * request changes nothing); `prepare` may return null to send nothing.
   */
  compose(kind: MailKind, address: string, prepare: () => Promise<PreparedMail | null>): void
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

  /** After the current request answers: reserves the slot (unless already reserved), prepares, renders, hands over to the transport. */
  const deliver = (kind: MailKind, address: string, reserved: boolean, prepare: () => Promise<PreparedMail | null>): void => {
    let prepared: PreparedMail | null = null
    const job = new Promise<void>(resolve => setImmediate(resolve))
      .then(async () => {
        if (!reserved && !await reserve(kind, address)) return
        prepared = await prepare()
        if (prepared === null) return
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
    reserve,
    send: (kind, to, vars, onFailure) => { deliver(kind, to.address, true, async () => ({ to, vars, ...(onFailure === undefined ? {} : { onFailure }) })) },
    queue: (kind, to, vars) => { deliver(kind, to.address, false, async () => ({ to, vars })) },
    compose: (kind, address, prepare) => { deliver(kind, address, false, prepare) },
    async idle () {
      while (pending.size > 0) await Promise.all([...pending])
    }
  }
}
