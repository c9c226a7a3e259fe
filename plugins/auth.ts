import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { accountService } from '../lib/accounts/account-service.ts'
import { publicUser } from '../lib/accounts/public-user.ts'
import { adminService } from '../lib/accounts/admin-service.ts'
import { emailVerificationService } from '../lib/accounts/email-verification.ts'
import { passwordResetService, type ResetMode } from '../lib/accounts/password-reset.ts'
import { subjectHasher } from '../lib/accounts/subject.ts'
import type { SmtpMailerOptions } from '../lib/adapters/nodemailer/options.ts'
import { mailService } from '../lib/mail/mail-service.ts'
import type { Mailer } from '../lib/ports/mailer.ts'
import { memoryStorage } from '../lib/adapters/memory/storage.ts'
import { openStorage } from '../lib/adapters/open-storage.ts'
import { purgeSchedule } from '../lib/sessions/purge.ts'
import { type Clock, systemClock } from '../lib/clock.ts'
import { noContext } from '../lib/context.ts'
import { openBanStore } from '../lib/adapters/open-ban-store.ts'
import { addressKey, proxyTrust } from '../lib/moderation/client-address.ts'
import { loginThrottle } from '../lib/moderation/login-throttle.ts'
import { moderationService } from '../lib/moderation/moderation-service.ts'
import { resilientBanStore } from '../lib/moderation/resilient-store.ts'
import type { BanStore } from '../lib/ports/ban-store.ts'
import { bearerToken } from './http/bearer.ts'
import { hostModeration } from './host-moderation.ts'
import type { ModerationDeps } from './http/moderation-guard.ts'
import { moderationFacade } from './moderation.ts'
import { deriveKey } from '../lib/crypto/keys.ts'
import { AuthEventEmitter } from '../lib/events.ts'
import { type AuthOptions, resolveOptions, type StorageDescriptor } from '../lib/options.ts'
import type { Storage } from '../lib/ports/storage.ts'
import { boundedHasher } from '../lib/passwords/bounded-hasher.ts'
import { bcryptHasher } from '../lib/passwords/hasher.ts'
import { accessTokenClaims, accessTokenVerifier } from '../lib/sessions/access-token.ts'
import { revocationMirror } from '../lib/sessions/revocation-mirror.ts'
import { sessionService } from '../lib/sessions/session-service.ts'
import { authenticators } from './http/authenticate.ts'
import { crossSiteGuard } from './http/cross-site.ts'
import { refreshCookie } from './http/refresh-cookie.ts'
import { authScope } from './scope.ts'
import type { LcAuth } from './types.ts'

