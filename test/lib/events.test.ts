import t from 'tap'
import { AuthEventEmitter, type AuthEvents } from '../../lib/events.ts'

const payload: AuthEvents['logout'] = { at: new Date(0), ip: '127.0.0.1', userAgent: null, requestId: 'r1', userId: null, sessionId: null }

t.test('typed listeners, onAny, off', async t => {
  const failures: unknown[] = []
  const events = new AuthEventEmitter(error => failures.push(error))
  const seen: string[] = []
  const listener = (p: AuthEvents['logout']): void => { seen.push(`logout:${p.requestId}`) }
  events.on('logout', listener)
  events.onAny((name) => seen.push(`any:${name}`))
  events.emit('logout', payload)
  events.off('logout', listener)
  events.emit('logout', payload)
  t.same(seen, ['logout:r1', 'any:logout', 'any:logout'])
  t.same(failures, [])
})

t.test('a listener that throws never breaks the emitter or later listeners', async t => {
  const failures: Array<[unknown, string]> = []
  const events = new AuthEventEmitter((error, event) => failures.push([error, event]))
  const seen: string[] = []
  events.on('logout', () => { throw new Error('listener bug') })
  events.on('logout', () => seen.push('second'))
  events.onAny(() => { throw new Error('audit bug') })
  t.doesNotThrow(() => events.emit('logout', payload))
  t.same(seen, ['second'])
  t.equal(failures.length, 2)
  t.match(failures, [[{ message: 'listener bug' }, 'logout'], [{ message: 'audit bug' }, 'logout']])
})
