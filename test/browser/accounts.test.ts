import t from 'tap'
import { launchBrowser, newBrowser, screenshot, startBrowserExample, waitForMail } from '../helpers/browser.ts'
import { MANY_PEOPLE, NEW_PASSWORD, newEmail, otherBrowser, PASSWORD, register, signedIn, signedOutAtNextCall, signIn } from '../helpers/browser-pages.ts'

// Email and password accounts in a real browser, on the example server's own pages, with its mail
// read in the development inbox: from sign-up to a session ended elsewhere, and a password reset.

const JWT = /eyJ[\w-]+\.[\w-]+\.[\w-]+/

const browser = await launchBrowser(t)
if (browser !== null) {
  const example = await startBrowserExample(t, MANY_PEOPLE)

  t.test('sign up, verify from the dev inbox, sign in, a reload keeps the session, another browser ends it', async t => {
    const email = newEmail()
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await register(page, example, email, { shots: true })

    await page.getByRole('link', { name: 'Sign in', exact: true }).first().click()
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor()
    // The heading is in the page before the form and links (they wait for /api/auth/config): wait, do not peek.
    await page.getByRole('link', { name: 'Create an account' }).waitFor()
    await page.getByRole('link', { name: 'Forgot your password?' }).waitFor()
    t.pass('links to register and to reset the password')
    await screenshot(page, 'login')
    await page.getByLabel('Email', { exact: true }).fill(email)
    await page.getByLabel('Password', { exact: true }).fill(PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await signedIn(page)
    await page.getByText(email).first().waitFor()
    t.pass('the profile shows the email')

    // A reload is a silent sign-in: one POST /api/auth/refresh with the HttpOnly cookie.
    const refreshed = page.waitForResponse(response => new URL(response.url()).pathname === '/api/auth/refresh')
    await page.reload()
    const refresh = await refreshed
    t.equal(refresh.status(), 200, 'the refresh cookie renews the session')
    await signedIn(page)
    const { token } = await refresh.json() as { token: string }
    t.match(token, JWT, 'an access token came back')

    // The cookie flow: the refresh cookie is HttpOnly and SameSite=Strict; the access token is in memory only.
    const cookie = (await context.cookies()).find(c => c.name === 'refreshToken')
    t.ok(cookie, 'the refresh cookie')
    t.equal(cookie?.httpOnly, true, 'HttpOnly')
    t.equal(cookie?.sameSite, 'Strict', 'SameSite=Strict')
    t.equal(cookie?.path, '/', 'Path=/')
    const documentCookie = await page.evaluate<string>('document.cookie')
    t.notMatch(documentCookie, /refreshToken/, 'scripts cannot read the refresh cookie')
    t.notOk(documentCookie.includes(token), 'the access token is no cookie')
    const storage = await page.evaluate<string>('JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])')
    t.notOk(storage.includes(token), 'the access token is not in localStorage or sessionStorage')
    t.notMatch(storage, JWT, 'no token at all is in web storage')

    // A second browser signs in, sees two sessions and ends the first one.
    const other = await otherBrowser(t, browser, example, email, PASSWORD)
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
    t.notOk((await context.cookies()).some(c => c.name === 'refreshToken' && c.value !== ''), 'and its refresh cookie is cleared')
  })

  t.test('forgot password and reset it through the dev inbox', async t => {
    const email = newEmail()
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await register(page, example, email)

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
    await page.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await signedIn(page)
    t.pass('the new one does')
  })
}
