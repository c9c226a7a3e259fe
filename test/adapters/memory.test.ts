import t from 'tap'
import { memoryBanStore } from '../../lib/adapters/memory/ban-store.ts'
import { memoryMailer, type MemoryMailer } from '../../lib/adapters/memory/mailer.ts'
import { memoryStorage } from '../../lib/adapters/memory/storage.ts'
import { banStoreConformance } from '../conformance/ban-store.ts'
import { mailerConformance } from '../conformance/mailer.ts'
import { storageConformance } from '../conformance/storage.ts'
import type { TestFn } from '../conformance/types.ts'

const test: TestFn = (name, fn) => t.test(name, async () => { await fn() })

storageConformance(test, async () => memoryStorage())
banStoreConformance(test, async () => memoryBanStore())

let mailer = memoryMailer()
mailerConformance(test, async () => (mailer = memoryMailer()), async () => mailer.outbox)

t.test('memory storage says what it is', async t => {
  t.equal(memoryStorage().kind, 'memory')
})

t.test('memoryMailer keeps a copy of each message it was given, oldest first', async t => {
  const outbox: MemoryMailer = memoryMailer()
  const first = { to: { address: 'alice@example.test', name: 'Alice' }, subject: 'One', text: 'one', html: '<p>one</p>' }
  const second = { to: { address: 'bob@example.test' }, subject: 'Two', text: 'two', html: '<p>two</p>' }
  await outbox.send(first)
  await outbox.send(second)
  first.subject = 'mutated'
  first.to.address = 'eve@evil.test'
  t.same(outbox.outbox, [
    { to: { address: 'alice@example.test', name: 'Alice' }, subject: 'One', text: 'one', html: '<p>one</p>' },
    second
  ])
  t.not(outbox.outbox[1], second)
  t.equal(outbox.verify, undefined)
  await outbox.close()
})
