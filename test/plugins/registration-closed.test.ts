import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t from 'tap'
import authPlugin, { optionsFromEnv } from '../../index.ts'
import { alice, baseOptions } from '../helpers/app.ts'

// ALLOW_REGISTRATION unset means what it means in LibreChat: closed, and the start-up log says so.

t.test('unset ALLOW_REGISTRATION closes registration, with one start-up line; the option alone keeps it open', async t => {
  const start = async (options: object): Promise<{ lines: string[], status: number }> => {
    const lines: string[] = []
    const app = Fastify({ logger: { level: 'info', stream: new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } }) } })
    t.teardown(() => app.close())
    await app.register(authPlugin, { ...baseOptions, ...options })
    await app.ready()
    const response = await app.inject({ method: 'POST', url: '/api/auth/register', payload: alice })
    return { lines, status: response.statusCode }
  }
  const fromEnv = await start(optionsFromEnv({}))
  t.equal(fromEnv.status, 403)
  t.equal(fromEnv.lines.filter(l => l.includes('"event":"lcauth.registration_closed"')).length, 1)
  const opened = await start(optionsFromEnv({ ALLOW_REGISTRATION: 'true' }))
  t.equal(opened.status, 200)
  t.notOk(opened.lines.some(l => l.includes('registration_closed')))
  t.equal((await start({})).status, 200, 'the programmatic default stays open')
})
