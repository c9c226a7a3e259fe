import { accountService, type AccountService } from './accounts/account-service.ts'
import { adminService, type AdminService } from './accounts/admin-service.ts'
import { emailVerificationService, type EmailVerificationService } from './accounts/email-verification.ts'
import { passwordResetService, type PasswordResetService, type ResetMode } from './accounts/password-reset.ts'
import { subjectHasher } from './accounts/subject.ts'
import { type Clock, systemClock } from './clock.ts'
import { noContext } from './context.ts'
import { deriveKey } from './crypto/keys.ts'
import { randomToken } from './crypto/random.ts'
import { AuthEventEmitter } from './events.ts'
import { providerRegistry, type ProviderRegistry } from './identities/providers.ts'
import { socialAccountService, type SocialAccountService } from './identities/social-accounts.ts'
import { mailService, type MailService } from './mail/mail-service.ts'
import type { MailKind, MailTemplate } from './mail/templates.ts'
import { loginThrottle } from './moderation/login-throttle.ts'
import { moderationService, type ModerationService } from './moderation/moderation-service.ts'
import { resilientBanStore } from './moderation/resilient-store.ts'
import type { CoreConfig } from './options/types.ts'
import { boundedHasher } from './passwords/bounded-hasher.ts'
import { bcryptHasher, type PasswordHasher } from './passwords/hasher.ts'
import type { BanStore } from './ports/ban-store.ts'
import type { Mailer } from './ports/mailer.ts'
import type { Storage, User } from './ports/storage.ts'
import { purger, type Purger } from './sessions/purge.ts'
import { revocationMirror, type RevocationMirror } from './sessions/revocation-mirror.ts'
import { sessionService, type SessionService } from './sessions/session-service.ts'
import { accessTokens, type AccessTokens } from './tokens/access-tokens.ts'
import { hmacKeySet } from './tokens/key-set.ts'

/** How the core logs: pino's call shape, so a Fastify logger fits as it is. */
export interface CoreLog {
  info(obj: object, msg: string): void
  warn(obj: object, msg: string): void
  error(obj: object, msg: string): void
}

/** What the core is built from: validated settings and opened ports. */
export interface CoreParts {
  config: CoreConfig
  storage: Storage
  /** Bans, violation scores and limiter counters. */
  bans: BanStore
  /**
   * This process's own store, standing in while a shared `bans` store fails, so limits and bans keep
   * working instead of failing open. Without it the shared store's failures surface (the CLI wants that).
   */
  banFallback?: BanStore
  /** Null or absent: no mail, no verification, no reset by mail. */
  mailer?: Mailer | null
  mailTemplates?: Partial<Record<MailKind, MailTemplate>>
  /** Replaces bcrypt (tests count its calls); bounded like the default. */
  hasher?: PasswordHasher
  now?: Clock
  /** How the login throttle holds an attempt back; tests record the wait instead of sleeping. */
  wait?: (ms: number) => Promise<unknown>
  log: CoreLog
  /** Extra access-token claims; they never override the standard ones. */
  accessTokenClaims?: (user: User) => Record<string, unknown>
  /** The parts the caller hands over for `close()` to close: what it opened, never what its own caller gave it. */
  owns?: { storage?: boolean, bans?: boolean, mailer?: boolean }
}

