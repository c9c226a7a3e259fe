import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import type { Clock } from '../../lib/clock.ts'
import { type Core, createCore } from '../../lib/core.ts'
import { resolveOptions } from '../../lib/options/resolve.ts'
import type { AuthOptions } from '../../lib/options/types.ts'
import type { Mailer } from '../../lib/ports/mailer.ts'
import type { Storage } from '../../lib/ports/storage.ts'
import { baseOptions } from './app.ts'

const quiet = { info: () => {}, warn: () => {}, error: () => {} }

/** The core the plugin builds, without HTTP: memory ports unless given, the suite's base options. */
export function testCore (parts: { storage?: Storage, mailer?: Mailer, now?: Clock, options?: Partial<AuthOptions> } = {}): Core {
  const { config } = resolveOptions({ ...baseOptions, ...parts.options }, false)
  return createCore({
    config,
    storage: parts.storage ?? memoryStorage(),
    bans: memoryBanStore(),
    log: quiet,
    ...(parts.mailer === undefined ? {} : { mailer: parts.mailer }),
    ...(parts.now === undefined ? {} : { now: parts.now })
  })
}
