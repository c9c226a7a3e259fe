import assert from 'node:assert/strict'
import { createdUser, type StorageCase } from './storage-cases.ts'
import { newIdentity } from './types.ts'

/** The IdentityStore's part of the Storage conformance suite (storage.ts registers it). */
export function identityConformance (run: StorageCase): void {
  run('identities.create returns the identity and find returns it; email may be null', async storage => {
    const owner = await createdUser(storage)
    const input = newIdentity(owner.id)
    assert.deepEqual(await storage.identities.create(input), input)
    assert.deepEqual(await storage.identities.find(input.provider, input.issuer, input.subject), input)
    const bare = newIdentity(owner.id, { provider: 'github', issuer: 'github', email: null, emailVerified: false })
    assert.deepEqual(await storage.identities.create(bare), bare)
    assert.deepEqual(await storage.identities.find('github', 'github', bare.subject), bare)
  })

  run('identities.create returns null when (provider, issuer, subject) is already linked, even to another user', async storage => {
    const [a, b] = [await createdUser(storage), await createdUser(storage)]
    const first = newIdentity(a.id)
    assert.ok(await storage.identities.create(first))
    assert.equal(await storage.identities.create({ ...first, userId: b.id, email: null }), null)
    assert.deepEqual(await storage.identities.find(first.provider, first.issuer, first.subject), first)
    assert.deepEqual(await storage.identities.listByUser(b.id), [])
  })

  run('identities: provider, issuer and subject are each part of the key, with no ambiguity between them', async storage => {
    const owner = await createdUser(storage)
    const base = newIdentity(owner.id, { provider: 'openid', issuer: 'https://a.example.test', subject: 's1' })
    const variants = [
      base,
      { ...base, provider: 'openid-2' },
      { ...base, issuer: 'https://b.example.test' },
      { ...base, subject: 's2' },
      // Distinct triples that a naive `provider:issuer:subject` key would confuse.
      { ...base, provider: 'x', issuer: 'y:z', subject: 's' },
      { ...base, provider: 'x:y', issuer: 'z', subject: 's' }
    ]
    for (const identity of variants) assert.deepEqual(await storage.identities.create(identity), identity)
    for (const identity of variants) {
      assert.deepEqual(await storage.identities.find(identity.provider, identity.issuer, identity.subject), identity)
    }
    assert.equal(await storage.identities.find('openid', 'https://a.example.test', 's3'), null)
    assert.equal(await storage.identities.find('openid', 'https://c.example.test', 's1'), null)
    assert.equal(await storage.identities.find('other', 'https://a.example.test', 's1'), null)
  })

  run('identities.listByUser returns all and only the user\'s identities, [] for none', async storage => {
    const [a, b] = [await createdUser(storage), await createdUser(storage)]
    assert.deepEqual(await storage.identities.listByUser(a.id), [])
    const mine = [newIdentity(a.id), newIdentity(a.id, { provider: 'github', issuer: 'github' })]
    for (const identity of [...mine, newIdentity(b.id)]) assert.ok(await storage.identities.create(identity))
    const listed = await storage.identities.listByUser(a.id)
    const bySubject = (x: { subject: string }, y: { subject: string }): number => x.subject.localeCompare(y.subject)
    assert.deepEqual([...listed].sort(bySubject), [...mine].sort(bySubject))
    assert.deepEqual(await storage.identities.listByUser('no-such-user'), [])
  })

  run('identities: inputs and returned values are copies', async storage => {
    const owner = await createdUser(storage)
    const input = newIdentity(owner.id)
    const snapshot = structuredClone(input)
    const created = await storage.identities.create(input)
    assert.ok(created)
    input.userId = 'someone-else'
    input.createdAt.setTime(0)
    created.emailVerified = false
    created.createdAt.setTime(1)
    const found = await storage.identities.find(snapshot.provider, snapshot.issuer, snapshot.subject)
    assert.deepEqual(found, snapshot)
    assert.ok(found)
    found.email = null
    const listed = await storage.identities.listByUser(owner.id)
    assert.deepEqual(listed, [snapshot])
    listed[0]?.createdAt.setTime(2)
    assert.deepEqual(await storage.identities.find(snapshot.provider, snapshot.issuer, snapshot.subject), snapshot)
  })
}
