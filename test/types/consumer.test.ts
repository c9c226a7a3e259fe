import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import t from 'tap'

const root = new URL('../../', import.meta.url).pathname

// `npm test` builds dist/ before tap runs; this compiles a consumer against it through the package's
// own name and `exports` map, as a host app would, including @ts-expect-error checks.
t.test('a host app type-checks against the built package', async t => {
  const run = promisify(execFile)
  const result = await run(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', 'test/types/consumer/tsconfig.json'], { cwd: root })
    .then(() => ({ ok: true, output: '' }), (error: { stdout?: string }) => ({ ok: false, output: error.stdout ?? '' }))
  t.ok(result.ok, result.output)
})