/** Every service, built once. `fastify.lcauth` exposes them; the CLI drives the same ones. */
export interface Core {
  readonly config: CoreConfig
  /** Where every service reads the time. */
  readonly now: Clock
  readonly storage: Storage
  /** The ban store in use (with its fallback in front, when it has one). */
  readonly bans: BanStore
  readonly events: AuthEventEmitter
  readonly hasher: PasswordHasher
  /** A keyed HMAC of an identifier (an email) for events and limiter keys. */
  readonly subjectOf: (identifier: string) => string
  readonly mirror: RevocationMirror
  readonly sessions: SessionService
  readonly admin: AdminService
  readonly accounts: AccountService
  readonly passwordReset: PasswordResetService
  /** Null without a mailer. */
  readonly emailVerification: EmailVerificationService | null
  /** Null without a mailer. */
  readonly mail: MailService | null
  readonly moderation: ModerationService
  readonly accessTokens: AccessTokens
  /** Social and OpenID providers the login page offers; their sub-plugins add themselves. */
  readonly providers: ProviderRegistry
  /** Sign-in, linking and unlinking through those providers. */
  readonly socialAccounts: SocialAccountService
  readonly purge: Purger
  /** A server's background work: the shared ban store's check, revocation polling, purging, the mail server's check. */
  start(): Promise<void>
  /** Stops the background work, lets queued mail go out, then closes the owned parts. Idempotent. */
  close(): Promise<void>
}

