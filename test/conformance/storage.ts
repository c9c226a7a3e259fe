import assert from 'node:assert/strict'
import { RETIRED_HASHES_KEPT, type NewUser, type Role, type Session, type Storage, type User } from '../../lib/ports/storage.ts'
import { identityConformance } from './identities.ts'
import { createdUser, storageCases } from './storage-cases.ts'
import {
  at, DAY, hash, HOUR, MINUTE, newIdentity, newSession, newToken, newUser, parallel, rotation, sorted, email, type TestFn
} from './types.ts'

/**
 * The contract of the Storage port (lib/ports/storage.ts), as cases any runner can register.
 * `make` must return a new, empty storage each time (the first-user cases depend on it); every case
 * closes what it made. Times are explicit Dates: no case sleeps or reads a clock.
 */
export function storageConformance (test: TestFn, make: () => Promise<Storage>): void {
  const run = storageCases(test, make)
  const user = createdUser

  /** Creates a session of `userId` and returns it. */
  async function session (storage: Storage, userId: string, overrides: Partial<Parameters<typeof newSession>[1]> = {}): Promise<Session> {
    return storage.sessions.create(newSession(userId, overrides))
  }

  const expectedUser = (input: NewUser, id: string, role: Role, now: Date): User => ({
    id,
    email: input.email,
    name: input.name,
    username: input.username,
    avatar: input.avatar ?? null,
    provider: input.provider,
    role,
    emailVerified: input.emailVerified,
    emailVerifiedBy: input.emailVerifiedBy ?? null,
    passwordHash: input.passwordHash,
    disabledAt: null,
    createdAt: now,
    updatedAt: now
  })

  // ---- users ---------------------------------------------------------------------------------

  run('users.create returns the whole user: generated string id, avatar and disabledAt null, both times `now`', async storage => {
    const input = newUser()
    const created = await storage.users.create(input, at(5 * MINUTE))
    assert.ok(created)
    assert.equal(typeof created.id, 'string')
    assert.ok(created.id.length > 0)
    assert.deepEqual(created, expectedUser(input, created.id, 'ADMIN', at(5 * MINUTE)))
    assert.ok(created.createdAt instanceof Date && created.updatedAt instanceof Date)
    assert.deepEqual(await storage.users.findById(created.id), created)
    assert.deepEqual(await storage.users.findByEmail(input.email), created)
    const other = await user(storage)
    assert.notEqual(other.id, created.id)
  })

  run('users.create keeps a given id (imports), avatar, username, provider, emailVerified and emailVerifiedBy', async storage => {
    const input = newUser({
      id: '65f1c0ffee0123456789abcd',
      avatar: 'https://cdn.example.test/a.png',
      username: 'alice',
      provider: 'google',
      emailVerified: true,
      emailVerifiedBy: 'import',
      passwordHash: null,
      role: 'USER'
    })
    const created = await storage.users.create(input, at(0))
    assert.deepEqual(created, expectedUser(input, '65f1c0ffee0123456789abcd', 'USER', at(0)))
    assert.deepEqual(await storage.users.findById('65f1c0ffee0123456789abcd'), created)
  })

  run('users.create: the first user without a role becomes ADMIN, later ones USER', async storage => {
    assert.equal((await user(storage)).role, 'ADMIN')
    assert.equal((await user(storage)).role, 'USER')
    assert.equal((await user(storage)).role, 'USER')
  })

  run('users.create keeps an explicit role: USER on an empty store is never promoted, ADMIN later is kept', async storage => {
    assert.equal((await user(storage, { role: 'USER' })).role, 'USER')
    assert.equal((await user(storage, { role: 'ADMIN' })).role, 'ADMIN')
    assert.equal((await user(storage)).role, 'USER')
  })

  run('users.create returns null for a taken email and changes nothing', async storage => {
    const first = await user(storage)
    const again = await storage.users.create(newUser({ email: first.email, name: 'Someone Else', role: 'ADMIN' }), at(HOUR))
    assert.equal(again, null)
    assert.deepEqual(await storage.users.findByEmail(first.email), first)
  })

  run('users.create refuses a taken id (null or a store error), never replacing the user', async storage => {
    const first = await user(storage, { id: 'imported-user-1' })
    const otherEmail = email()
    const again = await storage.users.create(newUser({ id: 'imported-user-1', email: otherEmail }), at(HOUR)).catch((): null => null)
    assert.equal(again, null)
    assert.deepEqual(await storage.users.findById('imported-user-1'), first)
    assert.equal(await storage.users.findByEmail(otherEmail), null)
  })

  run('users.findById and findByEmail return null (not undefined) when absent', async storage => {
    assert.equal(await storage.users.findById('no-such-user'), null)
    assert.equal(await storage.users.findByEmail('nobody@example.test'), null)
    await user(storage)
    assert.equal(await storage.users.findById('no-such-user'), null)
    assert.equal(await storage.users.findByEmail('nobody@example.test'), null)
  })

  run('users.list pages through users oldest first, equal times in creation order', async storage => {
    assert.deepEqual(await storage.users.list({ offset: 0, limit: 10 }), [])
    const second = await storage.users.create(newUser(), at(HOUR))
    const first = await storage.users.create(newUser(), at(0))
    const third = await storage.users.create(newUser(), at(HOUR))
    assert.ok(first && second && third)
    assert.deepEqual((await storage.users.list({ offset: 0, limit: 10 })).map(u => u.id), [first.id, second.id, third.id])
    assert.deepEqual(await storage.users.list({ offset: 1, limit: 1 }), [second])
    assert.deepEqual(await storage.users.list({ offset: 3, limit: 10 }), [])
  })

  run('users.update applies the patch, sets updatedAt and keeps everything else', async storage => {
    const created = await user(storage)
    const patched = await storage.users.update(created.id, {
      name: 'Renamed',
      username: 'renamed',
      avatar: 'https://cdn.example.test/b.png',
      role: 'USER',
      emailVerified: true,
      emailVerifiedBy: 'operator',
      passwordHash: null,
      disabledAt: at(HOUR)
    }, at(2 * HOUR))
    const expected: User = {
      ...created,
      name: 'Renamed',
      username: 'renamed',
      avatar: 'https://cdn.example.test/b.png',
      role: 'USER',
      emailVerified: true,
      emailVerifiedBy: 'operator',
      passwordHash: null,
      disabledAt: at(HOUR),
      updatedAt: at(2 * HOUR)
    }
    assert.deepEqual(patched, expected)
    assert.deepEqual(await storage.users.findById(created.id), expected)
    const cleared = await storage.users.update(created.id, { disabledAt: null, username: null, avatar: null }, at(3 * HOUR))
    assert.deepEqual(cleared, { ...expected, disabledAt: null, username: null, avatar: null, updatedAt: at(3 * HOUR) })
    assert.deepEqual(await storage.users.findByEmail(created.email), cleared)
  })

  run('users: emailVerifiedBy defaults to null and round-trips every source through create, update, find and list', async storage => {
    const plain = await user(storage)
    assert.equal(plain.emailVerifiedBy, null)
    const sources = ['mail', 'reset', 'provider', 'operator', 'import', 'legacy'] as const
    for (const [i, source] of sources.entries()) {
      const created = await user(storage, { emailVerified: true, emailVerifiedBy: source })
      assert.equal(created.emailVerifiedBy, source)
      assert.equal((await storage.users.findById(created.id))?.emailVerifiedBy, source)
      const next = sources[(i + 1) % sources.length] as typeof source
      const updated = await storage.users.update(created.id, { emailVerifiedBy: next }, at(HOUR))
      assert.deepEqual(updated, { ...created, emailVerifiedBy: next, updatedAt: at(HOUR) })
      assert.deepEqual(await storage.users.findByEmail(created.email), updated)
    }
    const listed = await storage.users.list({ offset: 0, limit: 10 })
    assert.deepEqual(listed.map(u => u.emailVerifiedBy), [null, 'reset', 'provider', 'operator', 'import', 'legacy', 'mail'])
    const verified = listed[1] as User
    const cleared = await storage.users.update(verified.id, { emailVerified: false, emailVerifiedBy: null }, at(DAY))
    assert.deepEqual(cleared, { ...verified, emailVerified: false, emailVerifiedBy: null, updatedAt: at(DAY) })
    assert.deepEqual(await storage.users.findById(verified.id), cleared)
  })

  run('users.update with an empty patch only moves updatedAt', async storage => {
    const created = await user(storage)
    assert.deepEqual(await storage.users.update(created.id, {}, at(DAY)), { ...created, updatedAt: at(DAY) })
  })

  run('users.update returns null for an unknown id and creates nothing', async storage => {
    assert.equal(await storage.users.update('no-such-user', { name: 'Ghost' }, at(0)), null)
    assert.equal(await storage.users.findById('no-such-user'), null)
  })

  run('users: returned values are copies, mutating them changes nothing stored', async storage => {
    const created = await user(storage)
    const snapshot = structuredClone(created)
    created.name = 'Mutated'
    created.createdAt.setTime(0)
    assert.deepEqual(await storage.users.findById(snapshot.id), snapshot)
    const found = await storage.users.findById(snapshot.id)
    assert.ok(found)
    found.role = 'ADMIN'
    found.updatedAt.setTime(0)
    const byEmail = await storage.users.findByEmail(snapshot.email)
    assert.ok(byEmail)
    byEmail.passwordHash = null
    assert.deepEqual(await storage.users.findById(snapshot.id), snapshot)
    const updated = await storage.users.update(snapshot.id, { disabledAt: at(HOUR) }, at(HOUR))
    assert.ok(updated?.disabledAt)
    updated.disabledAt.setTime(0)
    updated.name = 'Mutated again'
    assert.deepEqual(await storage.users.findById(snapshot.id), { ...snapshot, disabledAt: at(HOUR), updatedAt: at(HOUR) })
  })

  run('users.create keeps its own copy of the input: mutating it afterwards changes nothing', async storage => {
    const input = newUser()
    const now = at(0)
    const created = await storage.users.create(input, now)
    assert.ok(created)
    const snapshot = structuredClone(created)
    input.name = 'Mutated'
    now.setTime(0)
    assert.deepEqual(await storage.users.findById(snapshot.id), snapshot)
  })

  run('users.update keeps its own copy of the patch and `now`: mutating them afterwards changes nothing', async storage => {
    const created = await user(storage)
    const patch = { disabledAt: at(HOUR) }
    const now = at(HOUR)
    const updated = await storage.users.update(created.id, patch, now)
    assert.ok(updated)
    const snapshot = structuredClone(updated)
    patch.disabledAt.setTime(0)
    now.setTime(0)
    assert.deepEqual(await storage.users.findById(created.id), snapshot)
  })

  run('users.delete removes the user and frees the email; deleting again or an unknown id is fine', async storage => {
    const created = await user(storage)
    assert.deepEqual(await storage.users.delete(created.id, at(MINUTE)), [])
    assert.equal(await storage.users.findById(created.id), null)
    assert.equal(await storage.users.findByEmail(created.email), null)
    assert.deepEqual(await storage.users.delete(created.id, at(MINUTE)), [])
    assert.deepEqual(await storage.users.delete('no-such-user', at(MINUTE)), [])
    const again = await storage.users.create(newUser({ email: created.email }), at(HOUR))
    assert.ok(again)
    assert.equal(again.email, created.email)
  })

  run('users.delete removes the user\'s identities and one-time tokens and revokes (keeps) their sessions, and only theirs', async storage => {
    const [doomed, kept] = [await user(storage), await user(storage)]
    const rows = async (userId: string) => ({
      identity: await storage.identities.create(newIdentity(userId)),
      session: await session(storage, userId),
      reset: await storage.oneTimeTokens.create(newToken('password_reset', userId)),
      verification: await storage.oneTimeTokens.create(newToken('email_verification', userId))
    })
    const gone = await rows(doomed.id)
    const stay = await rows(kept.id)
    const invite = await storage.oneTimeTokens.create(newToken('invite', null, { email: doomed.email }))
    assert.ok(gone.identity && stay.identity)
    const alreadyRevoked = await session(storage, doomed.id)
    await storage.sessions.revoke(alreadyRevoked.id, at(0))
    assert.deepEqual(await storage.users.delete(doomed.id, at(MINUTE)), [gone.session.id])

    assert.equal(await storage.identities.find(gone.identity.provider, gone.identity.issuer, gone.identity.subject), null)
    assert.deepEqual(await storage.identities.listByUser(doomed.id), [])
    // Revoked, not deleted: every instance's revocation mirror must still see it.
    assert.deepEqual(await storage.sessions.findById(gone.session.id), { ...gone.session, revokedAt: at(MINUTE) })
    assert.deepEqual(await storage.sessions.findById(alreadyRevoked.id), { ...alreadyRevoked, revokedAt: at(0) })
    assert.deepEqual(await storage.sessions.listLiveByUser(doomed.id, at(MINUTE)), [])
    assert.ok((await storage.sessions.listRevokedSince(at(MINUTE))).revocations.some(r => r.id === gone.session.id))
    assert.equal(await storage.oneTimeTokens.consume('password_reset', gone.reset.tokenHash, at(MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.consume('email_verification', gone.verification.tokenHash, at(MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.deleteForUser(doomed.id), 0)

    assert.deepEqual(await storage.users.findById(kept.id), kept)
    assert.deepEqual(await storage.identities.find(stay.identity.provider, stay.identity.issuer, stay.identity.subject), stay.identity)
    assert.deepEqual(await storage.sessions.findById(stay.session.id), stay.session)
    assert.ok(await storage.oneTimeTokens.consume('password_reset', stay.reset.tokenHash, at(MINUTE)))
    assert.ok(await storage.oneTimeTokens.consume('email_verification', stay.verification.tokenHash, at(MINUTE)))
    // An invitation is addressed to an email, not owned by a user: it outlives them.
    assert.ok(await storage.oneTimeTokens.consume('invite', invite.tokenHash, at(MINUTE)))
  })

  run('users.create: 20 concurrent first creations without a role all succeed and exactly one is ADMIN', async storage => {
    const created = await parallel(20, () => storage.users.create(newUser(), at(0)))
    assert.ok(created.every(u => u !== null), 'every creation with a fresh email succeeds')
    assert.equal(new Set(created.map(u => u?.id)).size, 20)
    assert.equal(created.filter(u => u?.role === 'ADMIN').length, 1)
    assert.equal(created.filter(u => u?.role === 'USER').length, 19)
  })

  run('users.create: of 20 concurrent creations with one email exactly one succeeds', async storage => {
    const shared = email()
    const created = await parallel(20, i => storage.users.create(newUser({ email: shared, name: `Racer ${i}` }), at(0)))
    const winners = created.filter(u => u !== null)
    assert.equal(winners.length, 1)
    assert.deepEqual(await storage.users.findByEmail(shared), winners[0])
  })

  // ---- identities (identities.ts) -----------------------------------------------------------

  identityConformance(run)

  // ---- sessions ------------------------------------------------------------------------------

  run('sessions.create returns the session: not rotated, no retired hashes, lastUsedAt = createdAt, not revoked', async storage => {
    const owner = await user(storage)
    const input = newSession(owner.id)
    const expected: Session = { ...input, previousTokenHash: null, rotatedAt: null, retiredTokenHashes: [], lastUsedAt: input.createdAt, revokedAt: null }
    assert.deepEqual(await storage.sessions.create(input), expected)
    assert.deepEqual(await storage.sessions.findById(input.id), expected)
    const anonymous = newSession(owner.id, { userAgent: null, ip: null })
    const created = await storage.sessions.create(anonymous)
    assert.equal(created.userAgent, null)
    assert.equal(created.ip, null)
    assert.deepEqual(await storage.sessions.findById(anonymous.id), created)
  })

  run('sessions.create rejects a duplicate id and keeps the first session', async storage => {
    const owner = await user(storage)
    const first = await session(storage, owner.id)
    await assert.rejects(storage.sessions.create(newSession(owner.id, { id: first.id })))
    assert.deepEqual(await storage.sessions.findById(first.id), first)
  })

  run('sessions.findById returns null when absent', async storage => {
    assert.equal(await storage.sessions.findById('no-such-session'), null)
  })

  run('sessions.rotate swaps the hash, keeps the old one as previous, and moves lastUsedAt, expiry, agent and ip', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    const next = rotation({ at: at(HOUR) })
    const expected: Session = {
      ...created,
      refreshTokenHash: next.refreshTokenHash,
      previousTokenHash: created.refreshTokenHash,
      rotatedAt: at(HOUR),
      retiredTokenHashes: [],
      lastUsedAt: at(HOUR),
      expiresAt: at(HOUR + 7 * DAY),
      userAgent: next.userAgent,
      ip: next.ip
    }
    assert.deepEqual(await storage.sessions.rotate(created.id, created.refreshTokenHash, next), expected)
    assert.deepEqual(await storage.sessions.findById(created.id), expected)
  })

  run(`sessions.rotate retires earlier hashes newest first, keeping ${RETIRED_HASHES_KEPT}`, async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    const hashes = [created.refreshTokenHash]
    for (let k = 1; k <= RETIRED_HASHES_KEPT + 3; k++) {
      const next = rotation({ at: at(k * MINUTE) })
      const rotated = await storage.sessions.rotate(created.id, hashes[k - 1] as string, next)
      hashes.push(next.refreshTokenHash)
      assert.ok(rotated, `rotation ${k}`)
      assert.equal(rotated.refreshTokenHash, hashes[k])
      assert.equal(rotated.previousTokenHash, hashes[k - 1])
      assert.deepEqual(rotated.retiredTokenHashes, hashes.slice(0, Math.max(0, k - 1)).reverse().slice(0, RETIRED_HASHES_KEPT))
      assert.deepEqual(await storage.sessions.findById(created.id), rotated)
    }
  })

  run('sessions.rotate returns null for a wrong expected hash (the previous one too) and changes nothing', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    assert.equal(await storage.sessions.rotate(created.id, hash(), rotation()), null)
    assert.deepEqual(await storage.sessions.findById(created.id), created)
    const rotated = await storage.sessions.rotate(created.id, created.refreshTokenHash, rotation())
    assert.ok(rotated)
    assert.equal(await storage.sessions.rotate(created.id, created.refreshTokenHash, rotation({ at: at(2 * MINUTE) })), null)
    assert.deepEqual(await storage.sessions.findById(created.id), rotated)
  })

  run('sessions.rotate returns null for an unknown id', async storage => {
    assert.equal(await storage.sessions.rotate('no-such-session', hash(), rotation()), null)
  })

  run('sessions.rotate refuses a revoked session', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    assert.equal(await storage.sessions.revoke(created.id, at(MINUTE)), true)
    assert.equal(await storage.sessions.rotate(created.id, created.refreshTokenHash, rotation({ at: at(2 * MINUTE) })), null)
    assert.equal((await storage.sessions.findById(created.id))?.refreshTokenHash, created.refreshTokenHash)
  })

  run('sessions.rotate refuses once the sliding expiry is reached (at it and after), not just before', async storage => {
    const owner = await user(storage)
    const [before, exactly, after] = [await session(storage, owner.id), await session(storage, owner.id), await session(storage, owner.id)]
    assert.ok(await storage.sessions.rotate(before.id, before.refreshTokenHash, rotation({ at: at(7 * DAY - 1) })))
    assert.equal(await storage.sessions.rotate(exactly.id, exactly.refreshTokenHash, rotation({ at: at(7 * DAY) })), null)
    assert.equal(await storage.sessions.rotate(after.id, after.refreshTokenHash, rotation({ at: at(8 * DAY) })), null)
    assert.deepEqual(await storage.sessions.findById(exactly.id), exactly)
  })

  run('sessions.rotate refuses once the absolute expiry is reached, even with the sliding one ahead', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id, { expiresAt: at(7 * DAY), absoluteExpiresAt: at(DAY) })
    assert.equal(await storage.sessions.rotate(created.id, created.refreshTokenHash, rotation({ at: at(DAY) })), null)
    assert.deepEqual(await storage.sessions.findById(created.id), created)
  })

  run('sessions.rotate never moves expiresAt past absoluteExpiresAt, nor absoluteExpiresAt or createdAt', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id, { expiresAt: at(30 * DAY) })
    const rotated = await storage.sessions.rotate(created.id, created.refreshTokenHash, rotation({ at: at(29 * DAY), expiresAt: at(36 * DAY) }))
    assert.ok(rotated)
    assert.deepEqual(rotated.expiresAt, at(30 * DAY))
    assert.deepEqual(rotated.absoluteExpiresAt, at(30 * DAY))
    assert.deepEqual(rotated.createdAt, created.createdAt)
  })

  run('sessions.rotate: of 20 concurrent rotations with the same expected hash exactly one wins', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    const nexts = Array.from({ length: 20 }, () => rotation())
    const results = await parallel(20, i => storage.sessions.rotate(created.id, created.refreshTokenHash, nexts[i] as ReturnType<typeof rotation>))
    const winners = results.filter(r => r !== null)
    assert.equal(winners.length, 1)
    const stored = await storage.sessions.findById(created.id)
    assert.deepEqual(stored, winners[0])
    assert.equal(stored?.previousTokenHash, created.refreshTokenHash)
    assert.deepEqual(stored?.retiredTokenHashes, [])
  })

  run('sessions.revoke returns true once, then false, and keeps the first revocation time; false for an unknown id', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    assert.equal(await storage.sessions.revoke(created.id, at(MINUTE)), true)
    assert.equal(await storage.sessions.revoke(created.id, at(2 * MINUTE)), false)
    assert.deepEqual(await storage.sessions.findById(created.id), { ...created, revokedAt: at(MINUTE) })
    assert.equal(await storage.sessions.revoke('no-such-session', at(MINUTE)), false)
  })

  run('sessions.revokeAllForUser revokes every live session but exceptId and returns exactly their ids', async storage => {
    const [a, b] = [await user(storage), await user(storage)]
    const [s1, s2, s3, current] = [
      await session(storage, a.id), await session(storage, a.id), await session(storage, a.id), await session(storage, a.id)
    ]
    const others = await session(storage, b.id)
    assert.equal(await storage.sessions.revoke(s3.id, at(MINUTE)), true)

    assert.deepEqual(sorted(await storage.sessions.revokeAllForUser(a.id, at(5 * MINUTE), current.id)), sorted([s1.id, s2.id]))
    assert.deepEqual(await storage.sessions.findById(s1.id), { ...s1, revokedAt: at(5 * MINUTE) })
    assert.deepEqual(await storage.sessions.findById(s2.id), { ...s2, revokedAt: at(5 * MINUTE) })
    assert.deepEqual(await storage.sessions.findById(s3.id), { ...s3, revokedAt: at(MINUTE) })
    assert.deepEqual(await storage.sessions.findById(current.id), current)
    assert.deepEqual(await storage.sessions.findById(others.id), others)

    assert.deepEqual(await storage.sessions.revokeAllForUser(a.id, at(6 * MINUTE)), [current.id])
    assert.deepEqual(await storage.sessions.revokeAllForUser(a.id, at(7 * MINUTE)), [])
    assert.deepEqual(await storage.sessions.revokeAllForUser('no-such-user', at(7 * MINUTE)), [])
    assert.deepEqual(await storage.sessions.findById(others.id), others)
  })

  run('sessions.purge deletes sessions that ended (revoked or expired) before `before`, and only those', async storage => {
    const owner = await user(storage)
    const revokedEarly = await session(storage, owner.id)
    await storage.sessions.revoke(revokedEarly.id, at(HOUR))
    const revokedLate = await session(storage, owner.id)
    await storage.sessions.revoke(revokedLate.id, at(3 * HOUR))
    const idleEnded = await session(storage, owner.id, { expiresAt: at(HOUR) })
    const capped = await session(storage, owner.id, { expiresAt: at(DAY), absoluteExpiresAt: at(HOUR) })
    const live = await session(storage, owner.id, { expiresAt: at(DAY) })
    const endsAtCut = await session(storage, owner.id, { expiresAt: at(2 * HOUR) })
    assert.equal(await storage.sessions.purge(at(2 * HOUR)), 3)
    for (const gone of [revokedEarly, idleEnded, capped]) assert.equal(await storage.sessions.findById(gone.id), null)
    for (const kept of [revokedLate, live, endsAtCut]) assert.ok(await storage.sessions.findById(kept.id))
    assert.equal(await storage.sessions.purge(at(2 * HOUR)), 0)
  })

  run('oneTimeTokens.purge deletes tokens expired or consumed before `before`', async storage => {
    const owner = await user(storage)
    const expired = await storage.oneTimeTokens.create(newToken('password_reset', owner.id, { expiresAt: at(HOUR) }))
    const consumed = await storage.oneTimeTokens.create(newToken('email_verification', owner.id, { expiresAt: at(DAY) }))
    assert.ok(await storage.oneTimeTokens.consume('email_verification', consumed.tokenHash, at(MINUTE)))
    const fresh = await storage.oneTimeTokens.create(newToken('password_reset', owner.id, { expiresAt: at(DAY) }))
    assert.equal(await storage.oneTimeTokens.purge(at(2 * HOUR)), 2)
    assert.equal(await storage.oneTimeTokens.consume('password_reset', expired.tokenHash, at(0)), null)
    assert.ok(await storage.oneTimeTokens.consume('password_reset', fresh.tokenHash, at(2 * HOUR)))
    assert.equal(await storage.oneTimeTokens.purge(at(2 * HOUR)), 0, 'consumed at the cut: not before it')
    assert.equal(await storage.oneTimeTokens.purge(at(3 * HOUR)), 1, 'the one just consumed goes next time')
  })

  run('sessions.listRevokedSince from a Date lists every session revoked at or after it, with its revocation time', async storage => {
    const [a, b] = [await user(storage), await user(storage)]
    const [early, onTime, late, live, otherUser] = [
      await session(storage, a.id), await session(storage, a.id), await session(storage, a.id), await session(storage, a.id), await session(storage, b.id)
    ]
    await storage.sessions.revoke(early.id, at(MINUTE))
    await storage.sessions.revoke(onTime.id, at(2 * MINUTE))
    await storage.sessions.revoke(late.id, at(3 * MINUTE))
    await storage.sessions.revoke(otherUser.id, at(4 * MINUTE))
    const found = (await storage.sessions.listRevokedSince(at(2 * MINUTE))).revocations
    assert.deepEqual(
      [...found].sort((x, y) => x.revokedAt.getTime() - y.revokedAt.getTime()),
      [{ id: onTime.id, revokedAt: at(2 * MINUTE) }, { id: late.id, revokedAt: at(3 * MINUTE) }, { id: otherUser.id, revokedAt: at(4 * MINUTE) }]
    )
    assert.ok(found.every(r => r.revokedAt instanceof Date && typeof r.id === 'string'))
    assert.ok(!found.some(r => r.id === live.id))
    const none = await storage.sessions.listRevokedSince(at(5 * MINUTE))
    assert.deepEqual(none.revocations, [])
    assert.equal(typeof none.cursor, 'string')
  })

  run('sessions.listRevokedSince sees revocations by revokeAllForUser', async storage => {
    const owner = await user(storage)
    const [s1, s2] = [await session(storage, owner.id), await session(storage, owner.id)]
    await storage.sessions.revokeAllForUser(owner.id, at(HOUR))
    assert.deepEqual(sorted((await storage.sessions.listRevokedSince(at(0))).revocations.map(r => r.id)), sorted([s1.id, s2.id]))
  })

  run('sessions.listRevokedSince from a cursor lists every later revocation, whatever time the revoker\'s clock gave it', async storage => {
    const owner = await user(storage)
    const [before, behind, ahead, viaAll, alsoViaAll, live] = [
      await session(storage, owner.id), await session(storage, owner.id), await session(storage, owner.id),
      await session(storage, owner.id), await session(storage, owner.id), await session(storage, owner.id)
    ]
    await storage.sessions.revoke(before.id, at(DAY))
    const first = await storage.sessions.listRevokedSince(at(DAY))
    assert.deepEqual(first.revocations.map(r => r.id), [before.id])

    // Revoked after the cursor was handed out, by clocks a day behind, 6 s behind and ahead.
    await storage.sessions.revoke(behind.id, at(0))
    await storage.sessions.revoke(ahead.id, at(2 * DAY))
    await storage.sessions.revokeAllForUser(owner.id, at(DAY - 6000), live.id)
    const second = await storage.sessions.listRevokedSince(first.cursor)
    const seen = new Map(second.revocations.map(r => [r.id, r.revokedAt]))
    assert.deepEqual(seen.get(behind.id), at(0), 'a revocation stamped a day before the cursor is listed')
    assert.deepEqual(seen.get(ahead.id), at(2 * DAY))
    assert.deepEqual(seen.get(viaAll.id), at(DAY - 6000))
    assert.deepEqual(seen.get(alsoViaAll.id), at(DAY - 6000))
    assert.ok(!seen.has(live.id))

    // A user's deletion revokes through the feed too; the cursor moves on.
    const other = await user(storage)
    const orphan = await session(storage, other.id)
    await storage.users.delete(other.id, at(0))
    const third = await storage.sessions.listRevokedSince(second.cursor)
    assert.ok(third.revocations.some(r => r.id === orphan.id))
    assert.ok(!third.revocations.some(r => r.id === live.id))
  })

  run('sessions.listLiveByUser: sessions created in the same millisecond come later-created first', async storage => {
    const owner = await user(storage)
    const first = await session(storage, owner.id, { createdAt: at(HOUR) })
    const second = await session(storage, owner.id, { createdAt: at(HOUR) })
    const third = await session(storage, owner.id, { createdAt: at(HOUR) })
    assert.deepEqual((await storage.sessions.listLiveByUser(owner.id, at(2 * HOUR))).map(s => s.id), [third.id, second.id, first.id])
  })

  run('sessions.listLiveByUser lists the user\'s live sessions at `now`, newest first', async storage => {
    const [a, b] = [await user(storage), await user(storage)]
    assert.deepEqual(await storage.sessions.listLiveByUser(a.id, at(0)), [])
    const oldest = await session(storage, a.id, { createdAt: at(0) })
    const newest = await session(storage, a.id, { createdAt: at(2 * HOUR) })
    const middle = await session(storage, a.id, { createdAt: at(HOUR) })
    const revoked = await session(storage, a.id, { createdAt: at(3 * HOUR) })
    await storage.sessions.revoke(revoked.id, at(3 * HOUR))
    const endsNow = await session(storage, a.id, { createdAt: at(4 * HOUR), expiresAt: at(2 * DAY) })
    const ended = await session(storage, a.id, { createdAt: at(5 * HOUR), expiresAt: at(DAY) })
    const capped = await session(storage, a.id, { createdAt: at(6 * HOUR), expiresAt: at(7 * DAY), absoluteExpiresAt: at(2 * DAY) })
    const slid = await session(storage, a.id, { createdAt: at(7 * HOUR), expiresAt: at(DAY) })
    assert.ok(await storage.sessions.rotate(slid.id, slid.refreshTokenHash, rotation({ at: at(12 * HOUR) })))
    await session(storage, b.id, { createdAt: at(8 * HOUR) })

    const live = await storage.sessions.listLiveByUser(a.id, at(2 * DAY))
    assert.deepEqual(live.map(s => s.id), [slid.id, newest.id, middle.id, oldest.id])
    assert.deepEqual(live[1], newest)
    assert.deepEqual(live[0], await storage.sessions.findById(slid.id))
    const earlier = await storage.sessions.listLiveByUser(a.id, at(2 * DAY - 1))
    assert.deepEqual(earlier.map(s => s.id), [slid.id, capped.id, endsNow.id, newest.id, middle.id, oldest.id])
    assert.ok(!earlier.some(s => s.id === ended.id || s.id === revoked.id))
  })

  run('sessions: returned values are copies, mutating them changes nothing stored', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    const snapshot = structuredClone(created)
    created.retiredTokenHashes.push('injected')
    created.expiresAt.setTime(0)
    created.refreshTokenHash = 'mutated'
    assert.deepEqual(await storage.sessions.findById(snapshot.id), snapshot)

    const rotated = await storage.sessions.rotate(snapshot.id, snapshot.refreshTokenHash, rotation())
    assert.ok(rotated)
    const rotatedSnapshot = structuredClone(rotated)
    rotated.retiredTokenHashes.push('injected')
    rotated.revokedAt = at(0)
    rotated.absoluteExpiresAt.setTime(0)
    const found = await storage.sessions.findById(snapshot.id)
    assert.deepEqual(found, rotatedSnapshot)
    assert.ok(found)
    found.revokedAt = at(0)
    found.lastUsedAt.setTime(0)
    const [listed] = await storage.sessions.listLiveByUser(owner.id, at(HOUR))
    assert.deepEqual(listed, rotatedSnapshot)
    listed?.expiresAt.setTime(0)
    assert.deepEqual(await storage.sessions.listLiveByUser(owner.id, at(HOUR)), [rotatedSnapshot])
  })

  run('sessions.create keeps its own copy of the input: mutating it afterwards changes nothing', async storage => {
    const owner = await user(storage)
    const input = newSession(owner.id)
    const created = await storage.sessions.create(input)
    const snapshot = structuredClone(created)
    input.createdAt.setTime(0)
    input.expiresAt.setTime(0)
    input.refreshTokenHash = 'mutated'
    assert.deepEqual(await storage.sessions.findById(snapshot.id), snapshot)
  })

  run('sessions.rotate keeps its own copy of the rotation: mutating it afterwards changes nothing', async storage => {
    const owner = await user(storage)
    const created = await session(storage, owner.id)
    const next = rotation()
    const rotated = await storage.sessions.rotate(created.id, created.refreshTokenHash, next)
    assert.ok(rotated)
    const snapshot = structuredClone(rotated)
    next.at.setTime(0)
    next.expiresAt.setTime(0)
    assert.deepEqual(await storage.sessions.findById(created.id), snapshot)
  })

  run('sessions.revoke keeps its own copy of `at`', async storage => {
    const owner = await user(storage)
    const one = await session(storage, owner.id)
    const when = at(MINUTE)
    await storage.sessions.revoke(one.id, when)
    when.setTime(0)
    assert.deepEqual((await storage.sessions.findById(one.id))?.revokedAt, at(MINUTE))
  })

  run('sessions.revokeAllForUser keeps its own copy of `at`', async storage => {
    const owner = await user(storage)
    const two = await session(storage, owner.id)
    const later = at(2 * MINUTE)
    assert.deepEqual(await storage.sessions.revokeAllForUser(owner.id, later), [two.id])
    later.setTime(0)
    assert.deepEqual((await storage.sessions.findById(two.id))?.revokedAt, at(2 * MINUTE))
  })

  // ---- one-time tokens -----------------------------------------------------------------------

  run('oneTimeTokens.create returns the token, not consumed', async storage => {
    const owner = await user(storage)
    const input = newToken('password_reset', owner.id)
    assert.deepEqual(await storage.oneTimeTokens.create(input), { ...input, consumedAt: null })
    const invite = newToken('invite', null)
    assert.deepEqual(await storage.oneTimeTokens.create(invite), { ...invite, consumedAt: null })
  })

  run('oneTimeTokens.consume returns the token consumed at `now`, once; null for an unknown hash', async storage => {
    const owner = await user(storage)
    const input = newToken('email_verification', owner.id)
    await storage.oneTimeTokens.create(input)
    assert.deepEqual(await storage.oneTimeTokens.consume('email_verification', input.tokenHash, at(MINUTE)), { ...input, consumedAt: at(MINUTE) })
    assert.equal(await storage.oneTimeTokens.consume('email_verification', input.tokenHash, at(2 * MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.consume('email_verification', hash(), at(MINUTE)), null)
  })

  run('oneTimeTokens.consume is purpose-bound; one hash under two purposes is two tokens', async storage => {
    const owner = await user(storage)
    const reset = newToken('password_reset', owner.id)
    await storage.oneTimeTokens.create(reset)
    assert.equal(await storage.oneTimeTokens.consume('email_verification', reset.tokenHash, at(MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.consume('invite', reset.tokenHash, at(MINUTE)), null)
    const verification = newToken('email_verification', owner.id, { tokenHash: reset.tokenHash })
    await storage.oneTimeTokens.create(verification)
    assert.deepEqual(await storage.oneTimeTokens.consume('password_reset', reset.tokenHash, at(MINUTE)), { ...reset, consumedAt: at(MINUTE) })
    assert.deepEqual(await storage.oneTimeTokens.consume('email_verification', reset.tokenHash, at(MINUTE)), { ...verification, consumedAt: at(MINUTE) })
  })

  run('oneTimeTokens.consume refuses a token at and after its expiry, not just before', async storage => {
    const owner = await user(storage)
    const [before, exactly, after] = [newToken('password_reset', owner.id), newToken('password_reset', owner.id), newToken('password_reset', owner.id)]
    for (const token of [before, exactly, after]) await storage.oneTimeTokens.create(token)
    assert.ok(await storage.oneTimeTokens.consume('password_reset', before.tokenHash, at(15 * MINUTE - 1)))
    assert.equal(await storage.oneTimeTokens.consume('password_reset', exactly.tokenHash, at(15 * MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.consume('password_reset', after.tokenHash, at(HOUR)), null)
  })

  run('oneTimeTokens.consume: of 20 concurrent consumers exactly one gets the token', async storage => {
    const owner = await user(storage)
    const input = newToken('password_reset', owner.id)
    await storage.oneTimeTokens.create(input)
    const results = await parallel(20, () => storage.oneTimeTokens.consume('password_reset', input.tokenHash, at(MINUTE)))
    assert.deepEqual(results.filter(r => r !== null), [{ ...input, consumedAt: at(MINUTE) }])
    assert.equal(await storage.oneTimeTokens.consume('password_reset', input.tokenHash, at(MINUTE)), null)
  })

  run('oneTimeTokens.deleteForUser deletes one purpose or all, only the user\'s, and counts them', async storage => {
    const [a, b] = [await user(storage), await user(storage)]
    const resets = [newToken('password_reset', a.id), newToken('password_reset', a.id)]
    const verification = newToken('email_verification', a.id)
    const consumed = newToken('email_verification', a.id)
    const others = newToken('password_reset', b.id)
    const invite = newToken('invite', null, { email: a.email })
    for (const token of [...resets, verification, consumed, others, invite]) await storage.oneTimeTokens.create(token)
    assert.ok(await storage.oneTimeTokens.consume('email_verification', consumed.tokenHash, at(MINUTE)))

    assert.equal(await storage.oneTimeTokens.deleteForUser(a.id, 'invite'), 0)
    assert.equal(await storage.oneTimeTokens.deleteForUser(a.id, 'password_reset'), 2)
    for (const token of resets) assert.equal(await storage.oneTimeTokens.consume('password_reset', token.tokenHash, at(MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.deleteForUser(a.id), 2)
    assert.equal(await storage.oneTimeTokens.consume('email_verification', verification.tokenHash, at(MINUTE)), null)
    assert.equal(await storage.oneTimeTokens.deleteForUser(a.id), 0)
    assert.equal(await storage.oneTimeTokens.deleteForUser('no-such-user'), 0)
    assert.ok(await storage.oneTimeTokens.consume('password_reset', others.tokenHash, at(MINUTE)))
    assert.ok(await storage.oneTimeTokens.consume('invite', invite.tokenHash, at(MINUTE)))
  })

  run('oneTimeTokens: the input and returned values are copies', async storage => {
    const owner = await user(storage)
    const input = newToken('password_reset', owner.id)
    const created = await storage.oneTimeTokens.create(input)
    input.expiresAt.setTime(at(DAY).getTime())
    created.expiresAt.setTime(at(DAY).getTime())
    created.consumedAt = at(0)
    assert.equal(await storage.oneTimeTokens.consume('password_reset', input.tokenHash, at(HOUR)), null, 'still expires after 15 minutes')
    const other = newToken('password_reset', owner.id)
    await storage.oneTimeTokens.create(other)
    const consumed = await storage.oneTimeTokens.consume('password_reset', other.tokenHash, at(MINUTE))
    assert.ok(consumed)
    consumed.consumedAt = null
    assert.equal(await storage.oneTimeTokens.consume('password_reset', other.tokenHash, at(MINUTE)), null)
  })
}
