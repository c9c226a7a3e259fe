import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AccountService } from '../lib/accounts/account-service.ts'
import type { EmailVerificationService } from '../lib/accounts/email-verification.ts'
import type { PasswordResetService } from '../lib/accounts/password-reset.ts'
import type { PublicUser } from '../lib/accounts/public-user.ts'
import type { Clock } from '../lib/clock.ts'
import type { AuthConfig } from '../lib/options.ts'
import type { Mailer } from '../lib/ports/mailer.ts'
import type { Storage } from '../lib/ports/storage.ts'
import type { VerifiedAccessToken } from '../lib/sessions/access-token.ts'
import type { IssuedSession, SessionService } from '../lib/sessions/session-service.ts'
import type { Guards, ModerationDeps } from './http/moderation-guard.ts'
import type { RefreshCookie } from './http/refresh-cookie.ts'
import type { AuthHook } from './types.ts'

/** What the route plugins get from the root plugin. */
export interface RouteDeps {
  config: AuthConfig
  storage: Storage
  /** Null when no mailer is configured. */
  mailer: Mailer | null
  passwordReset: PasswordResetService
  verification: EmailVerificationService | null
  accounts: AccountService
  sessions: SessionService
  now: Clock
  cookie: RefreshCookie
  authenticate: AuthHook
  /** onRequest hook refusing cross-site requests. */
  sameSite: (request: FastifyRequest) => Promise<void>
  /** Verifies an access token (expired ones included) without any other check. */
  verifyAccess: (token: string) => VerifiedAccessToken | null
  /** What the limiters and ban checks need. */
  moderation: ModerationDeps
  /** Called once the scope built its guards. */
  onGuards: (guards: Guards) => void
  /** onRequest hook: ban check, then the named limiter (null: ban check only). */
  guard: Guards['guard']
  /** Sets the refresh cookie and returns the `{ token, user }` body for a fresh or rotated session. */
  issue: (reply: FastifyReply, issued: IssuedSession) => Promise<{ token: string, user: PublicUser }>
}
