import type { Clock } from '../clock.ts'
import type { TrustProxy } from '../moderation/client-address.ts'
import type { ModerationConfig, ModerationOptions } from '../moderation/config.ts'
import type { SmtpMailerOptions } from '../mail/smtp-options.ts'
import type { MailKind, MailTemplate } from '../mail/templates.ts'
import type { BanStore } from '../ports/ban-store.ts'
import type { Mailer } from '../ports/mailer.ts'
import type { Storage, User } from '../ports/storage.ts'
import type { PasswordHasher } from '../passwords/hasher.ts'
import type { SocialLoginConfig, SocialLoginOptions, SocialProviderConfig } from '../identities/social-config.ts'
import type { OpenIdConfig, OpenIdOptions } from '../identities/openid-config.ts'


/**
 * The plugin's options. Every field but the two secrets and `domainServer` has a safe default; those
 * three are required, whether they come from here or from `optionsFromEnv`, and registration fails
 * naming the one that is missing. (They are optional in the type so that `{ ...optionsFromEnv(env) }`
 * type-checks.)
 */
export interface AuthOptions {
  /** Required. HMAC key of access tokens (`JWT_SECRET`). At least 32 bytes in production. */
  jwtSecret?: string
  /** Required. HMAC key of refresh-token hashes and event identifiers (`JWT_REFRESH_SECRET`). Must differ from `jwtSecret` in production. */
  jwtRefreshSecret?: string
  /** Required. Public origin of the API (`DOMAIN_SERVER`): the access tokens' `iss`, and an allowed request origin. */
  domainServer?: string
  /** Public origin of the web client (`DOMAIN_CLIENT`); defaults to `domainServer`. */
  domainClient?: string
  /** `ALLOW_EMAIL_LOGIN`, default true. */
  allowEmailLogin?: boolean
  /** `ALLOW_REGISTRATION`, default true. */
  allowRegistration?: boolean
  /** `ALLOW_SOCIAL_LOGIN`, default false. */
  allowSocialLogin?: boolean
  /** `ALLOW_SOCIAL_REGISTRATION`, default false. */
  allowSocialRegistration?: boolean
  /**
   * Social login apps (`GOOGLE_*`, `GITHUB_*`, `DISCORD_*`, `FACEBOOK_*`): a provider with a client id
   * and secret is offered when `allowSocialLogin` is true. See docs/social-login.md.
   */
  socialLogin?: SocialLoginOptions
  /** An OpenID Connect issuer (`OPENID_*`), offered when `allowSocialLogin` is true. See docs/openid.md. */
  openid?: OpenIdOptions
  /** `ALLOW_ACCOUNT_DELETION`, default true: users may delete their own account. */
  allowAccountDeletion?: boolean
  /** `ALLOWED_EMAIL_DOMAINS`: when set, only these email domains may register (exact match, case-insensitive). */
  allowedEmailDomains?: readonly string[]
  /** Access-token lifetime in ms (`SESSION_EXPIRY`), default 15 minutes. */
  sessionExpiry?: number
  /** Sliding refresh-token lifetime in ms (`REFRESH_TOKEN_EXPIRY`), default 7 days. */
  refreshTokenExpiry?: number
  /** Absolute session lifetime in ms (`SESSION_MAX_AGE`), default 30 days. */
  sessionMaxAge?: number
  /** How long the previous refresh token counts as a benign two-tab race, in ms (`REFRESH_REUSE_INTERVAL`), default 10 s. */
  refreshReuseInterval?: number
  /** Live sessions per user (`SESSION_MAX_PER_USER`), default 20; a new login ends the oldest beyond it. */
  sessionMaxPerUser?: number
  /** How often each instance polls storage for revocations made elsewhere, ms; default 500, at most 1000. */
  revocationPollInterval?: number
  /**
   * Password hashes running at once (`PASSWORD_HASH_CONCURRENCY`), default 4: the size of libuv's thread pool,
   * where bcrypt runs. Fewer leaves cores idle between jobs (measured: 0.75 of a bare bcrypt route with 2 on
   * 2 cores, 0.94 with 4); more cannot run at once anyway.
   */
  hashConcurrency?: number
  /** Longest expected queue wait before a hash job is refused with 503 and Retry-After (`PASSWORD_HASH_MAX_WAIT`), ms; default 5000. */
  hashMaxWait?: number
  /** How often expired sessions and spent one-time tokens are deleted, ms; default one hour, 0 never. */
  purgeInterval?: number
  /** `MIN_PASSWORD_LENGTH`, default 8 (at least 8 in production). */
  minPasswordLength?: number
  /** bcrypt cost (`BCRYPT_ROUNDS`), default 12 (at least 10 in production). */
  bcryptRounds?: number
  /** Secure refresh cookie (`SESSION_COOKIE_SECURE`); default: true when `domainServer` is https. */
  sessionCookieSecure?: boolean
  /** `APP_TITLE`, default `LibreChat`. */
  appTitle?: string
  /** Production mode turns the risky settings listed in docs/security.md into errors. Default: `NODE_ENV === 'production'`. */
  production?: boolean
  /**
   * Where users and sessions live: a `Storage`, or `{ url }` naming one (`sqlite:path.db`, `postgres://…`;
   * what `DATABASE_URL` maps to), which the plugin opens, migrates unless `migrate: false`, and closes.
   * Default: in memory (lost on restart; a warning says so).
   */
  storage?: Storage | StorageDescriptor
  /**
   * How long a request waits for a PostgreSQL storage opened from a URL, in ms (`DATABASE_TIMEOUT_MS`), default 3000,
   * 100 to 60000: connecting or getting a pooled connection, and each statement (cancelled by the server past it).
   * Then the request answers 503 FST_LCAUTH_STORAGE_UNAVAILABLE.
   */
  databaseTimeout?: number
  /**
   * Sends mail: a `Mailer`, or SMTP settings (what the `EMAIL_*` variables map to) for the bundled
   * nodemailer adapter, which the plugin loads, checks at start and closes. Password reset by mail and
   * email verification need one.
   */
  mailer?: Mailer | SmtpMailerOptions
  /** `ALLOW_PASSWORD_RESET`, default true; effective only with a mailer (or the unsafe mode). */
  allowPasswordReset?: boolean
  /**
   * `ALLOW_UNSAFE_PASSWORD_RESET`, default false: without a mailer, LibreChat's unsecured reset (the link
   * in the response: anyone who knows an email can take the account). Refused in production.
   */
  allowUnsafePasswordReset?: boolean
  /** `ALLOW_UNVERIFIED_EMAIL_LOGIN`, default false: with a mailer, login requires a verified email unless true. */
  allowUnverifiedEmailLogin?: boolean
  /** Reset links live this long, ms (`RESET_PASSWORD_EXPIRY`), default 15 minutes. */
  resetPasswordExpiry?: number
  /** Verification links live this long, ms (`EMAIL_VERIFICATION_EXPIRY`), default 24 hours. */
  emailVerificationExpiry?: number
  /** Replace the text of any mail: a function of its variables, or template strings. */
  mailTemplates?: Partial<Record<MailKind, MailTemplate>>
  /** At most `max` mails of one kind to one recipient per `windowMs` (default 3 per hour); more are dropped silently. */
  mailPerRecipient?: { max: number, windowMs: number }
  /**
   * Where bans, violation scores and limiter counters live: a `BanStore`, or `{ url: 'redis://…' }` for
   * the bundled Redis adapter (what `USE_REDIS`/`REDIS_URI`/`REDIS_KEY_PREFIX` map to), which the plugin
   * loads and closes. Default: the storage's own database when it has one (SQL), else memory.
   */
  banStore?: BanStore | BanStoreDescriptor
  /** Limits, violation scores and bans (LibreChat's moderation variables). */
  moderation?: ModerationOptions
  /**
   * Proxies whose X-Forwarded-For names the client (`TRUST_PROXY`): addresses and CIDR ranges, or the
   * names `loopback`, `linklocal`, `uniquelocal`. Default: none, the socket peer is the client. A hop
   * count or `true` lets clients pick their own address: refused in production.
   */
  trustProxy?: TrustProxy
  /** Replaces the bcrypt hasher (tests count its calls). */
  hasher?: PasswordHasher
  /** Extra access-token claims; they can never override the standard ones. */
  accessTokenClaims?: (user: User) => Record<string, unknown>
  /** Route prefixes: `auth` (default `/api/auth`) and `user` (default `/api/user`). */
  routePrefixes?: { auth?: string, user?: string }
  /** Body limit of the plugin's routes in bytes, default 16 KiB. */
  bodyLimit?: number
  /** Where services read the time. */
  now?: Clock
  /**
   * How the plugin waits, ms (the failed-login delay, at most 2 s): default `setTimeout` of
   * `node:timers/promises`. Tests pass one that records the wait and returns at once.
   */
  wait?: (ms: number) => Promise<unknown>
  /**
   * Logs every security event through `fastify.log` (default true): `info` for normal outcomes, `warn`
   * for refusals, failures, bans and reuse, as `{ event, ...payload }` without secrets, tokens or emails.
   */
  logEvents?: boolean
}

