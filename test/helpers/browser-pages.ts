import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type BrowserExample, newBrowser, screenshot, waitForMail } from './browser.ts'

// The steps a person takes on the example's pages, by role and label as the UI contract names them.

export const PASSWORD = 'violet-harbour-lantern-42'
export const NEW_PASSWORD = 'copper-meadow-sparrow-77'

/**
 * The example for several people signing up and in from 127.0.0.1: LibreChat's per-IP limits (2
 * verifications in 2 minutes, 7 logins in 5) are raised so they do not trip by accident.
 */
export const MANY_PEOPLE = { REGISTER_MAX: '20', VERIFY_EMAIL_MAX: '20', LOGIN_MAX: '50' }

let people = 0
/** A fresh address for each person of the test file. */
export const newEmail = (): string => `person${++people}@example.com`

export async function signIn (page: Page, email: string, password: string): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('Email', { exact: true }).fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in', exact: true }).click()
}

/** Waits for the profile page, where a signed-in person lands. */
export async function signedIn (page: Page): Promise<void> {
  await page.getByRole('heading', { name: 'Your account' }).waitFor()
}

/** Registers on /register and opens the verification link in the development inbox (/dev/mail). */
export async function register (page: Page, example: BrowserExample, email: string, options: { shots?: boolean } = {}): Promise<void> {
  const shots = options.shots === true
  await page.goto('/register')
  await page.getByRole('heading', { name: 'Create an account' }).waitFor()
  await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace')
  await page.getByLabel('Username (optional)', { exact: true }).fill(email.split('@')[0] as string)
  await page.getByLabel('Email', { exact: true }).fill(email)
  await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
  await page.getByLabel('Confirm password', { exact: true }).fill(PASSWORD)
  if (shots) await screenshot(page, 'register')
  await page.getByRole('button', { name: 'Create account' }).click()
  await page.getByRole('status').filter({ hasText: 'Registration successful' }).waitFor()

  await waitForMail(example, email, /^Verify your email/)
  await page.goto('/dev/mail')
  await page.getByRole('heading', { name: 'Development inbox', level: 1 }).waitFor()
  if (shots) await screenshot(page, 'dev-inbox')
  const mail = page.getByRole('article').filter({ hasText: email }).filter({ has: page.getByRole('heading', { name: /^Verify your email/ }) }).first()
  await mail.getByRole('link', { name: /\/verify\?token=/ }).click()
  await page.getByRole('heading', { name: 'Verify your email' }).waitFor()
  await page.getByText('Your email is verified').waitFor()
  if (shots) await screenshot(page, 'verify')
}

/** A new person in a new browser (closed with the test): signed up, verified through the inbox, signed in. */
export async function signedUpAndIn (t: { teardown(fn: () => unknown): unknown }, browser: Browser, example: BrowserExample, email: string): Promise<Page> {
  const context = await newBrowser(browser, example)
  t.teardown(() => context.close())
  const page = await context.newPage()
  await register(page, example, email)
  await signIn(page, email, PASSWORD)
  await signedIn(page)
  return page
}

/** Another "browser" (its own cookies) where the same person signs in; closed with the test. */
export async function otherBrowser (t: { teardown(fn: () => unknown): unknown }, browser: Browser, example: BrowserExample, email: string, password: string): Promise<{ context: BrowserContext, page: Page }> {
  const context = await newBrowser(browser, example)
  t.teardown(() => context.close())
  const page = await context.newPage()
  await signIn(page, email, password)
  await signedIn(page)
  return { context, page }
}

/**
 * The page's next API call (DELETE /api/auth/sessions, "Sign out other sessions") meets a session that
 * ended elsewhere: 401, one refresh that fails too, and the page goes to /login.
 */
export async function signedOutAtNextCall (page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out other sessions' }).click()
  await page.waitForURL(url => url.pathname === '/login')
  await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor()
}
