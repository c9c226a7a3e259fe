import { randomInt } from 'node:crypto'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify'
import t from 'tap'
import authPlugin, { type AuthOptions } from '../../index.ts'
import { normalizeIP } from '@fastify/rate-limit'
import { addressKey, coversEveryAddress, isForgeable, type TrustProxy } from '../../lib/moderation/client-address.ts'
import { proxyTrust } from '../../plugins/http/client-address.ts'
import { resolveOptions } from '../../lib/options/resolve.ts'
import { alice, baseOptions, build, relaxedModeration } from '../helpers/app.ts'

interface ErrorBody { statusCode: number, code: string, error: string, message: string }
type Moderation = NonNullable<AuthOptions['moderation']>

const errorOf = (response: LightMyRequestResponse): ErrorBody => response.json<ErrorBody>()
const WINDOW = 5 * 60_000

/** Real login limits (max per client), no bans in the way, everything else relaxed. */
function loginLimit (max: number): Moderation {
  return { ...relaxedModeration, banInterval: 1_000_000, limits: { ...relaxedModeration.limits, login: { max, windowMs: WINDOW } } }
}

function attempt (app: FastifyInstance, peer: string, forwardedFor?: string, email = `nobody${randomInt(1e9)}@example.test`, password = 'wrong password here'): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
  return app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password }, headers, remoteAddress: peer })
}

async function whoami (app: FastifyInstance, peer: string, forwardedFor?: string | string[]): Promise<string> {
  const headers: Record<string, string | string[]> = forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor }
  const response = await app.inject({ method: 'GET', url: '/whoami', headers, remoteAddress: peer })
  return response.json<{ ip: string }>().ip
}

const randomV4 = (): string => `${randomInt(1, 224)}.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`
const hex = (): string => randomInt(0x10000).toString(16)
const randomV6 = (prefix = `2001:db8:${hex()}:${hex()}`): string => `${prefix}:${hex()}:${hex()}:${hex()}:${hex()}`

/** Attempts the guard let through (a 401 from the login itself) and refused (429). */
function tally (responses: LightMyRequestResponse[]): { passed: number, limited: number, other: number[] } {
  const passed = responses.filter(r => r.statusCode === 401).length
  const limited = responses.filter(r => r.statusCode === 429).length
  return { passed, limited, other: responses.map(r => r.statusCode).filter(s => s !== 401 && s !== 429) }
}

t.test('MOD-01: without trustProxy, X-Forwarded-For is ignored: one socket, one bucket', async t => {
  const { app, events } = await build(t, { moderation: loginLimit(5) }, app => {
    app.get('/whoami', async request => ({ ip: request.lcauthIp, fastify: request.ip }))
  })
  const peer = '192.0.2.10'
  const forged = [randomV4(), `${randomV4()}, ${randomV4()}`, randomV6(), 'not-an-ip', '127.0.0.1', '10.0.0.1, 127.0.0.1']
  const responses: LightMyRequestResponse[] = []
  for (let i = 0; i < 30; i++) responses.push(await attempt(app, peer, forged[i] ?? (i % 2 === 0 ? randomV4() : randomV6())))
  t.same(tally(responses), { passed: 5, limited: 25, other: [] }, '429 after max, whatever the header says')
  t.equal(responses[29]?.headers['retry-after'] !== undefined, true)
  t.equal(errorOf(responses[29] as LightMyRequestResponse).code, 'FST_LCAUTH_RATE_LIMITED')

  const limited = events.take('moderation.limited')
  t.equal(limited.length, 25)
  t.ok(limited.every(e => e.ip === peer && e.limiter === 'login'), 'every limited event names the socket peer')
  const violations = events.take('moderation.violation')
  t.ok(violations.every(v => v.subject.kind === 'ip' && v.subject.id === peer), 'scored against the socket peer only')
  t.equal(violations.at(-1)?.total, 25)
  t.ok(events.take('login.failure').every(e => e.ip === peer), 'login events carry the socket peer')

  t.equal(await whoami(app, peer, '203.0.113.5'), peer)
  t.equal((await attempt(app, '192.0.2.11', randomV4())).statusCode, 401, 'another socket peer has its own bucket')
})

