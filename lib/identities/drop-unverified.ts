import type { Clock } from '../clock.ts'
import type { RequestContext } from '../context.ts'
import type { AuthEventEmitter } from '../events.ts'
import type { Storage } from '../ports/storage.ts'

/** How the owner proved the mailbox. */
export type MailboxProof = 'password_reset' | 'email_verified'

/**
 * The owner just proved the mailbox: identities whose provider email was not verified are unlinked,
 * since whoever linked one need not own the address (DESIGN §9). One `oauth.unlinked` per identity.
 */
export async function dropUnverifiedIdentities (
  deps: { storage: Storage, events: AuthEventEmitter, now: Clock },
  userId: string,
  reason: MailboxProof,
  context: RequestContext
): Promise<void> {
  const removed = await deps.storage.identities.deleteUnverifiedForUser(userId)
  const at = deps.now()
  for (const { provider } of removed) deps.events.emit('oauth.unlinked', { ...context, at, userId, provider, reason })
}
