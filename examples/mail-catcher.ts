/**
 * A local SMTP catcher for trying the mail flows: accepts every message on 127.0.0.1:2525 (no TLS,
 * no auth) and prints it. Run `npm run mail-catcher`, then start the example with
 * EMAIL_HOST=127.0.0.1 EMAIL_PORT=2525 EMAIL_FROM=noreply@example.com.
 */
import { simpleParser } from 'mailparser'
import { SMTPServer } from 'smtp-server'

const port = Number(process.env.MAIL_CATCHER_PORT ?? 2525)
const server = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  onData (stream, session, callback) {
    simpleParser(stream).then(mail => {
      const to = session.envelope.rcptTo.map(r => r.address).join(', ')
      process.stdout.write(`\n--- mail to ${to}: ${mail.subject ?? ''}\n${mail.text ?? ''}\n`)
      callback()
    }, callback)
  }
})
server.listen(port, '127.0.0.1', () => process.stdout.write(`mail catcher listening on 127.0.0.1:${port}\n`))
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => server.close(() => process.exit(0)))