async function authPlugin (fastify: FastifyInstance, options: AuthOptions): Promise<void> {
  // The one place the plugin looks at the environment: the default of the `production` option.
  // eslint-disable-next-line no-restricted-syntax
  const { config, warnings } = resolveOptions(options, process.env.NODE_ENV === 'production')
  const now = options.now ?? systemClock
  const subjectOf = subjectHasher(deriveKey(config.jwtRefreshSecret, 'event identifiers'))
  // A storage the host passed in is the host's to close; one the plugin opened (default or by URL) is ours.
  const given = options.storage
  const storage = given === undefined ? memoryStorage() : isDescriptor(given) ? await openStorage(given.url, { migrate: given.migrate ?? true, option: 'storage.url' }) : given
  const ownsStorage = given === undefined || isDescriptor(given)
  await storage.init()
  if (storage.kind === 'memory') warnings.push('storage is in memory: every account and session is lost when the process ends')
  const events = new AuthEventEmitter((err, event) => fastify.log.error({ err, event }, 'librechat-auth event listener failed'))
  const bans = await openModerationStore(fastify, options, storage, events, now)
  if (bans.store.kind === 'memory' && config.production) warnings.push('bans and limits are kept in memory: they reset on restart and are not shared between instances')
  for (const warning of warnings) fastify.log.warn({ event: 'lcauth.config_warning' }, warning)
  const trust = proxyTrust(config.trustProxy)
  // Worked out once per request, on first use, with the key limits and bans count it under.
  fastify.decorateRequest('lcauthClient', null)
  fastify.decorateRequest('lcauthIp', {
    getter (this: FastifyRequest): string {
      if (this.lcauthClient === null) {
        const ip = trust.clientOf(this.raw.socket?.remoteAddress, this.headers['x-forwarded-for'])
        this.lcauthClient = { ip, key: addressKey(ip) }
      }
      return this.lcauthClient.ip
    }
  })
  const hasher = boundedHasher(options.hasher ?? bcryptHasher({ rounds: config.bcryptRounds }), {
    concurrency: config.hashConcurrency,
    maxWaitMs: config.hashMaxWait
  })
  const mirror = revocationMirror({
    sessions: storage.sessions,
    now,
    retentionMs: config.sessionExpiry,
    pollIntervalMs: config.revocationPollInterval,
    onPollError: err => fastify.log.warn({ err, event: 'lcauth.revocation_poll_failed' }, 'could not read revocations from storage')
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
  // A Mailer the host passed in is the host's to close; one built from SMTP settings is ours.
  const mailer = options.mailer === undefined ? null : isMailer(options.mailer) ? options.mailer : (await import('../lib/adapters/nodemailer/index.ts')).smtpMailer(options.mailer)
  const mail = mailer === null ? null : mailService({ mailer, appTitle: config.appTitle, templates: options.mailTemplates ?? {}, perRecipient: config.mailPerRecipient, now, log: fastify.log })
  const verification = mail === null ? null : emailVerificationService({ storage, mail, events, now, policy: { expiryMs: config.emailVerificationExpiry, domainClient: config.domainClient, subjectOf } })
  const resetMode: ResetMode = !config.allowPasswordReset ? 'disabled' : mail !== null ? 'mail' : config.allowUnsafePasswordReset ? 'unsafe' : 'disabled'
  const passwordReset = passwordResetService({
    storage, hasher, sessions, mail, events, now,
    policy: { mode: resetMode, acceptLinks: config.allowPasswordReset, expiryMs: config.resetPasswordExpiry, domainClient: config.domainClient, minPasswordLength: config.minPasswordLength, subjectOf }
  })
  const admin = adminService({ storage, hasher, events, now, minPasswordLength: config.minPasswordLength, onRevoked: mirror.add })
  const moderation = moderationService({
    store: bans.store,
    config: config.moderation,
    events,
    now,
    findUserByEmail: email => storage.users.findByEmail(email),
    endSessions: (userId, context) => admin.endSessions(userId, 'ban', context)
  })
  const accounts = accountService({
    storage,
    hasher,
    sessions,
    admin,
    mail,
    verification,
    events,
    now,
    throttle: loginThrottle({ store: bans.store, limit: config.moderation.limits.loginAccount, dryRun: config.moderation.dryRun, events, now, subjectOf }),
    userBan: moderation.userBan,
    policy: {
      requireVerifiedEmail: mail !== null && !config.allowUnverifiedEmailLogin,
      domainClient: config.domainClient,
      allowRegistration: config.allowRegistration,
      allowAccountDeletion: config.allowAccountDeletion,
      allowEmailLogin: config.allowEmailLogin,
      allowedEmailDomains: config.allowedEmailDomains,
      minPasswordLength: config.minPasswordLength,
      subjectOf
    }
  })
  const verifyAccess = accessTokenVerifier({ secret: config.jwtSecret, issuer: config.domainServer, now })
  const { authenticate, requireRole } = authenticators({ verifyAccess, isRevoked: mirror.isRevoked, events, now })

  const { jwtSecret: _jwt, jwtRefreshSecret: _refresh, ...publicConfig } = config
  const moderationApi = moderationFacade(moderation)
  const lcauth: LcAuth = { authenticate, requireRole, accounts, sessions, admin, passwordReset, emailVerification: verification, mail, events, storage, moderation: moderationApi, config: Object.freeze(publicConfig) }
  fastify.decorate('lcauth', lcauth)
  fastify.decorateRequest('authUser', null)

  const moderationDeps: ModerationDeps = {
    moderation,
    config: config.moderation,
    store: bans.store,
    events,
    now,
    // The guards run before authentication (onRequest), so they read the bearer themselves.
    userOf: request => {
      const token = bearerToken(request)
      const verified = token === null ? null : verifyAccess(token)
      return verified === null || verified.expired || mirror.isRevoked(verified.claims.sid) ? null : verified.claims.sub
    }
  }
  const cookie = refreshCookie(config.sessionCookieSecure)
  const extraClaims = options.accessTokenClaims
  await fastify.register(authScope, {
    deps: {
      config,
      storage,
      mailer,
      passwordReset,
      verification,
      accounts,
      sessions,
      now,
      cookie,
      authenticate,
      verifyAccess,
      sameSite: crossSiteGuard([config.domainClient, config.domainServer]),
      moderation: moderationDeps,
      // Host routes declared after the plugin opt into moderation through this hook on the host's instance.
      onGuards: guards => { hostModeration(fastify, { ...moderationDeps, guards, authenticate }) }
    },
    issue: sign => async (reply, issued) => {
      const at = now()
      const claims = accessTokenClaims(issued.user, issued.session.id, config.domainServer, at.getTime(), config.sessionExpiry, extraClaims ? extraClaims(issued.user) : {})
      const expiresAt = issued.session.expiresAt < issued.session.absoluteExpiresAt ? issued.session.expiresAt : issued.session.absoluteExpiresAt
      cookie.set(reply, issued.refreshToken, expiresAt, at)
      return { token: sign(claims), user: publicUser(issued.user) }
    }
  })

  // The mirror must hold recent revocations before the first request is served. The mail server is
  // only checked, never waited for: an unreachable one is a warning, not a failed start.
  fastify.addHook('onReady', async () => {
    await mirror.start()
    if (mailer?.verify !== undefined) {
      mailer.verify().catch((err: unknown) => fastify.log.warn({ err, event: 'lcauth.mailer_unreachable' }, 'the mail server could not be reached; mails will fail until it can'))
    }
  })
  const purge = purgeSchedule({ storage, bans: bans.store, now, intervalMs: config.purgeInterval, keepRevokedMs: config.sessionExpiry, log: fastify.log })
  fastify.addHook('onClose', async () => {
    mirror.stop()
    purge.stop()
    moderation.stop()
    if (bans.owned) await bans.store.close()
    await mail?.idle()
    if (mailer !== null && !isMailer(options.mailer as Mailer | SmtpMailerOptions)) await mailer.close()
    if (ownsStorage) await storage.close()
  })
}

/** The ban store, with a memory fallback in front of a shared one, checked (not waited for) at start. */
async function openModerationStore (fastify: FastifyInstance, options: AuthOptions, storage: Storage, events: AuthEventEmitter, now: Clock): Promise<{ store: BanStore, owned: boolean }> {
  const opened = await openBanStore(options.banStore, storage)
  if (opened.store.kind === 'memory') return opened
  const context = { ...noContext, at: now() }
  const store = resilientBanStore(opened.store, {
    now,
    retryMs: 1000,
    onDown: error => {
      fastify.log.warn({ err: error, event: 'lcauth.moderation_store_unavailable' }, 'the moderation store failed: limits and bans run from this instance\'s memory until it is back')
      events.emit('moderation.store_unavailable', { ...context, at: now(), store: opened.store.kind, error: String(error) })
    },
    onUp: () => {
      fastify.log.info({ event: 'lcauth.moderation_store_recovered' }, 'the moderation store is back')
      events.emit('moderation.store_recovered', { ...context, at: now(), store: opened.store.kind })
    }
  })
  // Checked when the app gets ready, once the host listens to events: a failure is reported through
  // onDown, and starting on the fallback is better than not starting.
  fastify.addHook('onReady', async () => { await store.init?.().catch(() => {}) })
  return { store, owned: opened.owned }
}

function isMailer (mailer: Mailer | SmtpMailerOptions): mailer is Mailer {
  return typeof (mailer as Mailer).send === 'function'
}

function isDescriptor (storage: Storage | StorageDescriptor): storage is StorageDescriptor {
  return typeof (storage as StorageDescriptor).url === 'string'
}

/** The root plugin: `fastify.register(authPlugin, options)`. */
export const lcauthPlugin: FastifyPluginAsync<AuthOptions> = fp(authPlugin, { name: 'librechat-auth', fastify: '5.x' })
