// Runs tap. Full coverage of lib/ and plugins/ is enforced when the service-backed suites run
// (REQUIRE_SERVICES=1, as in CI, or both DATABASE_URL and REDIS_URI set); a local run without
// PostgreSQL or Redis skips those suites, and then the branches only they reach cannot be covered.
// The browser suite (test/browser/) needs Debian's Chromium; without it, it is skipped the same way.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

const services = process.env.REQUIRE_SERVICES === '1' || ((process.env.DATABASE_URL ?? '') !== '' && (process.env.REDIS_URI ?? '') !== '')
const args = process.argv.slice(2)
if (!services) {
  process.stdout.write('# service-backed suites skipped (DATABASE_URL or REDIS_URI unset): coverage is reported, not enforced\n')
  args.push('--allow-incomplete-coverage')
}
if (!existsSync('/usr/bin/chromium') && process.env.REQUIRE_SERVICES !== '1') {
  process.stdout.write('# browser suite skipped (/usr/bin/chromium is missing: apt-get install chromium)\n')
}
const child = spawn(process.execPath, [new URL('../node_modules/tap/dist/esm/run.mjs', import.meta.url).pathname, ...args], { stdio: 'inherit' })
child.on('exit', (code, signal) => { process.exitCode = signal === null ? code ?? 1 : 1 })
