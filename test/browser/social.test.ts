import t from 'tap'
import type { Page } from 'playwright-core'
import { launchBrowser, newBrowser, screenshot, startBrowserExample } from '../helpers/browser.ts'
import { freePort } from '../helpers/example.ts'
import { startProviderStandIn } from '../helpers/oauth-providers.ts'
import { startOidcProvider } from '../helpers/oidc-provider.ts'

// Social and OpenID sign-in in a real browser: the example's sign-in page, the real redirects to a
// local GitHub Enterprise stand-in and to a real OpenID provider (its own login and consent pages,
// clicked like a person would), and back.

const browser = await launchBrowser(t)
if (browser !== null) {
  // The OpenID provider registers the callback by its full URL, so the port is chosen up front.
  const port = await freePort()
  const origin = `http://127.0.0.1:${port}`
  const github = await startProviderStandIn('github', {
    enterprise: true,
    user: { subject: '583231', email: 'octo.cat@example.com', emailVerified: true, name: 'Octo Cat', login: 'octocat', avatar: null }
  })
  t.teardown(() => github.close())
  const openid = await startOidcProvider({
    redirectUris: [`${origin}/oauth/openid/callback`],
    account: { sub: 'b81f0c2e-7d4a-4c55-9e1b-3a6f2d9c0e48', claims: { email: 'grace@example.test', email_verified: true, name: 'Grace Hopper', preferred_username: 'grace' } }
  })
  t.teardown(() => openid.close())
  const example = await startBrowserExample(t, {
    PORT: String(port),
    ALLOW_SOCIAL_LOGIN: 'true',
    ALLOW_SOCIAL_REGISTRATION: 'true',
    OAUTH_TIMEOUT_MS: '5000',
    GITHUB_CLIENT_ID: github.clientId,
    GITHUB_CLIENT_SECRET: github.clientSecret,
    GITHUB_ENTERPRISE_BASE_URL: github.enterpriseBaseUrl as string,
    OPENID_CLIENT_ID: openid.clientId,
    OPENID_CLIENT_SECRET: openid.clientSecret,
    OPENID_ISSUER: openid.issuer,
    OPENID_SESSION_SECRET: 'browser-suite-openid-session-secret-0123456789',
    OPENID_SCOPE: 'openid profile email',
    OPENID_CALLBACK_URL: '/oauth/openid/callback'
  })

  /** The provider's entry on /login: a button or a link, by its accessible name. */
  const providerEntry = (page: Page, name: string) => page.getByRole('button', { name, exact: true }).or(page.getByRole('link', { name, exact: true }))
  const signedInAs = async (page: Page, email: string): Promise<void> => {
    await page.getByRole('heading', { name: 'Your account' }).waitFor()
    await page.getByText(email).first().waitFor()
  }

  t.test('GitHub: the browser follows the real redirects to the provider and back, signed in', async t => {
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await page.goto('/login')
    await providerEntry(page, 'Continue with GitHub').waitFor()
    await screenshot(page, 'login-social')
    await providerEntry(page, 'Continue with GitHub').click()
    await signedInAs(page, 'octo.cat@example.com')
    t.equal(new URL(page.url()).pathname === '/' || new URL(page.url()).pathname === '/profile', true, 'landed on the app')
    t.ok(github.requests.some(r => r.query.client_id === github.clientId && String(r.headers['user-agent']).includes('Chrome')), 'Chromium itself went to the provider\'s authorize page')
    const cookie = (await context.cookies()).find(c => c.name === 'refreshToken')
    t.equal(cookie?.httpOnly, true, 'the refresh cookie, HttpOnly')
    t.equal(cookie?.sameSite, 'Strict', 'and SameSite=Strict, though the sign-in came back from another origin')

    await page.reload()
    await signedInAs(page, 'octo.cat@example.com')
    t.pass('a reload keeps the session')
  })

  t.test('GitHub: a refused consent lands on the sign-in page with its message', async t => {
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await page.goto('/login')
    github.deny = true
    await providerEntry(page, 'Continue with GitHub').click()
    await page.waitForURL(url => url.pathname === '/login' && url.searchParams.get('error') === 'auth_failed')
    await page.getByRole('alert').filter({ hasText: 'Sign-in failed. Please try again.' }).waitFor()
    t.pass('the alert says so')
  })

  t.test('OpenID: the provider\'s own login and consent pages, clicked in the browser, sign the user in', async t => {
    const config = await (await fetch(`${example.url}/api/auth/config`)).json() as { openidLabel: string }
    const context = await newBrowser(browser, example)
    t.teardown(() => context.close())
    const page = await context.newPage()
    await page.goto('/login')
    await providerEntry(page, config.openidLabel).click()

    await page.waitForURL(url => url.port === new URL(openid.issuer).port)
    await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor()
    await page.getByRole('textbox').fill(openid.account.sub)
    await page.getByRole('button', { name: 'Sign in', exact: true }).click()
    await page.getByRole('heading', { name: 'Allow access' }).waitFor()
    await page.getByRole('button', { name: 'Allow' }).click()

    await signedInAs(page, 'grace@example.test')
    t.equal(new URL(page.url()).origin, origin, 'back on the example')
    await page.reload()
    await signedInAs(page, 'grace@example.test')
    t.pass('a reload keeps the session')
  })
}
