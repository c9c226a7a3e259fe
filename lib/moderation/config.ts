import { boolean, fieldOf, integer, objectOf, onlyKnownKeys, requiredInteger } from '../options/validate.ts'
import { FALLBACK, LIMITERS, type LimiterName, SCORES, type ViolationType } from './limits.ts'

export interface LimitSetting {
  /** Requests allowed per window. */
  max: number
  windowMs: number
}

/** The moderation options (`fastify.register(authPlugin, { moderation: { ... } })`); LibreChat's variables map onto them. */
export interface ModerationOptions {
  /** `BAN_VIOLATIONS`, default true: bans are created and enforced. Scores are kept either way. */
  banViolations?: boolean
  /** `BAN_DURATION`, ms, default 2 hours. 0 is LibreChat's soft ban: sessions end, nothing is recorded. */
  banDuration?: number
  /** `BAN_INTERVAL`, default 20: a ban each time a score crosses a multiple of it. */
  banInterval?: number
  /** `VIOLATION_TTL`, ms, default 24 hours: a score is forgotten this long after its last violation. */
  violationTtl?: number
  /** `MODERATION_DRY_RUN`, default false: record and emit what would be limited or banned, block nobody. */
  dryRun?: boolean
  /** Per-limiter `{ max, windowMs }` (`<PREFIX>_MAX`, `<PREFIX>_WINDOW`). */
  limits?: Partial<Record<LimiterName, LimitSetting>>
  /** Points per violation type (`*_VIOLATION_SCORE`). */
  scores?: Partial<Record<ViolationType, number>>
  /** `LIMIT_MESSAGE_IP`, default false: the per-IP message limiter on routes that opt into `message`. */
  limitMessageIp?: boolean
  /** `LIMIT_MESSAGE_USER`, default false: the per-user message limiter on routes that opt into `message`. */
  limitMessageUser?: boolean
  /** `LIMIT_CONCURRENT_MESSAGES`, default false: the in-flight limit on routes that opt into `concurrent`. */
  limitConcurrentMessages?: boolean
  /** `CONCURRENT_MESSAGE_MAX`, default 2 in-flight requests per user. */
  concurrentMessageMax?: number
  /** An in-flight request not released by then no longer counts, ms; default 60 s. */
  concurrentTtl?: number
  /** How long a ban lookup is reused locally, ms; default 1000. With a store that pushes changes (Redis), changes cut it short. */
  banCacheTtl?: number
}

export interface ModerationConfig {
  banViolations: boolean
  banDuration: number
  banInterval: number
  violationTtl: number
  dryRun: boolean
  limits: Record<LimiterName, LimitSetting>
  scores: Record<ViolationType, number>
  limitMessageIp: boolean
  limitMessageUser: boolean
  limitConcurrentMessages: boolean
  concurrentMessageMax: number
  concurrentTtl: number
  banCacheTtl: number
}

const MINUTE = 60_000
const DAY = 1440 * MINUTE

/** Validates the moderation options and applies LibreChat's defaults; errors name the option. */
export function resolveModeration (value: unknown): ModerationConfig {
  const options = objectOf(value, 'moderation')
  const get = (name: string): unknown => fieldOf(options, name)
  const bool = (name: string, fallback: boolean): boolean => boolean(get(name), `moderation.${name}`, fallback)
  const int = (name: string, fallback: number, min: number, max: number): number => integer(get(name), `moderation.${name}`, fallback, min, max)

  return {
    banViolations: bool('banViolations', true),
    banDuration: int('banDuration', 2 * 60 * MINUTE, 0, 365 * DAY),
    banInterval: int('banInterval', 20, 1, 1_000_000),
    violationTtl: int('violationTtl', DAY, 1000, 365 * DAY),
    dryRun: bool('dryRun', false),
    limits: limits(get('limits')),
    scores: scores(get('scores')),
    limitMessageIp: bool('limitMessageIp', false),
    limitMessageUser: bool('limitMessageUser', false),
    limitConcurrentMessages: bool('limitConcurrentMessages', false),
    concurrentMessageMax: int('concurrentMessageMax', 2, 1, 10_000),
    concurrentTtl: int('concurrentTtl', MINUTE, 1000, DAY),
    banCacheTtl: int('banCacheTtl', 1000, 0, MINUTE)
  }
}

function limits (value: unknown): Record<LimiterName, LimitSetting> {
  const given = objectOf(value, 'moderation.limits')
  onlyKnownKeys(given, 'moderation.limits', LIMITERS, 'limiter')
  const setting = (name: LimiterName): LimitSetting | undefined => {
    const v = fieldOf(given, name)
    if (v === undefined) return undefined
    const option = `moderation.limits.${name}`
    const limit = objectOf(v, option)
    return {
      max: requiredInteger(fieldOf(limit, 'max'), `${option}.max`, 1, 1_000_000_000),
      windowMs: requiredInteger(fieldOf(limit, 'windowMs'), `${option}.windowMs`, 1000, 30 * DAY)
    }
  }
  const out = {} as Record<LimiterName, LimitSetting>
  for (const name of Object.keys(LIMITERS) as LimiterName[]) {
    const fallback = FALLBACK[name]
    const own = LIMITERS[name]
    out[name] = setting(name) ??
      (fallback !== undefined ? setting(fallback) : undefined) ??
      defaults(own.max ?? LIMITERS[fallback as LimiterName].max as number, own.windowMinutes ?? LIMITERS[fallback as LimiterName].windowMinutes as number)
  }
  return out
}

function defaults (max: number, windowMinutes: number): LimitSetting {
  return { max, windowMs: windowMinutes * MINUTE }
}

function scores (value: unknown): Record<ViolationType, number> {
  const given = objectOf(value, 'moderation.scores')
  onlyKnownKeys(given, 'moderation.scores', SCORES, 'violation type')
  const out = {} as Record<ViolationType, number>
  for (const type of Object.keys(SCORES) as ViolationType[]) {
    out[type] = integer(fieldOf(given, type), `moderation.scores.${type}`, SCORES[type].score, 0, 1_000_000)
  }
  return out
}
