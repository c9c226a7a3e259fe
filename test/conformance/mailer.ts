import assert from 'node:assert/strict'
import type { MailMessage, Mailer } from '../../lib/ports/mailer.ts'
import { email, unique, type TestFn } from './types.ts'

function message (overrides: Partial<MailMessage> = {}): MailMessage {
  const id = unique('mail')
  return {
    to: { address: email(), name: 'Alice Example' },
    subject: `Verify your email (${id})`,
    text: `Open this link to verify: https://chat.example.test/verify?token=${id}`,
    html: `<p>Open <a href="https://chat.example.test/verify?token=${id}">this link</a> to verify.</p>`,
    ...overrides
  }
}

/** The parts of a message a transport must carry unchanged (bodies compared without edge whitespace). */
function assertDelivered (actual: MailMessage | undefined, expected: MailMessage): void {
  assert.ok(actual, `no message to ${expected.to.address}`)
  assert.equal(actual.to.address, expected.to.address)
  if (actual.to.name !== undefined) assert.equal(actual.to.name, expected.to.name)
  assert.equal(actual.subject, expected.subject)
  assert.equal(actual.text.trim(), expected.text.trim())
  assert.equal(actual.html.trim(), expected.html.trim())
}

/**
 * The contract of the Mailer port (lib/ports/mailer.ts). `make` returns a new mailer; `received`
 * returns what the peer behind the last mailer made has received so far, oldest first (the memory
 * mailer's outbox, or what a local SMTP server accepted, one entry per envelope recipient).
 */
export function mailerConformance (test: TestFn, make: () => Promise<Mailer>, received: () => Promise<readonly MailMessage[]>): void {
  const run = (name: string, body: (mailer: Mailer) => Promise<void>): void => {
    test(name, async () => {
      const mailer = await make()
      try {
        await body(mailer)
      } finally {
        await mailer.close()
      }
    })
  }

  run('send resolves once the message is accepted, with recipient, subject and both bodies intact', async mailer => {
    const sent = message()
    assert.equal(await mailer.send(sent), undefined)
    const inbox = await received()
    assert.equal(inbox.length, 1)
    assertDelivered(inbox[0], sent)
  })

  run('a display name with commas, quotes and brackets stays a name: the stored address is the only recipient', async mailer => {
    const sent = message({ to: { address: email(), name: 'Eve "Admin", <attacker@evil.test>; Bcc: other@evil.test' } })
    await mailer.send(sent)
    const inbox = await received()
    assert.deepEqual(inbox.map(m => m.to.address), [sent.to.address])
    assertDelivered(inbox[0], sent)
  })

  run('a message without a display name is delivered', async mailer => {
    const sent = message({ to: { address: email() } })
    await mailer.send(sent)
    const [delivered] = await received()
    assertDelivered(delivered, sent)
    assert.ok(!delivered?.to.name, 'no display name was invented')
  })

  run('messages sent one after another all arrive, in order', async mailer => {
    const sent = [message(), message(), message()]
    for (const m of sent) await mailer.send(m)
    const inbox = await received()
    assert.equal(inbox.length, sent.length)
    sent.forEach((m, i) => assertDelivered(inbox[i], m))
  })

  run('verify, when the adapter has it, resolves', async mailer => {
    if (mailer.verify) assert.equal(await mailer.verify(), undefined)
  })
}
