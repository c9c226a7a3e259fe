import { configError } from '../errors.ts'

/**
 * The methods each injectable part must have, by dotted path. Checked at registration, so a part that
 * does not fit its port fails there with the option's name, never later as a TypeError in a request
 * or an unhandled rejection.
 */
const PORTS = {
  storage: [
    'init', 'close',
    'users.create', 'users.findById', 'users.findByEmail', 'users.list', 'users.update', 'users.delete',
    'identities.create', 'identities.find', 'identities.listByUser', 'identities.update', 'identities.delete', 'identities.deleteUnverifiedForUser',
    'sessions.create', 'sessions.findById', 'sessions.rotate', 'sessions.revoke', 'sessions.revokeAllForUser',
    'sessions.listLiveByUser', 'sessions.listRevokedSince', 'sessions.purge',
    'oneTimeTokens.create', 'oneTimeTokens.consume', 'oneTimeTokens.deleteForUser', 'oneTimeTokens.purge'
  ],
  banStore: ['find', 'put', 'lift', 'list', 'addViolation', 'hit', 'peek', 'acquire', 'release', 'purge', 'close'],
  mailer: ['send', 'close'],
  hasher: ['hash', 'verify', 'needsRehash']
} as const

export type Port = keyof typeof PORTS

/** Methods a port may have; when present they must be functions. */
const OPTIONAL: Record<Port, readonly string[]> = {
  storage: ['banStore'],
  banStore: ['watch', 'init'],
  mailer: ['verify'],
  hasher: []
}

/** Throws FST_LCAUTH_CONFIG_INVALID naming `option` and the first missing method, unless `value` has every method of `port`. */
export function checkPort (value: unknown, port: Port, option: string = port): void {
  if (typeof value !== 'object' || value === null) throw configError(option, `must be an object implementing the ${port} interface`)
  for (const path of PORTS[port]) {
    if (typeof methodAt(value, path) !== 'function') throw configError(option, `is missing ${path}() of the ${port} interface`)
  }
  for (const path of OPTIONAL[port]) {
    const method = methodAt(value, path)
    if (method !== undefined && typeof method !== 'function') throw configError(option, `has a ${path} that is not a function`)
  }
  if (port === 'storage' || port === 'banStore') {
    if (typeof (value as { kind?: unknown }).kind !== 'string') throw configError(option, `is missing kind (a short name such as "memory") of the ${port} interface`)
  }
}

/** A function, or unset. */
export function checkFunction (value: unknown, option: string): void {
  if (value !== undefined && typeof value !== 'function') throw configError(option, 'must be a function')
}

function methodAt (value: object, path: string): unknown {
  let at: unknown = value
  for (const key of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined
    at = (at as Record<string, unknown>)[key]
  }
  return at
}