t.test('MOD-01: with trustProxy a CIDR list, X-Forwarded-For counts only from a peer inside it', async t => {
  const { app, events } = await build(t, { trustProxy: ['10.0.0.0/8'], moderation: loginLimit(2) }, app => {
    app.get('/whoami', async request => ({ ip: request.lcauthIp }))
  })
  t.equal(await whoami(app, '10.1.2.3', '203.0.113.5'), '203.0.113.5', 'from a trusted proxy: the forwarded client')
  t.equal(await whoami(app, '198.51.100.1', '203.0.113.5'), '198.51.100.1', 'from anyone else: the socket peer')
  t.equal(await whoami(app, '::ffff:10.1.2.3', '203.0.113.5'), '203.0.113.5', 'a trusted proxy seen through a dual-stack socket')
  t.equal(await whoami(app, '10.1.2.3', '203.0.113.5, 10.200.0.1'), '203.0.113.5', 'through two trusted proxies')
  t.equal(await whoami(app, '10.1.2.3', '1.2.3.4, 198.51.100.9'), '198.51.100.9', 'a forged entry left of an untrusted hop is not believed')
  t.equal(await whoami(app, '10.1.2.3'), '10.1.2.3', 'no header: the proxy itself')

  // The forwarded client's bucket: two attempts through one proxy, the third through another, then direct.
  t.equal((await attempt(app, '10.1.2.3', '203.0.113.5')).statusCode, 401)
  t.equal((await attempt(app, '10.9.9.9', '203.0.113.5')).statusCode, 401)
  t.equal((await attempt(app, '10.1.2.3', '203.0.113.5')).statusCode, 429, 'both proxies counted one client')
  t.equal((await attempt(app, '203.0.113.5')).statusCode, 429, 'the same client connecting directly: same bucket')
  t.equal((await attempt(app, '10.1.2.3')).statusCode, 401, 'the proxy\'s own address is another bucket')
  t.match(events.take('login.failure').map(e => e.ip), ['203.0.113.5', '203.0.113.5', '10.1.2.3'])
  t.match(events.take('moderation.limited').map(e => e.ip), ['203.0.113.5', '203.0.113.5'])
  t.ok(events.take('moderation.violation').every(v => v.subject.id === '203.0.113.5'))

  // An untrusted peer sending the same header is counted as itself.
  t.equal((await attempt(app, '198.51.100.1', '203.0.113.6')).statusCode, 401)
  t.equal((await attempt(app, '198.51.100.1', '203.0.113.6')).statusCode, 401)
  t.equal((await attempt(app, '198.51.100.1', '203.0.113.6')).statusCode, 429)
  t.equal((await attempt(app, '10.1.2.3', '203.0.113.6')).statusCode, 401, '203.0.113.6 was never charged')
  t.match(events.take('moderation.limited'), [{ ip: '198.51.100.1' }])

  // The session and the events of a login through the proxy carry the forwarded address.
  const registered = await app.inject({ method: 'POST', url: '/api/auth/register', payload: alice, headers: { 'x-forwarded-for': '203.0.113.50' }, remoteAddress: '10.1.2.3' })
  t.equal(registered.statusCode, 200)
  t.match(events.take('register.success'), [{ ip: '203.0.113.50' }])
  const loggedIn = await attempt(app, '10.1.2.3', '203.0.113.50', alice.email, alice.password)
  t.equal(loggedIn.statusCode, 200)
  const userId = loggedIn.json<{ user: { id: string } }>().user.id
  t.match(events.take('login.success'), [{ ip: '203.0.113.50', userId }])
  const sessions = await app.lcauth.storage.sessions.listLiveByUser(userId, new Date())
  t.same(sessions.map(s => s.ip), ['203.0.113.50'], 'the session records the derived address')
})

const productionOptions: AuthOptions = { ...baseOptions, production: true, bcryptRounds: 10 }

async function startError (options: AuthOptions): Promise<unknown> {
  const app = Fastify({ logger: false })
  try {
    await app.register(authPlugin, options)
    await app.ready()
    return null
  } catch (error) {
    return error
  } finally {
    await app.close().catch(() => {})
  }
}

