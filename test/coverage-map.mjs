// Which files a test file counts coverage for: the shipped code (index.ts, lib/, plugins/) for every
// test, except tests that only drive child processes (the example server under tsx, the built CLI
// binary, the type check, the restart of an example server, the plugin without its drivers, the
// packed package in a fresh project, the browser tests), whose coverage would not map onto the same sources.
import { readdirSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const shipped = ['index.ts', ...['lib', 'plugins'].flatMap(dir =>
  readdirSync(new URL(dir, root), { recursive: true, withFileTypes: true })
    .filter(entry => entry.isFile() && entry.name.endsWith('.ts'))
    .map(entry => `${entry.parentPath.slice(root.pathname.length)}/${entry.name}`))]

export default function coverageMap (testFile) {
  if (testFile.startsWith('test/example/') || testFile.startsWith('test/types/') || testFile.startsWith('test/package/') || testFile.startsWith('test/browser/') || testFile === 'test/cli/binary.test.ts' ||
    testFile === 'test/adapters/missing-drivers.test.ts' || testFile === 'test/moderation/redis-restart.test.ts' || testFile === 'test/docs/code-blocks.test.ts') return null
  return shipped
}
