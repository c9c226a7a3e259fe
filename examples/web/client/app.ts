/**
 * The web UI's entry point: reads a mailed link's token and drops it from the address bar, signs in
 * silently with the refresh cookie, then shows the page of the address and handles in-app links.
 */
import { refresh, signedInUser, signOut, whenSessionEnds } from './api.ts'
import { authConfig, providerName } from './config.ts'
import { accountNav, button, clearMessages, h, heading, onPress, showAlert, showStatus, view } from './dom.ts'
import { describe } from './messages.ts'
import { type Flash, navigate, onNavigate } from './nav.ts'
import { forgotPasswordPage, resetPasswordPage } from './pages/password-reset.ts'
import { profilePage } from './pages/profile.ts'
import { registerPage } from './pages/register.ts'
import { signInPage } from './pages/sign-in.ts'
import { verifyPage } from './pages/verify.ts'

interface Page {
  title: string
  /** Who may see it: 'in' sends signed-out visitors to sign in, 'out' sends signed-in users to their account. */
  who: 'in' | 'out' | 'any'
  render: (params: URLSearchParams) => void | Promise<void>
}

const PAGES: Record<string, Page> = {
  '/login': { title: 'Sign in', who: 'out', render: signInPage },
  '/register': { title: 'Create an account', who: 'out', render: registerPage },
  '/forgot-password': { title: 'Reset your password', who: 'any', render: forgotPasswordPage },
  '/reset-password': { title: 'Choose a new password', who: 'any', render: resetPasswordPage },
  '/verify': { title: 'Verify your email', who: 'any', render: verifyPage },
  '/profile': { title: 'Your account', who: 'in', render: profilePage }
}

const NOT_FOUND: Page = { title: 'Page not found', who: 'any', render: () => { view().replaceChildren(h('p', {}, h('a', { href: '/' }, 'Go to the start page'))) } }

/** Mailed links carry a one-time token: read once at load, then kept in memory only. */
const TOKEN_PAGES = new Set(['/reset-password', '/verify'])
let linkParams: URLSearchParams | null = null

function renderAccountNav (): void {
  const user = signedInUser()
  if (user === null) return accountNav().replaceChildren()
  const out = button('Sign out')
  onPress(out, async () => {
    await signOut()
    navigate('/login', { status: [h('p', {}, 'You have signed out.')] })
  })
  accountNav().replaceChildren(h('span', { class: 'signed-in-as' }, user.email), out)
}

/** `/` is no page of its own: your account when signed in, else sign in; it also receives the outcome of linking a sign-in. */
async function startPage (params: URLSearchParams): Promise<{ path: string, flash: Flash }> {
  const flash: Flash = {}
  const linked = params.get('linked')
  if (linked !== null) {
    const name = await authConfig().then(config => providerName(config, linked), () => linked)
    flash.status = [h('p', {}, `${name} sign-in linked.`)]
  }
  if (params.get('error') === 'link_failed') flash.alert = [h('p', {}, 'Linking the sign-in failed. Please try again.')]
  return { path: signedInUser() === null ? '/login' : '/profile', flash }
}

async function show (path: string, search: string, flash: Flash, focus: boolean): Promise<void> {
  if (path === '/') {
    const start = await startPage(new URLSearchParams(search))
    return navigate(start.path, { ...start.flash, ...flash }, true)
  }
  const page = PAGES[path] ?? NOT_FOUND
  if (page.who === 'in' && signedInUser() === null) return navigate('/login', flash, true)
  if (page.who === 'out' && signedInUser() !== null) return navigate('/profile', flash, true)
  clearMessages()
  renderAccountNav()
  document.title = `${page.title} · librechat-auth example`
  heading().textContent = page.title
  view().replaceChildren()
  if (focus) heading().focus()
  if (flash.status !== undefined) showStatus(...flash.status)
  if (flash.alert !== undefined) showAlert(...flash.alert)
  const params = TOKEN_PAGES.has(path) ? (linkParams ?? new URLSearchParams()) : new URLSearchParams(search)
  try {
    await page.render(params)
  } catch (error) {
    showAlert(h('p', {}, describe(error)))
  }
}

/** Plain left clicks on links to the app's own pages stay in the app (and keep the token in memory). */
function interceptLinks (): void {
  document.addEventListener('click', event => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return
    const anchor = event.target instanceof Element ? event.target.closest('a') : null
    if (anchor === null || anchor.target !== '' || anchor.hasAttribute('download')) return
    const url = new URL(anchor.href)
    if (url.origin !== location.origin || (url.pathname !== '/' && PAGES[url.pathname] === undefined)) return
    event.preventDefault()
    navigate(url.pathname + url.search)
  })
  addEventListener('popstate', () => { void show(location.pathname, location.search, {}, true) })
}

async function boot (): Promise<void> {
  const path = location.pathname
  if (TOKEN_PAGES.has(path)) {
    linkParams = new URLSearchParams(location.search)
    // Off the address bar (and so out of the history, bookmarks and screenshots) before anything else.
    history.replaceState(null, '', path)
  }
  onNavigate((to, search, flash, focus) => { void show(to, search, flash, focus) })
  whenSessionEnds(() => navigate('/login', { alert: [h('p', {}, 'Your session has ended. Please sign in again.')] }))
  interceptLinks()
  const refused = await refresh()
  // No session is the usual case; anything else (a ban, a rate limit, the server down) is worth saying.
  const flash: Flash = refused !== null && refused.status !== 401 ? { alert: [h('p', {}, describe(refused))] } : {}
  await show(path, TOKEN_PAGES.has(path) ? '' : location.search, flash, false)
}

void boot()
