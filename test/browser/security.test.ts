import t from 'tap'
import { launchBrowser, runCli, screenshot, startBrowserExample } from '../helpers/browser.ts'
import { MANY_PEOPLE, NEW_PASSWORD, newEmail, otherBrowser, PASSWORD, signedIn, signedOutAtNextCall, signedUpAndIn, signIn } from '../helpers/browser-pages.ts'

// What ends a session from elsewhere, seen from the browser that held it: a password change in
// another browser, and a ban by the operator (the CLI, on the server's own database).

const browser = await launchBrowser(t)
if (browser !== null) {
  const example = await startBrowserExample(t, MANY_PEOPLE)

  t.test('changing the password ends the other browser\'s session', async t => {
    const email = newEmail()
    const page = await signedUpAndIn(t, browser, example, email)

    const other = await otherBrowser(t, browser, example, email, PASSWORD)
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
    const page = await signedUpAndIn(t, browser, example, email)

    // `npm run cli -- ban-user <email> 10`, against the example's SQLite file.
    t.match(await runCli(example, ['ban-user', email, '10']), /Banned .* every session ended/)
    await page.reload()
    await page.waitForURL(url => url.pathname === '/login')
    t.pass('the ban ended the session')
    await signIn(page, email, PASSWORD)
    await page.getByRole('alert').filter({ hasText: 'Access is temporarily suspended. Try again in 10 minutes.' }).waitFor()
    await screenshot(page, 'banned')
    t.pass('the sign-in page says so, with the minutes left')
  })
}
