import type { Clock } from '../clock.ts'
import { errors } from '../errors.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import type { Storage, User } from '../ports/storage.ts'

/** How fresh a session must be to stand in for a password (accounts without one). */
export const REAUTHENTICATION_WINDOW_MS: number = 5 * 60_000

/**
 * Proves the signed-in user is at the keyboard before a sensitive change (deleting the account,
 * linking a sign-in): the current password, or for an account without one, a session started in the
 * last five minutes. Throws FST_LCAUTH_WRONG_PASSWORD or FST_LCAUTH_REAUTHENTICATION_REQUIRED.
 */
export async function reauthenticate (deps: { storage: Storage, hasher: PasswordHasher, now: Clock }, user: User, sessionId: string, password: string | undefined): Promise<void> {
  if (user.passwordHash !== null) {
    if (password === undefined || !await deps.hasher.verify(password, user.passwordHash)) throw new errors.FST_LCAUTH_WRONG_PASSWORD()
    return
  }
  const session = await deps.storage.sessions.findById(sessionId)
  if (session === null || deps.now().getTime() - session.createdAt.getTime() > REAUTHENTICATION_WINDOW_MS) {
    throw new errors.FST_LCAUTH_REAUTHENTICATION_REQUIRED()
  }
}
