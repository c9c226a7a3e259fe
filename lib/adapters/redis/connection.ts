import { Redis } from 'ioredis'

/** Errors reach the caller through rejected commands; this only keeps a down Redis from crashing the process. */
const ignore = (): void => {}

/**
 * A client for the request path: while disconnected a command fails at once instead of queueing
 * (a login must not wait for Redis), and the client keeps reconnecting, at most a second apart, so
 * the store recovers on its own when Redis returns.
 */
export function requestPathClient (url: string, commandTimeoutMs: number, connectTimeoutMs: number): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    // Commands issued in the same tick (the limiters of one request, and of concurrent requests) go
    // out as one pipeline: one round trip for all of them.
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: commandTimeoutMs,
    connectTimeout: connectTimeoutMs,
    // How long a closing socket may take before it is destroyed: ioredis waits this long even when
    // the socket is already gone (Redis down), which would hold the process open after close().
    disconnectTimeout: commandTimeoutMs,
    retryStrategy: times => Math.min(times * 100, 1000)
  })
  client.on('error', ignore)
  return client
}

/**
 * A subscriber connection with `client`'s options, except that SUBSCRIBE waits for the connection
 * (queued, no timeout) and is replayed after every reconnect: a watch started while Redis is down
 * begins hearing once it is back.
 */
export function subscriberOf (client: Redis, disconnectTimeoutMs: number): Redis {
  const subscriber = client.duplicate({
    disconnectTimeout: disconnectTimeoutMs,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    autoResubscribe: true,
    lazyConnect: false
  })
  subscriber.on('error', ignore)
  return subscriber
}

/** Resolves when `promise` settles or `ms` pass, whichever comes first; never rejects. */
export function settle (promise: Promise<unknown>, ms: number): Promise<void> {
  return new Promise(resolve => {
    const timer = setTimeout(resolve, ms)
    promise.catch(ignore).finally(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** Resolves once `client` is ready; rejects after `timeoutMs`, or as soon as it has given up reconnecting. */
export function whenReady (client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve()
  if (client.status === 'end') return Promise.reject(new Error('the Redis client is closed'))
  // A caller's client made with lazyConnect only connects when asked to.
  if (client.status === 'wait') client.connect().catch(ignore)
  return new Promise((resolve, reject) => {
    let lastError: unknown
    const onError = (error: unknown): void => { lastError = error }
    const onReady = (): void => { stop(); resolve() }
    const onEnd = (): void => { stop(); reject(new Error('the Redis client stopped reconnecting', { cause: lastError })) }
    const timer = setTimeout(() => {
      stop()
      reject(new Error(`Redis was not ready within ${timeoutMs} ms`, { cause: lastError }))
    }, timeoutMs)
    const stop = (): void => {
      clearTimeout(timer)
      client.off('ready', onReady).off('error', onError).off('end', onEnd)
    }
    client.on('ready', onReady).on('error', onError).on('end', onEnd)
  })
}

/** Closes `client`: QUIT when it can be answered (bounded by `timeoutMs`), then drops the socket and stops reconnecting. */
export async function shut (client: Redis, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') await settle(client.quit(), timeoutMs)
  if (client.status !== 'end') client.disconnect()
}
