import { configError } from '../errors.ts'

/**
 * The one set of checks for option values given in code (the plugin's options, moderation options,
 * SMTP settings, injected parts). Each takes the value and the option's name, and throws
 * FST_LCAUTH_CONFIG_INVALID naming that option when the value is wrong.
 */

/** An own property of an options object: anything inherited (a poisoned prototype) is ignored. */
export function fieldOf (options: object, name: string): unknown {
  return Object.hasOwn(options, name) ? (options as Record<string, unknown>)[name] : undefined
}

export function optionalBoolean (value: unknown, name: string): boolean | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'boolean') throw configError(name, 'must be true or false')
  return value
}

export function boolean (value: unknown, name: string, fallback: boolean): boolean {
  return optionalBoolean(value, name) ?? fallback
}

/** A whole number from `min` to `max`; `fallback` when unset. */
export function integer (value: unknown, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(name, `must be an integer from ${min} to ${max}`)
  }
  return value
}

export function requiredInteger (value: unknown, name: string, min: number, max: number): number {
  if (value === undefined) throw configError(name, 'is required')
  return integer(value, name, 0, min, max)
}

/** A positive whole number of milliseconds, or unset. */
export function optionalPositiveMs (value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) throw configError(name, 'must be a positive whole number of milliseconds')
  return value
}

/** A non-blank string; `fallback` when unset. */
export function text (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || value.trim() === '') throw configError(name, 'must be a non-empty string')
  return value
}

/** A plain object (its own fields are read with `fieldOf`); `{}` when unset. */
export function objectOf (value: unknown, name: string): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw configError(name, 'must be an object')
  return value as Record<string, unknown>
}

/** Refuses keys that `known` does not have (a typo would otherwise be ignored silently). */
export function onlyKnownKeys (value: Record<string, unknown>, name: string, known: object, what: string): void {
  for (const key of Object.keys(value)) if (!Object.hasOwn(known, key)) throw configError(`${name}.${key}`, `is not a known ${what}`)
}

/** An absolute http(s) URL, kept with its path but without a trailing slash (links are built as `${url}/path`). */
export function httpUrl (value: unknown, name: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw configError(name, 'must be an absolute http(s) URL such as https://chat.example.com')
  const url = new URL(value)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError(name, 'must use http or https')
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '')
}

/** A route prefix such as `/api/auth`; `fallback` when unset. */
export function routePrefix (value: unknown, name: string, fallback: string): string {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) throw configError(name, 'must be a path such as /api/auth')
  return value
}
