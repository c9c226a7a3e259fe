import type { MailMessage, Mailer } from '../../ports/mailer.ts'

export interface MemoryMailer extends Mailer {
  /** Every message sent so far, oldest first. */
  readonly outbox: readonly MailMessage[]
}

/** Keeps messages in memory instead of sending them: for tests and local experiments. */
export function memoryMailer (): MemoryMailer {
  const outbox: MailMessage[] = []
  return {
    outbox,
    async send (message) {
      outbox.push(structuredClone(message))
    },
    async close () {}
  }
}
