/** The API's error codes in words for people. Codes not listed here show the API's own message, which is written for users. */
import { ApiError } from './api.ts'

const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`

/** "Try again in 5 minutes." from a Retry-After in seconds; seconds under a minute unless `minutesOnly`. */
export function tryAgainIn (seconds: number | null, minutesOnly = false): string {
  if (seconds === null) return 'Try again later.'
  if (!minutesOnly && seconds < 60) return `Try again in ${plural(Math.max(1, Math.ceil(seconds)), 'second')}.`
  return `Try again in ${plural(Math.max(1, Math.ceil(seconds / 60)), 'minute')}.`
}

export function describe (error: unknown): string {
  if (!(error instanceof ApiError)) return 'Something went wrong. Please try again.'
  switch (error.code) {
    case 'FST_LCAUTH_BANNED': return `Access is temporarily suspended. ${tryAgainIn(error.retryAfter, true)}`
    case 'FST_LCAUTH_RATE_LIMITED': return `Too many attempts. ${tryAgainIn(error.retryAfter)}`
    case 'FST_LCAUTH_BUSY': return `The server is busy. ${tryAgainIn(error.retryAfter)}`
    case 'FST_LCAUTH_REGISTRATION_DISABLED': return 'Registration is closed.'
    case 'FST_LCAUTH_INVALID_CREDENTIALS': return 'Email or password is incorrect.'
    default: return error.message
  }
}
