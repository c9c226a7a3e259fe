export interface MailAddress {
  address: string
  name?: string
}

export interface MailMessage {
  /** Always the stored (canonical) address, passed structured, never as a header string. */
  to: MailAddress
  subject: string
  text: string
  html: string
}

/** Sends one message; resolves when the transport accepted it, rejects when it did not. */
export interface Mailer {
  send(message: MailMessage): Promise<void>
  /** Checks that the transport is reachable; never required before `send`. */
  verify?(): Promise<void>
  close(): Promise<void>
}
