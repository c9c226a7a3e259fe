import t from 'tap'
import type { BrowserContext, Page } from 'playwright-core'
import { launchBrowser, newBrowser, runCli, screenshot, startBrowserExample, waitForMail } from '../helpers/browser.ts'

// Email and password accounts in a real browser, on the example server's own pages (by role and
// label, as the UI contract names them), with its mail read in the development inbox.

const PASSWORD = 'violet-harbour-lantern-42'
const NEW_PASSWORD = 'copper-meadow-sparrow-77'
const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/

const browser = await launchBrowser(t)
if (browser !== null) {
  // Several people sign up and in from 127.0.0.1 here: LibreChat's per-IP limits (2 verifications in
  // 2 minutes, 7 logins in 5) are raised so they do not trip, except where a test trips one on purpose.
  const example = await startBrowserExample(t, { REGISTER_MAX: '20', VERIFY_EMAIL_MAX: '20', LOGIN_MAX: '50' })
  let people = 0
  const newEmail = (): string => `person${++people}@example.com`

  const signIn = async (page: Page, email: string, password: string): Promise<void> => {
    await page.goto('/login')
    await page.getByLabel('Email', { exact: true }).fill(email)
    await page.getByLabel('Password', { exact: true }).fill(password)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
  }
  const signedIn = (page: Page) => page.getByRole('heading', { name: 'Your account' }).waitFor()

  /** Registers on /register and opens the verification link in the development inbox. */
  const register = async (page: Page, email: string, shots = false): Promise<void> => {
    await page.goto('/register')
    await page.getByRole('heading', { name: 'Create an account' }).waitFor()
    await page.getByLabel('Name', { exact: true }).fill('Ada Lovelace')
    await page.getByLabel('Username (optional)', { exact: true }).fill(`ada${people}`)
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

  /** Another "browser" of the same person; the other page's next API call is what the test watches. */
  const otherBrowser = async (email: string, password: string): Promise<{ context: BrowserContext, page: Page }> => {
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await signIn(page, email, password)
    await signedIn(page)
    return { context, page }
  }

  /** The page's next API call (DELETE /api/auth/sessions) meets a dead session: refresh fails, /login. */
  const signedOutAtNextCall = async (page: Page): Promise<void> => {
    await page.getByRole('button', { name: 'Sign out other sessions' }).click()
    await page.waitForURL(url => url.pathname === '/login')
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor()
  }

  t.test('sign up, verify from the dev inbox, sign in, a reload keeps the session, another browser ends it', async t => {
    const email = newEmail()
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await register(page, email, true)

    await page.getByRole('link', { name: 'Sign in', exact: true }).first().click()
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor()
    t.ok(await page.getByRole('link', { name: 'Create an account' }).isVisible(), 'a link to register')
    t.ok(await page.getByRole('link', { name: 'Forgot your password?' }).isVisible(), 'a link to reset the password')
    await screenshot(page, 'login')
    await page.getByLabel('Email', { exact: true }).fill(email)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await signedIn(page)
    t.ok(await page.getByText(email).first().isVisible(), 'the profile shows the email')

    // A reload is a silent sign-in: one POST /api/auth/refresh with the HttpOnly cookie.
    const refreshed = page.waitForResponse(response => new URL(response.url()).pathname === '/api/auth/refresh')
    await page.reload()
    const refresh = await refreshed
    t.equal(refresh.status(), 200, 'the refresh cookie renews the session')
    await signedIn(page)
    const { token } = await refresh.json() as { token: string }
    t.match(token, JWT)

    // The cookie flow: the refresh cookie is HttpOnly and SameSite=Strict; the access token is in memory only.
    const cookie = (await context.cookies()).find(c => c.name === 'refreshToken')
    t.ok(cookie, 'the refresh cookie')
    t.equal(cookie?.httpOnly, true, 'HttpOnly')
    t.equal(cookie?.sameSite, 'Strict', 'SameSite=Strict')
    t.equal(cookie?.path, '/')
    const documentCookie = await page.evaluate<string>('document.cookie')
    t.notMatch(documentCookie, /refreshToken/, 'scripts cannot read the refresh cookie')
    t.notOk(documentCookie.includes(token), 'the access token is no cookie')
    const storage = await page.evaluate<string>('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])')
    t.notOk(storage.includes(token), 'the access token is not in localStorage or sessionStorage')
    t.notMatch(storage, JWT, 'no token at all is in web storage')

    // A second browser signs in, sees two sessions and ends the first one.
    const other = await otherBrowser(email, PASSWORD)
    const sessions = other.page.getByRole('list').filter({ hasText: 'This device' }).getByRole('listitem')
    await sessions.nth(1).waitFor()
    t.equal(await sessions.count(), 2, 'two sessions')
    t.equal(await sessions.filter({ hasText: 'This device' }).count(), 1, 'one of them is this device')
    await screenshot(other.page, 'profile')
    await sessions.filter({ hasNotText: 'This device' }).getByRole('button', { name: 'End session' }).click()
    await sessions.nth(1).waitFor({ state: 'detached' })
    t.equal(await sessions.count(), 1, 'the first browser\'s session is gone from the list')

    await signedOutAtNextCall(page)
    t.pass('the first browser is signed out at its next API call')
    t.equal((await context.cookies()).find(c => c.name === 'refreshToken')?.value ?? '', '', 'and its refresh cookie is cleared')
  })

  t.test('forgot password and reset it through the dev inbox', async t => {
    const email = newEmail()
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await register(page, email)

    await page.goto('/login')
    await page.getByRole('link', { name: 'Forgot your password?' }).click()
    await page.getByRole('heading', { name: 'Reset your password' }).waitFor()
    await page.getByLabel('Email', { exact: true }).fill(email)
    await screenshot(page, 'forgot-password')
    await page.getByRole('button', { name: 'Send reset link' }).click()
    await page.getByRole('status').filter({ hasText: 'If an account exists' }).waitFor()

    await waitForMail(example, email, /^Reset your/)
    await page.goto('/dev/mail')
    const mail = page.getByRole('article').filter({ hasText: email }).filter({ has: page.getByRole('heading', { name: /^Reset your/ }) }).first()
    await mail.getByRole('link', { name: /\/reset-password\?token=/ }).click()
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor()
    await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    await page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD)
    await screenshot(page, 'reset-password')
    await page.getByRole('button', { name: 'Set new password' }).click()
    await page.getByRole('status').filter({ hasText: 'Your password has been reset' }).waitFor()

    await signIn(page, email, PASSWORD)
    await page.getByRole('alert').filter({ hasText: 'Email or password is incorrect.' }).waitFor()
    t.pass('the old password no longer works')
    await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor()
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await signedIn(page)
    t.pass('the new one does')
  })

  t.test('changing the password ends the other browser\'s session', async t => {
    const email = newEmail()
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await register(page, email)
    await signIn(page, email, PASSWORD)
    await signedIn(page)

    const other = await otherBrowser(email, PASSWORD)
    await other.page.getByLabel('Current password', { exact: true }).fill(PASSWORD)
    await other.page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD)
    await other.page.getByLabel('Confirm new password', { exact: true }).fill(NEW_PASSWORD)
    await other.page.getByRole('button', { name: 'Change password' }).click()
    await other.page.getByRole('status').filter({ hasText: 'Password changed' }).waitFor()
    await other.page.reload()
    await signedIn(other.page)
    t.pass('the browser that changed it stays signed in')

    await signedOutAtNextCall(page)
    t.pass('the other one is signed out at its next API call')
  })

  t.test('a banned user sees the message and the time left', async t => {
    const email = newEmail()
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await register(page, email)
    await signIn(page, email, PASSWORD)
    await signedIn(page)

    t.match(await runCli(example, ['ban-user', email, '10']), /Banned .* every session ended/)
    await page.reload()
    await page.waitForURL(url => url.pathname === '/login')
    await signIn(page, email, PASSWORD)
    await page.getByRole('alert').filter({ hasText: 'Access is temporarily suspended. Try again in 10 minutes.' }).waitFor()
    await screenshot(page, 'banned')
    t.pass('the sign-in page says so, with the minutes left')
  })
}