t.test('MOD-01: production refuses trustProxy true and hop counts; elsewhere they only warn', async t => {
  for (const trustProxy of [true, 1, 2] as const) {
    const error = await startError({ ...productionOptions, trustProxy })
    t.match(error, { code: 'FST_LCAUTH_CONFIG_INVALID' }, `production, trustProxy ${String(trustProxy)}: refused`)
    t.match((error as Error | null)?.message, /: trustProxy /, 'the message names trustProxy')
    t.match((error as Error | null)?.message, /production/)
  }
  for (const trustProxy of [false, 0, ['10.0.0.0/8'], 'loopback, 192.168.0.0/16'] as const) {
    t.equal(await startError({ ...productionOptions, trustProxy }), null, `production, trustProxy ${JSON.stringify(trustProxy)}: accepted`)
  }
  t.equal(await startError(productionOptions), null, 'production without trustProxy: accepted')

  for (const trustProxy of [true, 1] as const) {
    const { warnings } = resolveOptions({ ...baseOptions, trustProxy }, false)
    t.ok(warnings.some(w => w.startsWith('trustProxy ')), `non-production, trustProxy ${String(trustProxy)}: a warning`)
  }
  t.notOk(resolveOptions({ ...baseOptions, trustProxy: ['10.0.0.0/8'] }, false).warnings.some(w => w.includes('trustProxy')), 'a list is no warning')

  // The warning reaches the log, and the unsafe setting does what it says: any client picks its address.
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
  const app = Fastify({ logger: { level: 'warn', stream } })
  t.teardown(() => app.close())
  await app.register(authPlugin, { ...baseOptions, trustProxy: true })
  app.get('/whoami', async request => ({ ip: request.lcauthIp }))
  await app.ready()
  t.ok(lines.some(l => l.includes('trustProxy') && l.includes('lcauth.config_warning')), 'logged as a config warning')
  t.equal(await whoami(app, '198.51.100.1', '6.6.6.6, 7.7.7.7'), '6.6.6.6', 'trustProxy true believes any client')
})

t.test('MOD-01: production refuses a list that trusts every address, whole or in pieces; elsewhere it warns', async t => {
  const everyone = ['0.0.0.0/0', '::/0', '0.0.0.0/1, 128.0.0.0/1', ['0.0.0.0/2', '0.0.0.0/1', '128.0.0.0/2', '128.0.0.0/1'], ['0.0.0.0/2', '64.0.0.0/2', '128.0.0.0/1'], ['::/1', '8000::/1'], '::ffff:0:0/96', ['10.0.0.0/8', '0.0.0.0/0']]
  for (const trustProxy of everyone) {
    const error = await startError({ ...productionOptions, trustProxy })
    t.match(error, { code: 'FST_LCAUTH_CONFIG_INVALID', message: /: trustProxy covers every address/ }, `production, ${JSON.stringify(trustProxy)}: refused`)
    const { warnings } = resolveOptions({ ...baseOptions, trustProxy }, false)
    t.ok(warnings.some(w => w.startsWith('trustProxy covers every address')), `${JSON.stringify(trustProxy)}: a warning outside production`)
  }
  for (const trustProxy of [['0.0.0.0/2', '128.0.0.0/1'], '10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, fc00::/7', '0.0.0.0', 'loopback']) {
    t.equal(await startError({ ...productionOptions, trustProxy }), null, `production, ${JSON.stringify(trustProxy)}: accepted (not every address)`)
  }
  const halves = proxyTrust('0.0.0.0/1, 128.0.0.0/1')
  t.equal(coversEveryAddress('0.0.0.0/1, 128.0.0.0/1'), true)
  t.equal(halves.clientOf('198.51.100.1', '6.6.6.6'), '6.6.6.6', 'what it does: any client picks its address')
  t.throws(() => proxyTrust('0.0.0.0/0'), { code: 'FST_LCAUTH_CONFIG_INVALID' }, 'a /0 is not even a range proxy-addr accepts')
})

t.test('trusts(): the same rule in the form Fastify\'s trustProxy takes', async t => {
  const cidr = proxyTrust(['10.0.0.0/8'])
  t.equal(cidr.trusts('10.1.2.3', 0), true)
  t.equal(cidr.trusts('198.51.100.1', 0), false)
  const twoHops = proxyTrust(2)
  t.same([0, 1, 2].map(hop => twoHops.trusts('198.51.100.1', hop)), [true, true, false])
  t.equal(proxyTrust(undefined).trusts('10.1.2.3', 0), false)
  t.equal(proxyTrust(true).trusts('198.51.100.1', 9), true)
})

