import type { FastifyInstance } from 'fastify'
import type { BanStore } from '../../lib/ports/ban-store.ts'
import type { Storage } from '../../lib/ports/storage.ts'

/** What the call log holds where the reply went out. */
export const REPLY = '-- reply --'

/**
 * `store` with every method call appended to `log` as `<prefix>.<method>` before it runs; a ban-store
 * `hit` also names its key's first segment (`bans.hit:mail`), so a mail's reservation stands out from
 * a limiter's count. Nothing else changes.
 */
function recorded<T extends object> (store: T, prefix: string, log: string[]): T {
  return new Proxy(store, {
    get (target, key, receiver) {
      const value: unknown = Reflect.get(target, key, receiver)
      if (typeof value !== 'function') return value
      const method = value as (...args: unknown[]) => unknown
      return (...args: unknown[]) => {
        const detail = key === 'hit' && typeof args[0] === 'string' ? `:${args[0].split(':')[0] ?? ''}` : ''
        log.push(`${prefix}.${String(key)}${detail}`)
        return method.apply(target, args)
      }
    }
  })
}

/** A real storage whose every call is recorded in `log`. */
export function recordingStorage (inner: Storage, log: string[]): Storage {
  return {
    ...inner,
    kind: inner.kind,
    users: recorded(inner.users, 'users', log),
    identities: recorded(inner.identities, 'identities', log),
    sessions: recorded(inner.sessions, 'sessions', log),
    oneTimeTokens: recorded(inner.oneTimeTokens, 'oneTimeTokens', log),
    init: () => inner.init(),
    close: () => inner.close()
  }
}

/** A real ban store whose every call is recorded in `log`. */
export function recordingBanStore (inner: BanStore, log: string[]): BanStore {
  return recorded(inner, 'bans', log)
}

/** Marks in `log` the moment each reply of `app` is sent (its onSend); add it before the plugin registers. */
export function markReplies (app: FastifyInstance, log: string[]): void {
  app.addHook('onSend', (_request, _reply, payload, done) => {
    log.push(REPLY)
    done(null, payload)
  })
}

/** The calls of `log` before its one reply mark, and after it; throws unless there is exactly one mark. */
export function splitAtReply (log: readonly string[]): { before: string[], after: string[] } {
  const at = log.indexOf(REPLY)
  if (at === -1 || log.lastIndexOf(REPLY) !== at) throw new Error(`expected exactly one reply in ${JSON.stringify(log)}`)
  return { before: log.slice(0, at), after: log.slice(at + 1) }
}
