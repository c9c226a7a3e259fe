import t from 'tap'
import { exampleConsole } from '../../examples/console.ts'
import { summaryText } from '../../examples/startup-summary.ts'

// The example's log destination: JSON lines through a pipe, short human lines on a terminal.

function capture (isTTY: boolean): { out: { write: (s: string) => void, isTTY: boolean }, text: () => string } {
  let text = ''
  return { out: { write: (s: string) => { text += s }, isTTY }, text: () => text }
}

const line = (entry: Record<string, unknown>): string => `${JSON.stringify({ time: Date.UTC(2030, 0, 1, 12, 0, 0), pid: 1, hostname: 'h', ...entry })}\n`

t.test('through a pipe: the JSON lines as they are; warnings kept', async t => {
  const { out, text } = capture(false)
  const console = exampleConsole(out)
  t.equal(console.pretty, false)
  const warn = line({ level: 40, msg: 'storage is in memory', event: 'lcauth.config_warning' })
  console.stream.write(line({ level: 30, msg: 'hello' }))
  console.stream.write(warn)
  t.equal(text(), line({ level: 30, msg: 'hello' }) + warn)
  t.same(console.warnings, ['storage is in memory'])
})

t.test('on a terminal: one short line per entry, one per request', async t => {
  const { out, text } = capture(true)
  const console = exampleConsole(out)
  t.equal(console.pretty, true)
  console.stream.write(line({ level: 40, msg: 'careful', event: 'lcauth.config_warning' }))
  console.stream.write(line({ level: 30, reqId: 'req-1', req: { method: 'POST', url: '/api/auth/login' }, msg: 'incoming request' }))
  console.stream.write(line({ level: 30, reqId: 'req-1', res: { statusCode: 401 }, responseTime: 12.4, msg: 'request completed' }))
  console.stream.write(line({ level: 50, msg: 'failed', err: { message: 'boom', stack: 'Error: boom\n    at x' } }))
  console.stream.write('not json\n')
  const lines = text().split('\n')
  t.match(lines[0], /^\d\d:\d\d:\d\d WARN {2}careful event=lcauth\.config_warning$/)
  t.match(lines[1], /INFO {2}POST \/api\/auth\/login → 401 \(12 ms\)$/, 'the incoming line folded into the completed one')
  t.match(lines[2], /ERROR failed: Error: boom/)
  t.equal(lines.at(-2), 'not json')
  t.same(console.warnings, ['careful', 'failed'])
})

t.test('the summary block', async t => {
  const text = summaryText({ url: 'http://127.0.0.1:3080', storage: 'SQLite, data/librechat-auth.db', mail: 'development inbox at http://127.0.0.1:3080/dev/mail (nothing is sent)', signIn: ['email and password', 'registration open', 'GitHub'], envFile: '.env', warnings: ['one'] })
  t.match(text, /Open {6}http:\/\/127\.0\.0\.1:3080\n/)
  t.match(text, /Sign-in {3}email and password, registration open, GitHub\n/)
  t.match(text, /Loaded {4}\.env\n/)
  t.match(text, /Warnings {2}1\n {4}- one\n/)
  t.notMatch(summaryText({ url: 'u', storage: 's', mail: 'm', signIn: [], envFile: null, warnings: [] }), /Loaded/)
})
