import { parseDuration } from '../duration.ts'
import { configError } from '../errors.ts'
import type { EnvVariable } from './variables.ts'

/** The environment as `process.env` or @fastify/env hands it over: strings, some unset. */
export type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads a variable; an empty or blank one (`VAR=`, common in LibreChat's .env) counts as unset.
 * `trim: false` keeps a value's own spaces (passwords).
 */
export function read (env: Env, name: EnvVariable, options: { trim?: boolean } = {}): string | undefined {
  const value = Object.hasOwn(env, name) ? env[name] : undefined
  if (value === undefined || value.trim() === '') return undefined
  return options.trim === false ? value : value.trim()
}

/** `true` or `false`, any case. */
export function bool (env: Env, name: EnvVariable): boolean | undefined {
  const value = read(env, name)?.toLowerCase()
  if (value === undefined) return undefined
  if (value === 'true') return true
  if (value === 'false') return false
  throw configError(name, 'must be true or false')
}

/** Milliseconds from an integer in `unitMs`, LibreChat's arithmetic form, or a suffixed form (`15m`). */
export function duration (env: Env, name: EnvVariable, unitMs: number): number | undefined {
  const value = read(env, name)
  if (value === undefined) return undefined
  const ms = parseDuration(value, unitMs)
  if (ms === null) throw configError(name, 'must be a duration such as 900000, 1000 * 60 * 15 or 15m')
  return ms
}

/** A whole number; its range is checked where the option is resolved. */
export function integer (env: Env, name: EnvVariable): number | undefined {
  const value = read(env, name)
  if (value === undefined) return undefined
  if (!/^\d{1,9}$/.test(value)) throw configError(name, 'must be a whole number')
  return Number(value)
}

/** Sets a field of `target` only when the value is defined: unset variables leave the defaults alone. */
export function setterOf<T extends object> (target: T): <K extends keyof T>(key: K, value: T[K] | undefined) => void {
  return (key, value) => {
    if (value !== undefined) target[key] = value
  }
}
