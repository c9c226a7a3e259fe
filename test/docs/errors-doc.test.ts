import { readFile } from 'node:fs/promises'
import t from 'tap'
import { errorCodes } from '../../index.ts'

// docs/errors.md lists every error code in a table row `| \`CODE\` | status | ... |`.
const ROW = /^\|\s*`(FST_LCAUTH_[A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|/
const ANY_CODE = /\bFST_LCAUTH_[A-Z0-9]+(?:_[A-Z0-9]+)*\b/g

const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8')

const rows = new Map<string, number[]>()
for (const line of doc.split('\n')) {
  const match = ROW.exec(line)
  if (match === null) continue
  const [, code, status] = match as unknown as [string, string, string]
  rows.set(code, [...(rows.get(code) ?? []), Number(status)])
}

t.test('every error code has one row in docs/errors.md with its status', async t => {
  t.ok(errorCodes.length > 0, 'errorCodes is not empty')
  for (const { code, statusCode } of errorCodes) {
    t.same(rows.get(code), [statusCode], `${code} is documented once, with status ${statusCode}`)
  }
})

t.test('docs/errors.md names no code that does not exist', async t => {
  const known = new Set<string>(errorCodes.map(e => e.code))
  const named = new Set(doc.match(ANY_CODE) ?? [])
  t.ok(named.size > 0, 'the doc names codes')
  for (const code of named) t.ok(known.has(code), `${code} exists in lib/errors.ts`)
  for (const code of rows.keys()) t.ok(known.has(code), `the table row ${code} exists in lib/errors.ts`)
})
