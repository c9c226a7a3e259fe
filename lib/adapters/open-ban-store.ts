import { configError } from '../errors.ts'
import type { BanStoreDescriptor } from '../options/types.ts'
import type { BanStore } from '../ports/ban-store.ts'
import type { Storage } from '../ports/storage.ts'
import { loadDriver } from './load-driver.ts'
import { memoryBanStore } from './memory/ban-store.ts'

/**
 * The ban store the plugin and the CLI use: one given as is (the caller's to close), Redis named by a
 * URL (ioredis loaded only then: without it, a configuration error naming the package), or by default
 * the storage's own database when it offers one, else memory.
 */
export async function openBanStore (given: BanStore | BanStoreDescriptor | undefined, storage: Storage, option = 'banStore.url'): Promise<{ store: BanStore, owned: boolean }> {
  if (given === undefined) return { store: storage.banStore?.() ?? memoryBanStore(), owned: true }
  if (!isDescriptor(given)) return { store: given, owned: false }
  if (!/^rediss?:\/\//.test(given.url) || !URL.canParse(given.url)) throw configError(option, 'must be a redis:// or rediss:// URL')
  const redis = { url: given.url, ...(given.keyPrefix === undefined ? {} : { keyPrefix: given.keyPrefix }) }
  return { store: await loadDriver('ioredis', option, async () => (await import('./redis/index.ts')).redisBanStore(redis)), owned: true }
}

function isDescriptor (store: BanStore | BanStoreDescriptor): store is BanStoreDescriptor {
  return typeof (store as BanStoreDescriptor).url === 'string'
}
