import assert from 'node:assert/strict'
import type { Identity } from '../../lib/ports/storage.ts'
import { createdUser, type StorageCase } from './storage-cases.ts'
import { at, DAY, email, HOUR, newIdentity, parallel } from './types.ts'

/** Identities sorted by subject, to compare lists whose order the port leaves open (equal creation times). */
const bySubject = (list: readonly Identity[]): Identity[] => [...list].sort((x, y) => x.subject.localeCompare(y.subject))

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
    assert.deepEqual(bySubject(listed), bySubject(mine))
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

  run('identities.listByUser returns the oldest first', async storage => {
    const owner = await createdUser(storage)
    const [middle, oldest, newest] = [at(HOUR), at(0), at(2 * HOUR)].map(createdAt => newIdentity(owner.id, { createdAt }))
    for (const identity of [middle, oldest, newest]) assert.ok(await storage.identities.create(identity as Identity))
    assert.deepEqual(await storage.identities.listByUser(owner.id), [oldest, middle, newest])
  })

  run('identities.update sets only email and emailVerified and returns the identity; null for an unknown one', async storage => {
    const [owner, other] = [await createdUser(storage), await createdUser(storage)]
    const linked = newIdentity(owner.id, { emailVerified: false })
    const neighbour = newIdentity(owner.id, { subject: `${linked.subject}-2` })
    for (const identity of [linked, neighbour]) assert.ok(await storage.identities.create(identity))
    // A whole identity as key and patch, every other field changed: none of them may apply.
    const patch: Identity = { ...linked, userId: other.id, createdAt: at(DAY), email: email(), emailVerified: true }
    const expected: Identity = { ...linked, email: patch.email, emailVerified: true }
    const updated = await storage.identities.update(patch, patch)
    assert.deepEqual(updated, expected)
    assert.ok(updated)
    updated.email = 'mutated@example.test'
    assert.deepEqual(await storage.identities.find(linked.provider, linked.issuer, linked.subject), expected)
    assert.deepEqual(bySubject(await storage.identities.listByUser(owner.id)), bySubject([expected, neighbour]), 'the other identity is left alone')
    assert.deepEqual(await storage.identities.listByUser(other.id), [])

    const cleared = await storage.identities.update(linked, { email: null, emailVerified: false })
    assert.deepEqual(cleared, { ...linked, email: null, emailVerified: false })
    for (const unknown of [{ ...linked, subject: 'no-such-subject' }, { ...linked, provider: 'github' }, { ...linked, issuer: 'https://other.example.test' }]) {
      assert.equal(await storage.identities.update(unknown, { email: email(), emailVerified: true }), null)
      assert.equal(await storage.identities.find(unknown.provider, unknown.issuer, unknown.subject), null, 'nothing created')
    }
  })

  run('identities.delete unlinks one identity: true once, then false; it is gone from find and listByUser', async storage => {
    const owner = await createdUser(storage)
    const [doomed, kept] = [newIdentity(owner.id), newIdentity(owner.id, { provider: 'github', issuer: 'github' })]
    for (const identity of [doomed, kept]) assert.ok(await storage.identities.create(identity))
    assert.equal(await storage.identities.delete({ ...doomed, provider: 'github' }), false, 'the whole key must match')
    assert.equal(await storage.identities.delete(doomed), true)
    assert.equal(await storage.identities.delete(doomed), false)
    assert.equal(await storage.identities.find(doomed.provider, doomed.issuer, doomed.subject), null)
    assert.deepEqual(await storage.identities.listByUser(owner.id), [kept])
    assert.deepEqual(await storage.identities.create(doomed), doomed, 'the key can be linked again')
  })

  run('identities.delete: of 10 concurrent deletions of one identity exactly one answers true', async storage => {
    const owner = await createdUser(storage)
    const identity = newIdentity(owner.id)
    assert.ok(await storage.identities.create(identity))
    const results = await parallel(10, () => storage.identities.delete(identity))
    assert.equal(results.filter(Boolean).length, 1)
  })

  run('identities.deleteUnverifiedForUser removes and returns the user\'s unverified identities, oldest first, and only those', async storage => {
    const [owner, other] = [await createdUser(storage), await createdUser(storage)]
    const later = newIdentity(owner.id, { emailVerified: false, createdAt: at(HOUR) })
    const earlier = newIdentity(owner.id, { emailVerified: false, provider: 'github', issuer: 'github' })
    const noEmail = newIdentity(owner.id, { emailVerified: false, email: null, createdAt: at(2 * HOUR) })
    const verified = newIdentity(owner.id)
    const othersUnverified = newIdentity(other.id, { emailVerified: false })
    for (const identity of [later, earlier, noEmail, verified, othersUnverified]) assert.ok(await storage.identities.create(identity))

    assert.deepEqual(await storage.identities.deleteUnverifiedForUser(owner.id), [earlier, later, noEmail])
    assert.deepEqual(await storage.identities.listByUser(owner.id), [verified])
    assert.equal(await storage.identities.find(later.provider, later.issuer, later.subject), null)
    assert.deepEqual(await storage.identities.listByUser(other.id), [othersUnverified])
    assert.deepEqual(await storage.identities.deleteUnverifiedForUser(owner.id), [])
    assert.deepEqual(await storage.identities.deleteUnverifiedForUser('no-such-user'), [])
  })

  run('identities.deleteUnverifiedForUser: concurrent calls return each removed identity exactly once', async storage => {
    const owner = await createdUser(storage)
    const unverified = [0, 1, 2, 3].map(() => newIdentity(owner.id, { emailVerified: false }))
    for (const identity of unverified) assert.ok(await storage.identities.create(identity))
    const removed = (await parallel(10, () => storage.identities.deleteUnverifiedForUser(owner.id))).flat()
    assert.deepEqual(bySubject(removed), bySubject(unverified))
  })
}
