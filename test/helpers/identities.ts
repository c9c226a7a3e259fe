import type { Identity, Storage } from '../../lib/ports/storage.ts'

/**
 * Links three identities to `userId`, in this order: Google with a verified provider email (`kept`),
 * then GitHub with an unverified one and Discord without any (`unverified`, oldest first). Proving the
 * mailbox must remove exactly the unverified ones.
 */
export async function linkIdentities (storage: Storage, userId: string, email: string, at: Date): Promise<{ kept: Identity, unverified: Identity[] }> {
  const identity = (provider: string, providerEmail: string | null, emailVerified: boolean): Identity =>
    ({ provider, issuer: provider, subject: `${provider}-${userId}`, userId, email: providerEmail, emailVerified, createdAt: at })
  const kept = identity('google', email, true)
  const unverified = [identity('github', email, false), identity('discord', null, false)]
  for (const linked of [kept, ...unverified]) {
    if (await storage.identities.create(linked) === null) throw new Error(`identity ${linked.provider} already linked`)
  }
  return { kept, unverified }
}
