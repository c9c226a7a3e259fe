import './plugins/fastify-augment.ts'
import { lcauthPlugin } from './plugins/auth.ts'

/** The package face: `fastify.register(authPlugin, { ...optionsFromEnv(process.env), storage })`. */
export default lcauthPlugin
export { lcauthPlugin as authPlugin }

export { optionsFromEnv, envSchema, envVariables, type Env, type EnvVariable } from './lib/env.ts'
export { type AuthOptions, type AuthConfig, type StorageDescriptor, SAMPLE_SECRETS } from './lib/options.ts'
export { errors, errorCodes, type ErrorCode } from './lib/errors.ts'
export { parseDuration } from './lib/duration.ts'
export { canonicalEmail } from './lib/accounts/email.ts'
export { passwordProblem } from './lib/passwords/policy.ts'
export { bcryptHasher, type PasswordHasher } from './lib/passwords/hasher.ts'
export { AuthEventEmitter, type AuthEvents, type AuthEventName, type EventContext, type LoginFailureReason } from './lib/events.ts'
export type { PublicUser } from './lib/accounts/public-user.ts'
export type { AccessClaims } from './lib/sessions/access-token.ts'
export type { AccountService, Credentials, RegistrationInput, PasswordChange } from './lib/accounts/account-service.ts'
export type { AdminService, NewUserByOperator } from './lib/accounts/admin-service.ts'
export type { SessionService, RefreshOutcome, IssuedSession } from './lib/sessions/session-service.ts'
export type * from './lib/ports/storage.ts'
export { RETIRED_HASHES_KEPT } from './lib/ports/storage.ts'
export type * from './lib/ports/ban-store.ts'
export type * from './lib/ports/mailer.ts'
export { memoryStorage } from './lib/adapters/memory/storage.ts'
export { openStorage, DEFAULT_DATABASE_URL } from './lib/adapters/open-storage.ts'
export { memoryBanStore } from './lib/adapters/memory/ban-store.ts'
export { memoryMailer, type MemoryMailer } from './lib/adapters/memory/mailer.ts'
export type { AuthUser, AuthHook, LcAuth } from './plugins/types.ts'
