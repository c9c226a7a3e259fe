import { mkdirSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { driverFailure, loadDriver } from '../../lib/adapters/load-driver.ts'
import { unbuiltBetterSqlite3 } from '../helpers/unbuilt-driver.ts'

// Every error here is a real one: Node's for a failed import() or require(), better-sqlite3's own for
// a missing or foreign native build. Nothing of ours is stubbed.
const require = createRequire(import.meta.url)
const failure = async (load: () => unknown): Promise<unknown> => {
  try {
    await load()
  } catch (error) {
    return error
  }
  throw new Error('expected the load to fail')
}

const NOT_INSTALLED = 'lcauth-not-installed-driver'
// A variable specifier: the type checker must not look for the package.
const importMissing = (): Promise<unknown> => import(NOT_INSTALLED)

/** `new Database(':memory:')` on a copy of better-sqlite3 whose native addon is missing or foreign. */
function sqliteAddonError (t: Test, addon: 'none' | 'foreign'): Promise<unknown> {
  const Database = require(unbuiltBetterSqlite3(t.testdir({}), addon)) as new (filename: string) => unknown
  return failure(() => new Database(':memory:'))
}

t.test('a package that is not installed is missing, through import() and require()', async t => {
  // Node's ERR_MODULE_NOT_FOUND; under tap's TypeScript loader (ts-node) the same error arrives without its code.
  const esm = await failure(importMissing)
  t.match(esm, { message: `Cannot find package '${NOT_INSTALLED}' imported from` })
  t.equal(driverFailure(esm, NOT_INSTALLED), 'missing')
  const cjs = await failure(() => require(NOT_INSTALLED))
  t.match(cjs, { code: 'MODULE_NOT_FOUND' })
  t.equal(driverFailure(cjs, NOT_INSTALLED), 'missing')
  t.equal(driverFailure(await failure(() => require(`${NOT_INSTALLED}/lib/index.js`)), NOT_INSTALLED), 'missing', 'a subpath of it too')
})

t.test('an installed driver missing a module of its own (a broken install) is missing', async t => {
  const dir = t.testdir({})
  const pkg = join(dir, 'node_modules', NOT_INSTALLED)
  mkdirSync(pkg, { recursive: true })
  writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: NOT_INSTALLED, main: 'index.js' }))
  writeFileSync(join(pkg, 'index.js'), "require('lcauth-its-lost-dependency')\n")
  const error = await failure(() => createRequire(join(dir, 'app.js'))(NOT_INSTALLED))
  t.match(error, { message: /Cannot find module 'lcauth-its-lost-dependency'/ })
  t.equal(driverFailure(error, NOT_INSTALLED), 'missing')
})

t.test('better-sqlite3 without its native build, or with one for another platform, is unloadable', async t => {
  const unbuilt = await sqliteAddonError(t, 'none')
  t.match(unbuilt, { message: /^Could not locate the bindings file/ })
  t.equal(driverFailure(unbuilt, 'better-sqlite3'), 'unloadable')
  const foreign = await sqliteAddonError(t, 'foreign')
  t.match(foreign, { code: 'ERR_DLOPEN_FAILED' })
  t.equal(driverFailure(foreign, 'better-sqlite3'), 'unloadable')
  t.equal(driverFailure(foreign, 'pg'), null, 'another driver\'s addon is not this one\'s')
})

t.test('anything else is not a driver failure', async t => {
  t.equal(driverFailure(await failure(importMissing), 'pg'), null, 'another package missing')
  t.equal(driverFailure(await failure(() => import(new URL('./no-such-adapter.ts', import.meta.url).href)), 'pg'), null, 'a file of ours missing')
  t.equal(driverFailure(await failure(() => require(NOT_INSTALLED)), 'lcauth-not'), null, 'a name that is only a prefix')
  t.equal(driverFailure(new TypeError("Cannot read properties of undefined (reading 'Pool')"), 'pg'), null)
  t.equal(driverFailure('Cannot find package \'pg\'', 'pg'), null, 'not an object')
  t.equal(driverFailure(null, 'pg'), null)
  t.equal(driverFailure({ code: 'ERR_MODULE_NOT_FOUND' }, 'pg'), null, 'no message')
})

t.test('loadDriver: what loads is returned; a missing driver is a configuration error naming the option and the package', async t => {
  t.equal(await loadDriver('pg', 'storage.url', async () => 'storage'), 'storage')
  const error = await failure(() => loadDriver(NOT_INSTALLED, 'storage.url', importMissing))
  t.match(error, {
    code: 'FST_LCAUTH_CONFIG_INVALID',
    statusCode: 500,
    message: `Invalid librechat-auth configuration: storage.url needs the ${NOT_INSTALLED} package: npm install ${NOT_INSTALLED}`
  })
  t.match((error as Error).cause, { message: `Cannot find package '${NOT_INSTALLED}'` }, 'the original error is the cause')
  const cause = await failure(() => require(NOT_INSTALLED))
  t.equal((await failure(() => loadDriver(NOT_INSTALLED, 'REDIS_URI', async () => { throw cause })) as Error).cause, cause)
})

t.test('loadDriver: an unloadable native driver says to rebuild it', async t => {
  const cause = await sqliteAddonError(t, 'none')
  const error = await failure(() => loadDriver('better-sqlite3', 'DATABASE_URL', async () => { throw cause }))
  t.match(error, { code: 'FST_LCAUTH_CONFIG_INVALID', message: /DATABASE_URL needs the better-sqlite3 package, whose native addon did not load .*: npm rebuild better-sqlite3$/ })
  t.equal((error as Error).cause, cause)
})

t.test('loadDriver: any other error propagates unchanged', async t => {
  const other = await failure(importMissing)
  t.equal(await failure(() => loadDriver('pg', 'storage.url', async () => { throw other })), other)
  const plain = new Error('connection refused')
  t.equal(await failure(() => loadDriver('pg', 'storage.url', async () => { throw plain })), plain)
})
