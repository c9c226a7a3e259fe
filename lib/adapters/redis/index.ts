/** `librechat-auth/redis`: the Redis ban store. Importing it loads ioredis; the package face never does. */
export { redisBanStore, type RedisBanStoreOptions } from './ban-store.ts'
