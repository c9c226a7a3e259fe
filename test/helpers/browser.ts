import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { access, constants, mkdir } from 'node:fs/promises'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { dataDir, type RunningExample, startExample } from './example.ts'

// The browser suite: Debian's Chromium (never a downloaded one) driven by playwright-core, against the
// example server started the way a user starts it, with its web pages and its development inbox.

const root = new URL('../../', import.meta.url).pathname

/** Debian's Chromium; CI installs it (.ci/run). */
export const CHROMIUM = '/usr/bin/chromium'

/** Headless, no sandbox (CI runs as root), and nothing that reaches the network on its own. */
const ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-default-apps',
  '--disable-domain-reliability',
  '--disable-extensions',
  '--disable-sync',
  '--metrics-recording-only',
  '--no-first-run',
  '--no-pings',
  '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication'
]

interface Tap {
  fail(message: string): unknown
  comment(message: string): unknown
  plan(count: number): unknown
  teardown(fn: () => unknown): unknown
}

/**
 * One Chromium for the test file, closed at its end. Without /usr/bin/chromium the file is skipped
 * with a one-line comment, unless REQUIRE_SERVICES=1 (CI), which makes the skip a failure; null then.
 */
export async function launchBrowser (t: Tap): Promise<Browser | null> {
  if (!await access(CHROMIUM, constants.X_OK).then(() => true, () => false)) {
    if (process.env.REQUIRE_SERVICES === '1') {
      t.fail(`${CHROMIUM} is missing, and REQUIRE_SERVICES=1 forbids skipping the browser suite (apt-get install chromium)`)
    } else {
      t.comment(`browser suite skipped: ${CHROMIUM} is missing (apt-get install chromium)`)
      t.plan(0)
    }
    return null
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS })
  t.teardown(() => browser.close())
  return browser
}

export interface BrowserExample extends RunningExample {
  /** Its DATA_DIR (SQLite file and development secrets), for the CLI. */
  dataDir: string
}

/**
 * The example server on loopback, configured by variables only, with a fresh DATA_DIR; no EMAIL_*,
 * so its mail goes to the development inbox (/dev/mail). It runs in that folder, so a developer's
 * ./.env in the repository cannot change what the suite sees.
 */
export async function startBrowserExample (t: Tap, env: Record<string, string> = {}): Promise<BrowserExample> {
  const dir = await dataDir()
  const example = await startExample({ NODE_ENV: 'development', DATA_DIR: dir, ...env }, { cwd: dir })
  t.teardown(example.stop)
  return { ...example, dataDir: dir }
}

/**
 * A new "browser" (its own cookies and storage) on the example's origin, 1024x700. Requests to
 * anything but loopback are refused, so a page (an avatar URL, say) never reaches the internet.
 */
export async function newBrowser (browser: Browser, example: RunningExample): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: example.url, viewport: { width: 1024, height: 700 } })
  context.setDefaultTimeout(10_000)
  await context.route(url => !['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname), route => route.abort('blockedbyclient'))
  return context
}

export interface DevMail { to: string, subject: string, text: string, html: string, links: string[], at: string }

/** The development inbox as /dev/mail.json serves it, newest first. */
export async function inbox (example: RunningExample): Promise<DevMail[]> {
  const response = await fetch(`${example.url}/dev/mail.json`)
  if (!response.ok) throw new Error(`/dev/mail.json answered ${response.status}`)
  return await response.json() as DevMail[]
}

/** Waits (5 s at most) for a mail to `to` whose subject matches, and returns the newest such. */
export async function waitForMail (example: RunningExample, to: string, subject: RegExp): Promise<DevMail> {
  const deadline = Date.now() + 5_000
  for (;;) {
    const mail = (await inbox(example)).find(m => m.to.includes(to) && subject.test(m.subject))
    if (mail !== undefined) return mail
    if (Date.now() > deadline) throw new Error(`no mail to ${to} matching ${String(subject)} in the development inbox`)
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

/** With SCREENSHOTS=1 (npm run screenshots), saves the page as docs/screenshots/<name>.png. */
export async function screenshot (page: Page, name: string): Promise<void> {
  if (process.env.SCREENSHOTS !== '1') return
  await mkdir(`${root}docs/screenshots`, { recursive: true })
  await page.screenshot({ path: `${root}docs/screenshots/${name}.png`, animations: 'disabled', caret: 'hide' })
}

/** Runs the CLI (`npm run cli -- …`, i.e. lib/cli/bin.ts under tsx) against the example's SQLite file. */
export async function runCli (example: BrowserExample, args: string[]): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: `sqlite:${example.dataDir}/librechat-auth.db` },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  if (code !== 0) throw new Error(`cli ${args.join(' ')} exited ${String(code)}:\n${output}`)
  return output
}
