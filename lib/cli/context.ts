import { existsSync } from 'node:fs'
import { DEFAULT_DATABASE_URL, openStorage } from '../adapters/open-storage.ts'
import { openBanStore } from '../adapters/open-ban-store.ts'
import { noContext, type RequestContext } from '../context.ts'
import { type Core, createCore } from '../core.ts'
import { optionsFromEnv } from '../env/options-from-env.ts'
import type { Env } from '../env/read.ts'
import { resolveOperatorOptions } from '../options/resolve.ts'
import type { Storage } from '../ports/storage.ts'
import { describeDatabase, sqliteFile } from './database.ts'
import { UsageError } from './io.ts'

export interface CliContext {
  /** The server's services, on the server's storage and ban store (Redis with USE_REDIS, else the storage's database). */
  core: Core
  /** Where links point (`DOMAIN_CLIENT`, else `DOMAIN_SERVER`); null when neither is set. */
  linkBase: string | null
  context: RequestContext
}

/**
 * The core the server runs, on the storage `DATABASE_URL` names (SQLite at data/librechat-auth.db by
 * default), with every variable validated as the server validates it. The token secrets may be
 * missing: an operator's process issues and accepts no token. One hash at a time, waited for as long as
 * it takes, and no ban cache: each command must see the store as it is.
 */
export async function cliContext (env: Env, options: {
  storage?: Storage
  defaultDatabaseUrl?: string
  audit?: (line: string) => void
  /** Told which database is opened (stderr): a command run in the wrong folder says so. */
  say?: (line: string) => void
  /** A command that only reads: a missing SQLite file is an error, never a new empty database. */
  mustExist?: boolean
} = {}): Promise<CliContext> {
  const fromEnv = optionsFromEnv(env)
  const resolved = resolveOperatorOptions({ ...fromEnv, production: false }).config
  const config = { ...resolved, hashConcurrency: 1, hashMaxWait: 60_000, moderation: { ...resolved.moderation, banCacheTtl: 0 } }
  const linkBase = fromEnv.domainClient === undefined && fromEnv.domainServer === undefined ? null : config.domainClient
  const url = fromEnv.storage !== undefined && 'url' in fromEnv.storage ? fromEnv.storage.url : options.defaultDatabaseUrl ?? DEFAULT_DATABASE_URL
  if (options.storage === undefined) {
    const file = sqliteFile(url)
    if (options.mustExist === true && file !== null && !existsSync(file)) {
      throw new UsageError(`there is no database at ${file}, and this command only reads, so none was created: run it where the server runs, or set DATABASE_URL to the server's database`)
    }
    options.say?.(`librechat-auth: database ${describeDatabase(url)}`)
  }
  const storage = options.storage ?? await openStorage(url, { timeoutMs: config.databaseTimeout })
  const ownsStorage = options.storage === undefined
  await storage.init()
  const bans = await openBanStore(fromEnv.banStore, storage, 'REDIS_URI')
  // A one-shot process: listener failures and background logs have nowhere better to go than nowhere.
  const ignore = (): void => {}
  const core = createCore({
    config,
    storage,
    bans: bans.store,
    log: { info: ignore, warn: ignore, error: ignore },
    owns: { storage: ownsStorage, bans: bans.owned }
  })
  // Ban and unban leave an audit line on stderr, as the server's event log would hold them.
  core.events.onAny((event, payload) => {
    if (event === 'ban.created' || event === 'ban.lifted') options.audit?.(JSON.stringify({ event, ...payload }))
  })
  // A Redis store refuses commands until it is connected: wait for it (bounded), or fail here, clearly,
  // leaving nothing open behind.
  try {
    await core.bans.init?.()
  } catch (error) {
    await core.close()
    throw error
  }
  return { core, linkBase, context: { ...noContext, userAgent: 'librechat-auth-cli' } }
}
