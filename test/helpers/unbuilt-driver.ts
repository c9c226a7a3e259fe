import { cpSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const installed = new URL('../../node_modules/', import.meta.url).pathname

/**
 * A copy of the installed better-sqlite3 under `dir`/node_modules without its native build, as npm
 * leaves it when its install script did not run (`addon: 'none'`: "Could not locate the bindings file"),
 * or with an addon file that is not one for this platform (`addon: 'foreign'`: ERR_DLOPEN_FAILED).
 * Returns the package's directory; requiring it is the real better-sqlite3 JavaScript.
 */
export function unbuiltBetterSqlite3 (dir: string, addon: 'none' | 'foreign'): string {
  const copy = join(dir, 'node_modules', 'better-sqlite3')
  mkdirSync(copy, { recursive: true })
  cpSync(join(installed, 'better-sqlite3', 'package.json'), join(copy, 'package.json'))
  cpSync(join(installed, 'better-sqlite3', 'lib'), join(copy, 'lib'), { recursive: true })
  // Its one dependency, as installed (require() looks for it next to the copy).
  symlinkSync(join(installed, 'bindings'), join(dir, 'node_modules', 'bindings'))
  if (addon === 'foreign') {
    mkdirSync(join(copy, 'build', 'Release'), { recursive: true })
    writeFileSync(join(copy, 'build', 'Release', 'better_sqlite3.node'), 'not a shared library')
  }
  return copy
}