t.test('MOD-01: invalid trustProxy entries are refused in every mode', async t => {
  const invalid: unknown[] = [['10.0.0.0/33'], ['2001:db8::/129'], ['banana'], ['10.0.0.0/8/8'], [''], ['10.0.0.0/'], ['10.0.0.0/-1'], ['10.0.0.0/08x'], [42], -1, 1.5, { 0: '10.0.0.0/8' }, 'loopback, nope']
  for (const value of invalid) {
    for (const production of [false, true]) {
      const error = await startError({ ...(production ? productionOptions : baseOptions), trustProxy: value as TrustProxy })
      t.match(error, { code: 'FST_LCAUTH_CONFIG_INVALID' }, `${JSON.stringify(value)} (production ${String(production)}): refused`)
      t.match((error as Error | null)?.message, /: trustProxy /, 'naming trustProxy')
    }
  }
})

t.test('MOD-02: addresses in one IPv6 /64 share a bucket; another /64 has its own', async t => {
  const { app, events } = await build(t, { moderation: loginLimit(5) })
  const responses: LightMyRequestResponse[] = []
  for (let i = 0; i < 30; i++) responses.push(await attempt(app, randomV6('2001:db8:abcd:12')))
  t.same(tally(responses), { passed: 5, limited: 25, other: [] }, 'rotating through the /64 does not reset the budget')
  const violations = events.take('moderation.violation')
  t.ok(violations.every(v => v.subject.kind === 'ip' && v.subject.id === '2001:db8:abcd:12::/64'), 'scored against the /64')
  t.equal(violations.at(-1)?.total, 25)
  t.equal((await attempt(app, '2001:db8:abcd:13::1')).statusCode, 401, 'the next /64 is another client')
  t.equal((await attempt(app, '2001:db8:abcd:12::1')).statusCode, 429)
})

t.test('MOD-02: IPv4-mapped IPv6 and IPv4 are one client; IPv6 spellings are one key', async t => {
  const { app, events } = await build(t, { moderation: loginLimit(5) }, app => {
    app.get('/whoami', async request => ({ ip: request.lcauthIp }))
  })
  const mapped = ['::ffff:203.0.113.7', '203.0.113.7', '::FFFF:203.0.113.7', '::ffff:cb00:7107', '0:0:0:0:0:ffff:203.0.113.7']
  for (const peer of mapped) t.equal((await attempt(app, peer)).statusCode, 401, `${peer}: counted`)
  t.equal((await attempt(app, '203.0.113.7')).statusCode, 429, 'all five were one bucket')
  t.equal((await attempt(app, '::ffff:203.0.113.7')).statusCode, 429)
  t.same(events.take('login.failure').map(e => e.ip), Array(5).fill('203.0.113.7'), 'events carry the folded IPv4 address')

  const spellings = ['2001:DB8::1', '2001:0db8:0000:0000:0000:0000:0000:0002', '2001:db8:0:0::3', '2001:Db8:0::4', '2001:db8::5']
  for (const peer of spellings) t.equal((await attempt(app, peer)).statusCode, 401, `${peer}: counted`)
  t.equal((await attempt(app, '2001:db8:0000::6')).statusCode, 429, 'case and zero compression do not make new keys')
  t.same(events.take('login.failure').map(e => e.ip), ['2001:db8::1', '2001:db8::2', '2001:db8::3', '2001:db8::4', '2001:db8::5'], 'one canonical spelling (RFC 5952) in events')
  t.ok(events.take('moderation.violation').some(v => v.subject.id === '2001:db8::/64'))
  t.equal(await whoami(app, '2001:DB8:0:0:0:0:0:0001'), '2001:db8::1')
})

