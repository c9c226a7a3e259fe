import type { FastifyReply, FastifyRequest } from 'fastify'
import type { AccountService } from '../lib/accounts/account-service.ts'
import type { AdminService } from '../lib/accounts/admin-service.ts'
import type { EmailVerificationService } from '../lib/accounts/email-verification.ts'
import type { PasswordResetService } from '../lib/accounts/password-reset.ts'
import type { ProviderRegistry } from '../lib/identities/providers.ts'
import type { MailService } from '../lib/mail/mail-service.ts'
import type { AuthEventEmitter } from '../lib/events.ts'
import type { PublicConfig } from '../lib/options/types.ts'
import type { SocialAccountService } from '../lib/identities/social-accounts.ts'
import type { StartupConfig } from '../lib/identities/startup-config.ts'
import type { Role, Storage } from '../lib/ports/storage.ts'
import type { SessionService } from '../lib/sessions/session-service.ts'
import type { ModerationApi } from './moderation-api.ts'

/** Who made an authenticated request, as its access token says. */
export interface AuthUser {
  id: string
  sessionId: string
  email: string
  username: string | null
  role: Role
  provider: string
}

export type AuthHook = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

/** `fastify.lcauth`: the plugin's hooks and services. */
export interface LcAuth {
  /**
   * preHandler: 401 unless the request carries a valid access token; 403 `FST_LCAUTH_BANNED` (with
   * Retry-After) when the client's address is banned; sets `request.authUser`.
   */
  authenticate: AuthHook
  /** preHandler: authenticates if needed, then 403 unless the user has `role`. */
  requireRole(role: Role): AuthHook
  accounts: AccountService
  sessions: SessionService
  /** Operator actions (create, delete, disable, set role, set password), as the CLI does them. */
  admin: AdminService
  passwordReset: PasswordResetService
  /** Null without a mailer. */
  emailVerification: EmailVerificationService | null
  /** The mail queue; null without a mailer. `await fastify.lcauth.mail?.idle()` waits for queued mails. */
  mail: MailService | null
  events: AuthEventEmitter
  storage: Storage
  /** Violations, bans and their administration. */
  moderation: ModerationApi
  /** The social and OpenID providers on offer (`/api/auth/config` lists them); each provider's sub-plugin adds itself. */
  providers: ProviderRegistry
  /** Sign-in, linking and unlinking through the social and OpenID providers. */
  socialAccounts: SocialAccountService
  /**
   * The auth fields of LibreChat's startup config, as `GET /api/auth/config` answers them: a host that
   * serves LibreChat's own `/api/config` spreads them into it.
   */
  startupConfig(): StartupConfig
  /** The validated configuration, secrets left out (the JWT secrets and every provider's client secret). */
  config: Readonly<PublicConfig>
}
