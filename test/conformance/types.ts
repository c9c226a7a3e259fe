import { randomBytes } from 'node:crypto'
import type { Identity, NewOneTimeToken, NewSession, NewUser, OneTimeTokenPurpose, Rotation } from '../../lib/ports/storage.ts'

/**
 * The one thing a conformance suite needs from a test runner: register a named async case. A case
 * fails by rejecting (the suites assert with `node:assert/strict`), so any runner can drive them:
 * `(name, fn) => t.test(name, async () => { await fn() })` with tap, `(name, fn) => test(name, fn)` with node:test.
 */
export type TestFn = (name: string, fn: () => Promise<void>) => unknown

/** A fixed origin for every time the suites pass in: stores are given time, they never read a clock. */
export const T0 = new Date('2030-01-01T00:00:00.000Z')
export const SECOND = 1000
export const MINUTE = 60 * SECOND
export const HOUR = 60 * MINUTE
export const DAY = 24 * HOUR

/** `T0` plus `ms` milliseconds, as a fresh Date. */
export function at (ms: number): Date {
  return new Date(T0.getTime() + ms)
}

let counter = 0

/** A value no other call (in this process or another sharing the same database) returns. */
export function unique (prefix: string): string {
  counter += 1
  return `${prefix}-${randomBytes(6).toString('hex')}-${counter}`
}

/** A stand-in for a stored token hash (64 hex characters, like HMAC-SHA256). */
export function hash (): string {
  return randomBytes(32).toString('hex')
}

/** A canonical email address no other call returns. */
export function email (): string {
  return `${unique('user')}@example.test`
}

/** A local user with a unique email and no role (the store decides it); override anything. */
export function newUser (overrides: Partial<NewUser> = {}): NewUser {
  return {
    email: email(),
    name: 'Conformance User',
    username: null,
    provider: 'local',
    emailVerified: false,
    passwordHash: '$lcauth$bcrypt-sha256$not-a-real-hash',
    ...overrides
  }
}

/** A session of `userId` created at `T0`: sliding expiry in 7 days, absolute in 30. */
export function newSession (userId: string, overrides: Partial<NewSession> = {}): NewSession {
  return {
    id: randomBytes(16).toString('base64url'),
    userId,
    refreshTokenHash: hash(),
    createdAt: at(0),
    expiresAt: at(7 * DAY),
    absoluteExpiresAt: at(30 * DAY),
    userAgent: 'conformance-agent/1.0',
    ip: '203.0.113.7',
    ...overrides
  }
}

/** A rotation one minute after `T0` that slides the expiry to 7 days after it. */
export function rotation (overrides: Partial<Rotation> = {}): Rotation {
  const when = overrides.at ?? at(MINUTE)
  return {
    refreshTokenHash: hash(),
    at: when,
    expiresAt: new Date(when.getTime() + 7 * DAY),
    userAgent: 'conformance-agent/2.0',
    ip: '198.51.100.9',
    ...overrides
  }
}

/** A one-time token created at `T0` that expires 15 minutes later. */
export function newToken (purpose: OneTimeTokenPurpose, userId: string | null, overrides: Partial<NewOneTimeToken> = {}): NewOneTimeToken {
  return {
    purpose,
    tokenHash: hash(),
    userId,
    email: email(),
    createdAt: at(0),
    expiresAt: at(15 * MINUTE),
    ...overrides
  }
}

/** `n` calls of `fn` started together, so an adapter's atomicity is what decides the outcome. */
export function parallel<T> (n: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  return Promise.all(Array.from({ length: n }, (_, i) => fn(i)))
}

/** Sorted copy of a list of strings, to compare results whose order the port does not promise. */
export function sorted (values: readonly string[]): string[] {
  return [...values].sort()
}

/** A verified Google identity of `userId` with a unique subject, linked at `T0`. */
export function newIdentity (userId: string, overrides: Partial<Identity> = {}): Identity {
  return {
    provider: 'google',
    issuer: 'https://accounts.google.com',
    subject: unique('sub'),
    userId,
    email: email(),
    emailVerified: true,
    createdAt: at(0),
    ...overrides
  }
}
