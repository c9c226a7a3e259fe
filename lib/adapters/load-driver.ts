import { configError } from '../errors.ts'

/** Why a driver could not be used: not installed, or installed but its native addon did not load. */
export type DriverFailure = 'missing' | 'unloadable'

/**
 * Runs `load` (an adapter's `import()` and construction) for an option that needs `driver`, an
 * optional peer dependency. When the driver is not installed or does not load, that becomes
 * FST_LCAUTH_CONFIG_INVALID naming the option and the package to install, with the original error as
 * `cause`; any other error propagates unchanged.
 */
export async function loadDriver<T> (driver: string, option: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load()
  } catch (error) {
    const failure = driverFailure(error, driver)
    if (failure === null) throw error
    const refusal = configError(option, failure === 'missing'
      ? `needs the ${driver} package: npm install ${driver}`
      : `needs the ${driver} package, whose native addon did not load (not built, or built for another Node.js version or platform): npm rebuild ${driver}`)
    refusal.cause = error
    throw refusal
  }
}

/**
 * What `error` says about `driver`: `missing` when a module of it was not found (the package, a file
 * in it, or a module it requires: a broken install), `unloadable` when its native addon failed to load
 * (better-sqlite3 installed without its build step, or built for another Node.js), else null.
 */
export function driverFailure (error: unknown, driver: string): DriverFailure | null {
  if (typeof error !== 'object' || error === null) return null
  const { code, message } = error as { code?: unknown, message?: unknown }
  if (typeof message !== 'string') return null
  const name = driver.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const inside = new RegExp(`node_modules[\\\\/]${name}[\\\\/]`).test(message)
  // Some loaders (ts-node's) rethrow Node's resolution error without its code: its message still says it.
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || message.startsWith('Cannot find package \'')) {
    return inside || new RegExp(`Cannot find (?:package|module) '${name}(?:/[^']*)?'`).test(message) ? 'missing' : null
  }
  const addonFailed = code === 'ERR_DLOPEN_FAILED' || message.startsWith('Could not locate the bindings file')
  return addonFailed && inside ? 'unloadable' : null
}
