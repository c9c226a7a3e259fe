import t from 'tap'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { noContext } from '../../lib/context.ts'
import type { ProviderProfile } from '../../lib/identities/provider-profile.ts'
import type { Identity, Storage } from '../../lib/ports/storage.ts'
import { testCore } from '../helpers/core.ts'

// The social account service's edges that HTTP cannot reach on demand: lost races, vanished users,
// profiles with unusable names.

const google = { provider: 'google', issuer: 'google' }
const profile = (overrides: Partial<ProviderProfile> = {}): ProviderProfile =>
  ({ subject: 's-1', email: 'sam@example.test', emailVerified: true, name: 'Sam Sample', username: 'sam', avatar: null, ...overrides })
const options = { allowSocialLogin: true, allowSocialRegistration: true }

t.test('a name the account rules refuse falls back to the username, then the address', async t => {
  const core = testCore({ options })
  const user = async (p: ProviderProfile) => (await core.socialAccounts.signIn(google, p, noContext, null)).user
  t.match(await user(profile({ subject: 'a', email: 'a@example.test', name: 'https://spam.example/x', username: 'okname' })), { name: 'okname', username: 'okname' })
  t.match(await user(profile({ subject: 'b', email: 'bee.keeper@example.test', name: 'x', username: 'y' })), { name: 'bee.keeper', username: null })
  t.match(await user(profile({ subject: 'c', email: 'ab@example.test', name: null, username: null })), { name: 'New user' })
})

t.test('the avatar comes from the provider until the user has one', async t => {
  const core = testCore({ options })
  const first = await core.socialAccounts.signIn(google, profile(), noContext, null)
  t.equal(first.user.avatar, null)
  const second = await core.socialAccounts.signIn(google, profile({ avatar: 'https://img.example.test/1.png' }), noContext, null)
  t.equal(second.user.avatar, 'https://img.example.test/1.png')
  const third = await core.socialAccounts.signIn(google, profile({ avatar: 'https://img.example.test/2.png' }), noContext, null)
  t.equal(third.user.avatar, 'https://img.example.test/1.png', 'kept')
})

t.test('an identity whose user vanished is refused', async t => {
  const storage = memoryStorage()
  const core = testCore({ storage, options })
  await storage.identities.create({ ...google, subject: 's-1', userId: 'gone', email: null, emailVerified: false, createdAt: new Date() })
  await t.rejects(core.socialAccounts.signIn(google, profile(), noContext, null), { name: 'SocialRefusal', reason: 'user_gone' })
  await t.rejects(core.socialAccounts.link('gone', google, profile({ subject: 'other' }), noContext), { name: 'SocialRefusal', reason: 'user_gone' })
  await t.rejects(core.socialAccounts.unlink('gone', 'google', noContext), { code: 'FST_LCAUTH_UNAUTHORIZED' })
  await t.rejects(core.socialAccounts.confirmUser('gone', 'no-session', undefined), { code: 'FST_LCAUTH_UNAUTHORIZED' })
})

/** Storage whose identity inserts lose to a concurrent twin: `before` runs first, as the other request. */
function racing (inner: Storage, before: (identity: Identity) => Promise<void>): Storage {
  let raced = false
  return {
    ...inner,
    identities: {
      ...inner.identities,
      async create (identity) {
        if (!raced) {
          raced = true
          await before(identity)
        }
        return inner.identities.create(identity)
      }
    }
  }
}

t.test('two first sign-ins of one identity at once: one account, the loser signs into it', async t => {
  const inner = memoryStorage()
  const storage = racing(inner, async identity => {
    // The twin created its own account first: ours cannot take the email, nor the identity.
    const twin = await inner.users.create({ email: 'twin@example.test', name: 'Twin', username: null, provider: 'google', emailVerified: true, passwordHash: null, role: 'USER' }, new Date())
    await inner.identities.create({ ...identity, userId: twin!.id })
  })
  const core = testCore({ storage, options })
  const { user } = await core.socialAccounts.signIn(google, profile(), noContext, null)
  t.equal(user.email, 'twin@example.test', 'the twin\'s account')
  t.equal(await inner.users.findByEmail('sam@example.test'), null, 'the account made for the losing request was removed')
})

t.test('an identity linked by email at the same moment elsewhere: the second resolution finds it', async t => {
  const inner = memoryStorage()
  const storage = racing(inner, async identity => { await inner.identities.create(identity) })
  const core = testCore({ storage, options })
  const owner = await inner.users.create({ email: 'sam@example.test', name: 'Sam', username: null, provider: 'local', emailVerified: true, emailVerifiedBy: 'mail', passwordHash: null }, new Date())
  const { user } = await core.socialAccounts.signIn(google, profile(), noContext, null)
  t.equal(user.id, owner!.id)
})

t.test('a race lost twice gives up with identity_taken; an explicit link racing another account too', async t => {
  const inner = memoryStorage()
  let n = 0
  const storage: Storage = {
    ...inner,
    users: { ...inner.users, create: async () => { n++; return null } }
  }
  const core = testCore({ storage, options })
  await t.rejects(core.socialAccounts.signIn(google, profile(), noContext, null), { name: 'SocialRefusal', reason: 'identity_taken' })
  t.equal(n, 2, 'tried twice')

  const linker = memoryStorage()
  const alice = await linker.users.create({ email: 'alice@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: false, passwordHash: null }, new Date())
  const linking = testCore({ storage: racing(linker, async identity => { await linker.identities.create({ ...identity, userId: 'someone-else' }) }), options })
  await t.rejects(linking.socialAccounts.link(alice!.id, google, profile(), noContext), { name: 'SocialRefusal', reason: 'identity_taken' })
  await linker.users.update(alice!.id, { disabledAt: new Date() }, new Date())
  await t.rejects(linking.socialAccounts.link(alice!.id, google, profile({ subject: 'new' }), noContext), { name: 'SocialRefusal', reason: 'disabled' })
})

t.test('a provider that gives no email: linked explicitly, it still signs in, its email recorded as none', async t => {
  const core = testCore({ options })
  const alice = await core.storage.users.create({ email: 'alice@example.test', name: 'Alice', username: null, provider: 'local', emailVerified: false, passwordHash: null }, new Date())
  await core.socialAccounts.link(alice!.id, google, profile({ subject: 'quiet', email: null }), noContext)
  const { user } = await core.socialAccounts.signIn(google, profile({ subject: 'quiet', email: null }), noContext, null)
  t.equal(user.id, alice!.id)
  t.match(await core.socialAccounts.list(alice!.id), [{ provider: 'google', email: null }])
})