/** The one composition root: the plugin and the CLI both build their services here. */
export function createCore (parts: CoreParts): Core {
  const { config, storage, log } = parts
  const now = parts.now ?? systemClock
  const mailer = parts.mailer ?? null
  const events = new AuthEventEmitter((err, event) => { log.error({ err, event }, 'librechat-auth event listener failed') })
  // Without the refresh secret (an operator's process) subjects are keyed per process: never a plain email.
  const subjectOf = subjectHasher(deriveKey(config.jwtRefreshSecret ?? randomToken(32), 'event identifiers'))
  const bans = parts.banFallback === undefined ? parts.bans : resilient(parts.bans, parts.banFallback, events, now, log)
  const hasher = boundedHasher(parts.hasher ?? bcryptHasher({ rounds: config.bcryptRounds }), {
    concurrency: config.hashConcurrency,
    maxWaitMs: config.hashMaxWait
  })

  const mirror = revocationMirror({
    sessions: storage.sessions,
    now,
    retentionMs: config.sessionExpiry,
    pollIntervalMs: config.revocationPollInterval,
    onPollError: err => { log.warn({ err, event: 'lcauth.revocation_poll_failed' }, 'could not read revocations from storage') }
  })
  const sessions = sessionService({
    storage,
    now,
    events,
    onRevoked: mirror.add,
    policy: {
      maxPerUser: config.sessionMaxPerUser,
      refreshTokenExpiry: config.refreshTokenExpiry,
      sessionMaxAge: config.sessionMaxAge,
      refreshReuseInterval: config.refreshReuseInterval,
      refreshKey: config.jwtRefreshSecret
    }
  })

  const mail = mailer === null ? null : mailService({ mailer, appTitle: config.appTitle, templates: parts.mailTemplates ?? {}, perRecipient: config.mailPerRecipient, now, log, store: bans, subjectOf })
  const emailVerification = mail === null
    ? null
    : emailVerificationService({ storage, mail, events, now, policy: { expiryMs: config.emailVerificationExpiry, domainClient: config.domainClient, subjectOf } })
  const passwordReset = passwordResetService({
    storage, hasher, sessions, mail, events, now,
    policy: { mode: resetMode(config, mail !== null), acceptLinks: config.allowPasswordReset, expiryMs: config.resetPasswordExpiry, domainClient: config.domainClient, minPasswordLength: config.minPasswordLength, appTitle: config.appTitle, subjectOf }
  })
  const admin = adminService({ storage, hasher, events, now, minPasswordLength: config.minPasswordLength, appTitle: config.appTitle, sessions })
  const moderation = moderationService({
    store: bans,
    config: config.moderation,
    events,
    now,
    findUserByEmail: email => storage.users.findByEmail(email),
    endSessions: async (userId, context) => { await sessions.revokeAll(userId, null, 'ban', context) }
  })
  const accounts = accountService({
    storage,
    hasher,
    sessions,
    admin,
    mail,
    verification: emailVerification,
    events,
    now,
    throttle: loginThrottle({ store: bans, limit: config.moderation.limits.loginAccount, dryRun: config.moderation.dryRun, events, now, subjectOf, ...(parts.wait === undefined ? {} : { wait: parts.wait }) }),
    userBan: moderation.userBan,
    policy: {
      requireVerifiedEmail: mail !== null && !config.allowUnverifiedEmailLogin,
      domainClient: config.domainClient,
      allowRegistration: config.allowRegistration,
      allowAccountDeletion: config.allowAccountDeletion,
      allowEmailLogin: config.allowEmailLogin,
      allowedEmailDomains: config.allowedEmailDomains,
      minPasswordLength: config.minPasswordLength,
      appTitle: config.appTitle,
      subjectOf
    }
  })
  const providers = providerRegistry()
  const socialAccounts = socialAccountService({
    storage,
    hasher,
    sessions,
    events,
    now,
    mail,
    userBan: moderation.userBan,
    enabledProviders: () => providers.list().map(p => p.name),
    policy: { allowSocialRegistration: config.allowSocialRegistration, allowEmailLogin: config.allowEmailLogin, allowedEmailDomains: config.allowedEmailDomains, domainClient: config.domainClient }
  })
  const purge = purger({ storage, bans, now, intervalMs: config.purgeInterval, keepRevokedMs: config.sessionExpiry, log })
  const tokens = accessTokens({ keys: config.jwtSecret === null ? null : hmacKeySet(config.jwtSecret), issuer: config.domainServer, lifetimeMs: config.sessionExpiry, now, extraClaims: parts.accessTokenClaims })

  let closing: Promise<void> | null = null
  const close = async (): Promise<void> => {
    mirror.stop()
    purge.stop()
    moderation.stop()
    await mail?.idle()
    // What the caller handed over is closed; a fallback is always ours. The storage goes last: the ban
    // store may live in its database.
    const owns = parts.owns ?? {}
    for (const part of [owns.bans === true ? bans : parts.banFallback, owns.mailer === true ? mailer : null, owns.storage === true ? storage : null]) {
      await part?.close()
    }
  }

  return {
    config,
    now,
    storage,
    bans,
    events,
    hasher,
    subjectOf,
    mirror,
    sessions,
    admin,
    accounts,
    passwordReset,
    emailVerification,
    mail,
    moderation,
    accessTokens: tokens,
    providers,
    socialAccounts,
    purge,
    async start () {
      // A shared ban store that fails its check is reported through its fallback's onDown: starting on
      // the fallback is better than not starting. The mirror must hold recent revocations before the
      // first request. The mail server is only checked, never waited for.
      if (parts.banFallback !== undefined) await bans.init?.().catch(() => {})
      await mirror.start()
      purge.start()
      mailer?.verify?.().catch((err: unknown) => { log.warn({ err, event: 'lcauth.mailer_unreachable' }, 'the mail server could not be reached; mails will fail until it can') })
    },
    close: () => (closing ??= close())
  }
}

/**
 * How users ask for a reset link: by mail when there is a mailer, LibreChat's unsafe in-response link
 * when explicitly allowed without one, otherwise not at all.
 */
function resetMode (config: CoreConfig, hasMail: boolean): ResetMode {
  if (!config.allowPasswordReset) return 'disabled'
  if (hasMail) return 'mail'
  return config.allowUnsafePasswordReset ? 'unsafe' : 'disabled'
}

/** A shared ban store with this process's fallback in front; outages and recoveries are logged and emitted. */
function resilient (shared: BanStore, fallback: BanStore, events: AuthEventEmitter, now: Clock, log: CoreLog): BanStore {
  return resilientBanStore(shared, {
    fallback,
    now,
    retryMs: 1000,
    onDown: error => {
      log.warn({ err: error, event: 'lcauth.moderation_store_unavailable' }, 'the moderation store failed: limits and bans run from this instance\'s memory until it is back')
      events.emit('moderation.store_unavailable', { ...noContext, at: now(), store: shared.kind, error: String(error) })
    },
    onUp: () => {
      log.info({ event: 'lcauth.moderation_store_recovered' }, 'the moderation store is back')
      events.emit('moderation.store_recovered', { ...noContext, at: now(), store: shared.kind })
    }
  })
}
