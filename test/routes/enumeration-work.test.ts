import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import t, { type Test } from 'tap'
import { memoryBanStore, memoryMailer, memoryStorage, type Storage } from '../../index.ts'
import { alice, build, register } from '../helpers/app.ts'
import { markReplies, recordingBanStore, recordingStorage, splitAtReply } from '../helpers/recording.ts'

/**
 * LOG-02 / RST-02 / EMV-01 / REG-01, proven structurally: a request about an email that has an account
 * and one about an email that has none make the same sequence of storage and ban-store calls before
 * the reply is sent. Whatever a known account needs beyond that (tokens, the mail's reservation)
 * happens after the reply. The timing figure itself belongs to bench/.
 */

const NOBODY = 'nobody@example.test'

type Fire = (app: FastifyInstance, email: string) => Promise<LightMyRequestResponse>

const requestReset: Fire = (app, email) => app.inject({ method: 'POST', url: '/api/auth/requestPasswordReset', payload: { email } })
const resend: Fire = (app, email) => app.inject({ method: 'POST', url: '/api/user/verify/resend', payload: { email } })
let fresh = 0
const registration: Fire = (app, email) => register(app, { ...alice, name: 'Some Person', email: email === NOBODY ? `new${++fresh}@example.test` : email })

/** The storage the app gets; the negative control wraps it to do more for one address. */
type Wrap = (storage: Storage) => Storage

interface Recorded { status: number, before: string[], after: string[] }
interface Comparison { same: boolean, known: Recorded, unknown: Recorded }

/**
 * The check: an app with a mailer on recording ports, alice registered (unverified) and her mails
 * settled; then one request about her and one about an address without an account, each recorded up
 * to its reply and, once the deferred mail work settled, after it.
 */
async function compare (t: Test, fire: Fire, wrap: Wrap = s => s): Promise<Comparison> {
  const log: string[] = []
  const storage = wrap(recordingStorage(memoryStorage(), log))
  const { app } = await build(t, { storage, banStore: recordingBanStore(memoryBanStore(), log), mailer: memoryMailer() }, undefined, async app => { markReplies(app, log) })
  if ((await register(app)).statusCode !== 200) throw new Error('could not register alice')
  await app.lcauth.mail?.idle()
  const record = async (email: string): Promise<Recorded> => {
    log.length = 0
    const response = await fire(app, email)
    await app.lcauth.mail?.idle()
    return { status: response.statusCode, ...splitAtReply(log) }
  }
  const known = await record(alice.email)
  const unknown = await record(NOBODY)
  return { same: JSON.stringify(known.before) === JSON.stringify(unknown.before), known, unknown }
}

/**
 * The negative control, test-local: the storage awaits one extra write whenever alice's account is
 * looked up, so the known path does more before its reply, as a service that wrote her token first would.
 */
const extraWriteForAlice: Wrap = storage => ({
  ...storage,
  users: {
    ...storage.users,
    findByEmail: async (email) => {
      if (email === alice.email) await storage.oneTimeTokens.deleteForUser('control', 'invite')
      return storage.users.findByEmail(email)
    }
  }
})

const cases: Array<{ name: string, fire: Fire, knownAfter: string[] }> = [
  { name: 'password reset request', fire: requestReset, knownAfter: ['bans.hit:mail', 'oneTimeTokens.deleteForUser', 'oneTimeTokens.create'] },
  { name: 'verification resend', fire: resend, knownAfter: ['bans.hit:mail', 'oneTimeTokens.deleteForUser', 'oneTimeTokens.create'] },
  // For registration, "known" is the taken email and "unknown" a new one.
  { name: 'registration', fire: registration, knownAfter: ['bans.hit:mail'] }
]

for (const { name, fire, knownAfter } of cases) {
  t.test(`${name}: a known and an unknown email make the same storage calls before the reply`, async t => {
    const { same, known, unknown } = await compare(t, fire)
    t.equal(known.status, 200)
    t.equal(unknown.status, 200)
    t.ok(known.before.some(call => call.startsWith('users.')), 'the account is looked up before the reply')
    t.same(known.before, unknown.before, 'the same calls, in the same order')
    t.ok(same, 'so the check passes')
    t.same(known.after.filter(call => knownAfter.includes(call)), knownAfter, 'the known path\'s mail work runs after the reply')
    t.notOk(known.before.some(call => call === 'bans.hit:mail' || call.startsWith('oneTimeTokens.')), 'none of it before')
  })

  t.test(`${name}: negative control: one extra write on the known path is detected`, async t => {
    const { same, known, unknown } = await compare(t, fire, extraWriteForAlice)
    t.equal(known.status, 200, 'the answer alone does not show it')
    t.equal(unknown.status, 200)
    t.notOk(same, 'the check fails')
    t.same(known.before.filter(call => !unknown.before.includes(call)), ['oneTimeTokens.deleteForUser'], 'on exactly the extra call')
  })
}

t.test('after the reply, the unknown email gets no mail work (reset request and resend)', async t => {
  for (const fire of [requestReset, resend]) {
    const { unknown } = await compare(t, fire)
    t.notOk(unknown.after.some(call => call === 'bans.hit:mail' || call.startsWith('oneTimeTokens.')), 'nothing reserved or written')
  }
})
