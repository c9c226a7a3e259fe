import { adminService, type AdminService } from '../accounts/admin-service.ts'
import { passwordResetService, type PasswordResetService } from '../accounts/password-reset.ts'
import { sessionService } from '../sessions/session-service.ts'
import { DEFAULT_DATABASE_URL, openStorage } from '../adapters/open-storage.ts'
import { systemClock } from '../clock.ts'
import { noContext, type RequestContext } from '../context.ts'
import { optionsFromEnv, type Env } from '../env.ts'
import { AuthEventEmitter } from '../events.ts'
import { type AuthConfig, resolveOptions } from '../options.ts'
import { boundedHasher } from '../passwords/bounded-hasher.ts'
import { bcryptHasher } from '../passwords/hasher.ts'
import { openBanStore } from '../adapters/open-ban-store.ts'
import { moderationService, type ModerationService } from '../moderation/moderation-service.ts'
import type { BanStore } from '../ports/ban-store.ts'
import type { Storage } from '../ports/storage.ts'

export interface CliContext {
  storage: Storage
  /** Bans where the server keeps them: Redis with USE_REDIS, else the storage's database. */
  moderation: ModerationService
  bans: BanStore
  admin: AdminService
  passwordReset: PasswordResetService
  /** Where links point (`DOMAIN_CLIENT`, else `DOMAIN_SERVER`); null when neither is set. */
  linkBase: string | null
  config: AuthConfig
  context: RequestContext
}

// The CLI needs no token secrets, but it validates every other variable exactly as the server does:
// placeholders stand in for the secrets and the domain so the same resolver can run.
const PLACEHOLDERS = { jwtSecret: 'cli-placeholder-access-secret', jwtRefreshSecret: 'cli-placeholder-refresh-secret', domainServer: 'http://localhost' }

/**
 * The services the HTTP routes use, on the storage `DATABASE_URL` names (SQLite at
 * data/librechat-auth.db by default), with the password policy and bcrypt cost from the environment.
 */
export async function cliContext (env: Env, options: { storage?: Storage, defaultDatabaseUrl?: string, audit?: (line: string) => void } = {}): Promise<CliContext> {
  const fromEnv = optionsFromEnv(env)
  const { config } = resolveOptions({ ...fromEnv, ...PLACEHOLDERS, domainClient: fromEnv.domainClient ?? fromEnv.domainServer ?? PLACEHOLDERS.domainServer, production: false }, false)
  const linkBase = fromEnv.domainClient === undefined && fromEnv.domainServer === undefined ? null : config.domainClient
  const url = fromEnv.storage !== undefined && 'url' in fromEnv.storage ? fromEnv.storage.url : options.defaultDatabaseUrl ?? DEFAULT_DATABASE_URL
  const storage = options.storage ?? await openStorage(url)
  await storage.init()
  const now = systemClock
  const hasher = boundedHasher(bcryptHasher({ rounds: config.bcryptRounds }), { concurrency: 1, maxWaitMs: 60_000 })
  // A one-shot process keeps no revocation mirror and has no event listeners whose failures matter.
  const ignore = (): void => {}
  const events = new AuthEventEmitter(ignore)
  const admin = adminService({ storage, hasher, events, now, minPasswordLength: config.minPasswordLength, onRevoked: ignore })
  const sessions = sessionService({
    storage, now, events, onRevoked: ignore,
    policy: { maxPerUser: config.sessionMaxPerUser, refreshTokenExpiry: config.refreshTokenExpiry, sessionMaxAge: config.sessionMaxAge, refreshReuseInterval: config.refreshReuseInterval, refreshKey: PLACEHOLDERS.jwtRefreshSecret }
  })
  const passwordReset = passwordResetService({
    storage, hasher, sessions, mail: null, events, now,
    policy: { mode: 'unsafe', acceptLinks: true, expiryMs: config.resetPasswordExpiry, domainClient: config.domainClient, minPasswordLength: config.minPasswordLength, subjectOf: String }
  })
  // Ban and unban leave an audit line on stderr, as the server's event log would hold them.
  events.onAny((event, payload) => {
    if (event === 'ban.created' || event === 'ban.lifted') options.audit?.(JSON.stringify({ event, ...payload }))
  })
  const bans = (await openBanStore(fromEnv.banStore, storage, 'REDIS_URI')).store
  // A Redis store refuses commands until it is connected: wait for it (bounded), or fail here, clearly,
  // leaving nothing open behind.
  try {
    await bans.init?.()
  } catch (error) {
    await bans.close()
    if (options.storage === undefined) await storage.close()
    throw error
  }
  const moderation = moderationService({
    store: bans,
    config: { ...config.moderation, banCacheTtl: 0 },
    events,
    now,
    findUserByEmail: email => storage.users.findByEmail(email),
    endSessions: (userId, context) => admin.endSessions(userId, 'ban', context)
  })
  return { storage, moderation, bans, admin, passwordReset, linkBase, config, context: { ...noContext, userAgent: 'librechat-auth-cli' } }
}