/** A Redis ban store named by URL (`redis://` or `rediss://`), opened by the plugin at registration. */
export interface BanStoreDescriptor {
  url: string
  /** Prefix of every key and channel, default `librechat-auth:`. */
  keyPrefix?: string
}

/** A storage named by URL, opened by the plugin at registration. */
export interface StorageDescriptor {
  url: string
  migrate?: boolean
}

/** Options after validation: every default applied. */
export interface AuthConfig {
  jwtSecret: string
  jwtRefreshSecret: string
  domainServer: string
  domainClient: string
  allowEmailLogin: boolean
  allowRegistration: boolean
  allowSocialLogin: boolean
  allowSocialRegistration: boolean
  socialLogin: SocialLoginConfig
  /** Null when not configured, or when social login is off. */
  openid: OpenIdConfig | null
  allowAccountDeletion: boolean
  allowPasswordReset: boolean
  allowUnsafePasswordReset: boolean
  allowUnverifiedEmailLogin: boolean
  resetPasswordExpiry: number
  emailVerificationExpiry: number
  mailPerRecipient: { max: number, windowMs: number }
  allowedEmailDomains: readonly string[] | null
  sessionExpiry: number
  refreshTokenExpiry: number
  sessionMaxAge: number
  refreshReuseInterval: number
  sessionMaxPerUser: number
  revocationPollInterval: number
  databaseTimeout: number
  hashConcurrency: number
  hashMaxWait: number
  purgeInterval: number
  minPasswordLength: number
  bcryptRounds: number
  sessionCookieSecure: boolean
  appTitle: string
  production: boolean
  authPrefix: string
  userPrefix: string
  bodyLimit: number
  logEvents: boolean
  moderation: ModerationConfig
  /** As given; the plugin turns it into the client-address rule (invalid entries fail registration). */
  trustProxy: TrustProxy | undefined
}

/** What `fastify.lcauth.config` shows: the settings without a secret (the JWT secrets, the providers' client secrets). */
export type PublicConfig = Omit<AuthConfig, 'jwtSecret' | 'jwtRefreshSecret' | 'socialLogin' | 'openid'> & {
  socialLogin: { providers: ReadonlyArray<Omit<SocialProviderConfig, 'clientSecret'>>, timeout: number }
  openid: Omit<OpenIdConfig, 'clientSecret' | 'sessionSecret'> | null
}

/**
 * What the core needs (`createCore`). The plugin passes its `AuthConfig`; an operator's process (the
 * CLI) may have no secrets, and then issues, rotates and accepts no token.
 */
export type CoreConfig = Omit<AuthConfig, 'jwtSecret' | 'jwtRefreshSecret'> & {
  jwtSecret: string | null
  jwtRefreshSecret: string | null
}
