import assert from 'node:assert/strict'
import type { NewUser, Storage, User } from '../../lib/ports/storage.ts'
import { at, newUser, type TestFn } from './types.ts'

/** A case of a storage suite: the body gets a new storage from `make`, which is closed whatever happens. */
export type StorageCase = (name: string, body: (storage: Storage) => Promise<void>) => void

export function storageCases (test: TestFn, make: () => Promise<Storage>): StorageCase {
  return (name, body) => {
    test(name, async () => {
      const storage = await make()
      try {
        await body(storage)
      } finally {
        await storage.close()
      }
    })
  }
}

/** Creates a user at `T0` and returns it (asserting the store accepted it). */
export async function createdUser (storage: Storage, overrides: Partial<NewUser> = {}): Promise<User> {
  const created = await storage.users.create(newUser(overrides), at(0))
  assert.ok(created, 'the store refused a user with a fresh email')
  return created
}