t.test('addressKey: IPv4 as is, IPv6 by /64, mapped IPv4 folded, anything else unknown', async t => {
  const cases: Array<[string, string]> = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['::FFFF:cb00:7107', '203.0.113.7'],
    ['0000:0000:0000:0000:0000:ffff:0a00:0001', '10.0.0.1'],
    ['2001:db8::1', '2001:db8::/64'],
    ['2001:DB8::1', '2001:db8::/64'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::/64'],
    ['2001:db8:0:0:ffff:ffff:ffff:ffff', '2001:db8::/64'],
    ['2001:db8:aaaa:bbbb:1:2:3:4', '2001:db8:aaaa:bbbb::/64'],
    ['2001:db8:aaaa:bbbc::', '2001:db8:aaaa:bbbc::/64'],
    ['::1', '::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['', 'unknown'],
    ['garbage', 'unknown'],
    ['203.0.113.7:443', 'unknown'],
    ['256.1.1.1', 'unknown'],
    ['2001:db8::1::2', 'unknown']
  ]
  for (const [input, key] of cases) t.equal(addressKey(input), key, JSON.stringify(input))
  t.not(addressKey('2001:db8:0:1::1'), addressKey('2001:db8:0:0::1'), 'neighbouring /64s differ')
  // The key is @fastify/rate-limit's normalisation (IPv6 by /64), written with its prefix length.
  for (const [input, key] of cases) {
    if (key !== 'unknown') t.equal(key, input.includes(':') && !key.includes('.') ? `${normalizeIP(input)}/64` : normalizeIP(input), `${input}: as @fastify/rate-limit keys it`)
  }
})

t.test('proxyTrust: off, unsafe forms, CIDR lists, names and malformed headers', async t => {
  const off = proxyTrust(undefined)
  t.equal(isForgeable(undefined), false)
  t.equal(off.clientOf('10.0.0.1', '203.0.113.5'), '10.0.0.1', 'no trust: the peer')
  t.equal(proxyTrust(false).clientOf('::ffff:10.0.0.1', '203.0.113.5'), '10.0.0.1', 'the peer in canonical form')
  t.equal(off.clientOf(undefined, '203.0.113.5'), 'unknown', 'a socket without an address')

  const all = proxyTrust(true)
  t.equal(isForgeable(true), true)
  t.equal(all.clientOf('198.51.100.1', '6.6.6.6, 7.7.7.7'), '6.6.6.6')
  const oneHop = proxyTrust(1)
  t.equal(isForgeable(1), true)
  t.equal(oneHop.clientOf('198.51.100.1', '6.6.6.6, 7.7.7.7'), '7.7.7.7', 'one hop: the last entry')
  t.equal(proxyTrust(2).clientOf('198.51.100.1', '6.6.6.6, 7.7.7.7'), '6.6.6.6')
  const zero = proxyTrust(0)
  t.equal(isForgeable(0), false)
  t.equal(zero.clientOf('198.51.100.1', '6.6.6.6'), '198.51.100.1')

  const cidr = proxyTrust(['10.0.0.0/8'])
  t.equal(isForgeable(['10.0.0.0/8']) || coversEveryAddress(['10.0.0.0/8']), false)
  t.equal(cidr.clientOf('10.1.2.3', '203.0.113.5'), '203.0.113.5')
  t.equal(cidr.clientOf('198.51.100.1', '203.0.113.5'), '198.51.100.1')
  t.equal(cidr.clientOf('10.1.2.3', '203.0.113.5, 10.0.0.2'), '203.0.113.5', 'walks through trusted hops')
  t.equal(cidr.clientOf('10.1.2.3', ['203.0.113.5', '10.0.0.2']), '203.0.113.5', 'several headers are one list')
  t.equal(cidr.clientOf('10.1.2.3', '9.9.9.9, 203.0.113.5, 10.0.0.2'), '203.0.113.5', 'stops at the first untrusted hop')
  t.equal(cidr.clientOf('10.1.2.3', '  203.0.113.5 ,10.0.0.2 '), '203.0.113.5', 'spaces around entries')
  t.equal(cidr.clientOf('10.1.2.3', '2001:DB8::9'), '2001:db8::9', 'a forwarded IPv6 client, canonical')
  t.equal(cidr.clientOf('10.1.2.3', '::ffff:203.0.113.5'), '203.0.113.5', 'a forwarded mapped address, folded')

  // Malformed entries: the walk stops at the last good hop.
  t.equal(cidr.clientOf('10.1.2.3', 'garbage'), '10.1.2.3')
  t.equal(cidr.clientOf('10.1.2.3', '203.0.113.5, garbage'), '10.1.2.3', 'a bad right-most entry: the peer')
  t.equal(cidr.clientOf('10.1.2.3', 'garbage, 10.0.0.2'), '10.0.0.2', 'a bad entry further left: the last good hop')
  t.equal(cidr.clientOf('10.1.2.3', '203.0.113.5:8080'), '10.1.2.3', 'an address with a port is not an address')
  t.equal(cidr.clientOf('10.1.2.3', ''), '10.1.2.3', 'an empty header')
  t.equal(cidr.clientOf('10.1.2.3', '203.0.113.5,,10.0.0.2'), '203.0.113.5', 'an empty entry is skipped, as proxy-addr reads the header')
  t.equal(cidr.clientOf('10.1.2.3', 'unknown'), '10.1.2.3', 'the literal "unknown" is not an address')

  const loopback = proxyTrust(['loopback'])
  t.equal(loopback.clientOf('127.0.0.1', '203.0.113.5'), '203.0.113.5')
  t.equal(loopback.clientOf('127.8.9.10', '203.0.113.5'), '203.0.113.5', 'all of 127/8')
  t.equal(loopback.clientOf('::1', '203.0.113.5'), '203.0.113.5', 'IPv6 loopback')
  t.equal(loopback.clientOf('10.0.0.1', '203.0.113.5'), '10.0.0.1', 'not a private range')
  const local = proxyTrust(' UniqueLocal , loopback')
  for (const peer of ['10.2.3.4', '172.16.0.1', '172.31.255.255', '192.168.1.1', 'fd00::1', 'fc12:3456::1', '127.0.0.1']) {
    t.equal(local.clientOf(peer, '203.0.113.5'), '203.0.113.5', `uniquelocal/loopback trusts ${peer}`)
  }
  for (const peer of ['172.32.0.1', '8.8.8.8', 'fe80::1', '2001:db8::1']) t.equal(local.clientOf(peer, '203.0.113.5'), addressOf(peer), `but not ${peer}`)
  const linkLocal = proxyTrust(['linklocal'])
  t.equal(linkLocal.clientOf('169.254.1.1', '203.0.113.5'), '203.0.113.5')
  t.equal(linkLocal.clientOf('fe80::1', '203.0.113.5'), '203.0.113.5')

  const v6 = proxyTrust(['2001:db8::/32', '198.51.100.7'])
  t.equal(v6.clientOf('2001:db8:ffff::1', '203.0.113.5'), '203.0.113.5', 'an IPv6 CIDR')
  t.equal(v6.clientOf('2001:DB8:1::1', '203.0.113.5'), '203.0.113.5', 'upper-case peer')
  t.equal(v6.clientOf('2001:db9::1', '203.0.113.5'), '2001:db9::1', 'outside the CIDR')
  t.equal(v6.clientOf('198.51.100.7', '203.0.113.5'), '203.0.113.5', 'a single address')
  t.equal(v6.clientOf('198.51.100.8', '203.0.113.5'), '198.51.100.8')

  for (const bad of [['10.0.0.0/33'], ['::/129'], ['nope'], ['10.0.0.0/8/8'], [''], -1, 1.5] as unknown[]) {
    t.throws(() => proxyTrust(bad as TrustProxy, 'TRUST_PROXY'), { code: 'FST_LCAUTH_CONFIG_INVALID', message: /: TRUST_PROXY / }, `${JSON.stringify(bad)}: refused, naming the given option`)
  }
})

function addressOf (peer: string): string {
  return proxyTrust(undefined).clientOf(peer, undefined)
}

t.test('an unconfigured reverse proxy is named once in the log: a nearby peer forwarding X-Forwarded-For with no TRUST_PROXY', async t => {
  const withLog = async (options: Partial<AuthOptions>): Promise<{ app: FastifyInstance, hints: () => string[] }> => {
    const lines: string[] = []
    const stream = new Writable({ write (chunk: Buffer, _encoding, done) { lines.push(chunk.toString()); done() } })
    const app = Fastify({ logger: { level: 'warn', stream } })
    t.teardown(() => app.close())
    await app.register(authPlugin, { ...baseOptions, ...options })
    app.get('/whoami', async request => ({ ip: request.lcauthIp }))
    await app.ready()
    return { app, hints: () => lines.filter(l => l.includes('lcauth.untrusted_proxy')) }
  }
  const { app, hints } = await withLog({})
  await whoami(app, '198.51.100.7', '203.0.113.1')
  await whoami(app, '10.0.0.5')
  t.same(hints(), [], 'a public peer, or no header: nothing to say')
  t.equal(await whoami(app, '10.0.0.5', '203.0.113.1'), '10.0.0.5', 'the header is still not believed')
  await whoami(app, '127.0.0.1', '203.0.113.2')
  t.equal(hints().length, 1, 'said once')
  t.match(hints()[0], /TRUST_PROXY=10\.0\.0\.5/)

  const trusted = await withLog({ trustProxy: ['10.0.0.0/8'] })
  await whoami(trusted.app, '10.0.0.5', '203.0.113.1')
  t.same(trusted.hints(), [], 'a configured trust list: nothing to say')
})
