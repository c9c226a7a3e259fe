import type { TrustProxy } from '../moderation/client-address.ts'
import type { LimitSetting, ModerationOptions } from '../moderation/config.ts'
import { FALLBACK, LIMITERS, type LimiterName, SCORES, type ViolationType } from '../moderation/limits.ts'
import { bool, duration, type Env, integer, read, setterOf } from './read.ts'
import type { EnvVariable } from './variables.ts'

const MS = 1
const MINUTE = 60_000

/** LibreChat's moderation variables; undefined when none is set. */
export function moderationFromEnv (env: Env): ModerationOptions | undefined {
  const out: ModerationOptions = {}
  const put = setterOf(out)
  put('banViolations', bool(env, 'BAN_VIOLATIONS'))
  // LibreChat's soft ban is any BAN_DURATION ≤ 0, negative values included.
  put('banDuration', read(env, 'BAN_DURATION')?.startsWith('-') === true ? 0 : duration(env, 'BAN_DURATION', MS))
  put('banInterval', integer(env, 'BAN_INTERVAL'))
  put('violationTtl', duration(env, 'VIOLATION_TTL', MS))
  put('dryRun', bool(env, 'MODERATION_DRY_RUN'))
  put('limitMessageIp', bool(env, 'LIMIT_MESSAGE_IP'))
  put('limitMessageUser', bool(env, 'LIMIT_MESSAGE_USER'))
  put('limitConcurrentMessages', bool(env, 'LIMIT_CONCURRENT_MESSAGES'))
  put('concurrentMessageMax', integer(env, 'CONCURRENT_MESSAGE_MAX'))

  const limits: Partial<Record<LimiterName, LimitSetting>> = {}
  for (const [name, spec] of Object.entries(LIMITERS) as Array<[LimiterName, (typeof LIMITERS)[LimiterName]]>) {
    const maxName = `${spec.env}_MAX` as EnvVariable
    const windowName = `${spec.env}_WINDOW` as EnvVariable
    const max = integer(env, maxName)
    const windowMs = duration(env, windowName, MINUTE)
    if (max === undefined && windowMs === undefined) continue
    // Half of a pair falls back to the limiter's default (or, for a submission limiter, its request limiter's).
    const fallback = LIMITERS[FALLBACK[name] ?? name]
    limits[name] = {
      max: max ?? spec.max ?? fallback.max as number,
      windowMs: windowMs ?? (spec.windowMinutes ?? fallback.windowMinutes as number) * MINUTE
    }
  }
  if (Object.keys(limits).length > 0) out.limits = limits

  const scores: Partial<Record<ViolationType, number>> = {}
  for (const [type, spec] of Object.entries(SCORES) as Array<[ViolationType, (typeof SCORES)[ViolationType]]>) {
    const score = integer(env, spec.env as EnvVariable)
    if (score !== undefined) scores[type] = score
  }
  if (Object.keys(scores).length > 0) out.scores = scores
  return Object.keys(out).length > 0 ? out : undefined
}

/** `TRUST_PROXY`: a comma-separated list of addresses and ranges; LibreChat's hop count (`1`) and `true` are read as such. */
export function trustProxyFromEnv (env: Env): TrustProxy | undefined {
  const value = read(env, 'TRUST_PROXY')
  if (value === undefined) return undefined
  if (value.toLowerCase() === 'true') return true
  if (value.toLowerCase() === 'false') return false
  if (/^\d{1,3}$/.test(value)) return Number(value)
  return value.split(',').map(entry => entry.trim()).filter(entry => entry !== '')
}
