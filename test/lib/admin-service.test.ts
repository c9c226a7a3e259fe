import t from 'tap'
import { noContext } from '../../lib/context.ts'
import { testCore } from '../helpers/core.ts'

function service () {
  const core = testCore()
  const revoked: string[] = []
  // What the running server's revocation mirror hears, in order.
  core.events.on('session.revoked', event => { revoked.push(event.sessionId) })
  return { storage: core.storage, admin: core.admin, revoked, core }
}

t.test('changes to a user who vanished meanwhile are a not-found', async t => {
  const { storage, admin } = service()
  const user = await admin.createUser({ email: 'alice@example.com', password: 'correct horse battery' }, noContext)
  await storage.users.delete(user.id, new Date())
  await t.rejects(admin.setRole(user, 'USER', noContext), { code: 'FST_LCAUTH_NOT_FOUND' })
  await t.rejects(admin.setDisabled(user, true, noContext), { code: 'FST_LCAUTH_NOT_FOUND' })
  t.same(await admin.deleteUser(user, 'operator', noContext), [], 'deleting again ends nothing more')
})

t.test('names default to the local part, or the whole address when it is too short to be a name', async t => {
  const { admin } = service()
  t.equal((await admin.createUser({ email: 'alice@example.com', password: 'correct horse battery' }, noContext)).name, 'alice')
  t.equal((await admin.createUser({ email: 'al@example.com', password: 'correct horse battery' }, noContext)).name, 'al@example.com')
  await t.rejects(admin.createUser({ email: 'bad', password: 'correct horse battery' }, noContext), { code: 'FST_LCAUTH_VALIDATION' })
  t.equal(await admin.findByEmail('not an email'), null)
  t.equal((await admin.findByEmail('ALICE@example.com'))?.email, 'alice@example.com')
})

t.test('operator changes reach the running server\'s revocation mirror at once', async t => {
  const { storage, admin, revoked, core } = service()
  const user = await admin.createUser({ email: 'alice@example.com', password: 'correct horse battery' }, noContext)
  const open = (id: string) => storage.sessions.create({ id, userId: user.id, refreshTokenHash: id, createdAt: new Date(), expiresAt: new Date(Date.now() + 1e6), absoluteExpiresAt: new Date(Date.now() + 1e6), userAgent: null, ip: null })
  await open('s1')
  await admin.setDisabled(user, true, noContext)
  await open('s2')
  await admin.setPassword(user, 'another long passphrase', noContext)
  await open('s3')
  await admin.deleteUser(user, 'operator', noContext)
  t.same(revoked, ['s1', 's2', 's3'])
  t.ok(['s1', 's2', 's3'].every(core.mirror.isRevoked), 'the mirror knows every one')
})

t.test('create-user records the operator as who verified the email; without --verified nobody did', async t => {
  const { admin } = service()
  const verified = await admin.createUser({ email: 'alice@example.com', password: 'correct horse battery', verified: true }, noContext)
  t.match(verified, { emailVerified: true, emailVerifiedBy: 'operator' })
  const unverified = await admin.createUser({ email: 'bob@example.com', password: 'correct horse battery' }, noContext)
  t.equal(unverified.emailVerified, false)
  t.equal(unverified.emailVerifiedBy, null)
})
