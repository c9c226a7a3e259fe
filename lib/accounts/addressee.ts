import type { MailAddress } from '../ports/mailer.ts'
import type { User } from '../ports/storage.ts'

/** Who a mail to a user goes to, and the name its greeting may use. */
export interface Addressee {
  to: MailAddress
  /** Absent: the greeting uses the address instead. */
  vars: { name?: string }
}

/**
 * The user's address, with their name only once this system verified that the address is theirs.
 * Anyone can register someone else's address under any name, so until then the name is the
 * registrant's words, and it goes neither into the greeting nor into the To header of the inbox owner's mail.
 */
export function addresseeOf (user: User): Addressee {
  return user.emailVerified
    ? { to: { address: user.email, name: user.name }, vars: { name: user.name } }
    : { to: { address: user.email }, vars: {} }
}
