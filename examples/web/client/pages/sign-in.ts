/** /login: email and password, the social and OpenID buttons, OpenID's automatic redirect. */
import { ApiError, request, signIn } from '../api.ts'
import { authConfig, signInLabel } from '../config.ts'
import { addStatus, button, field, h, onPress, onSubmit, showAlert, showError, showStatus, view } from '../dom.ts'
import { link, navigate } from '../nav.ts'

/** The "Resend verification email" button, for an address that is not verified yet. */
export function resendButton (email: string): HTMLButtonElement {
  const resend = button('Resend verification email')
  onPress(resend, async () => {
    const { message } = await request<{ message: string }>('POST', '/api/user/verify/resend', { email })
    addStatus(h('p', {}, message))
  })
  return resend
}

export async function signInPage (params: URLSearchParams): Promise<void> {
  // A failed social or OpenID sign-in lands here with redirect=false, so no automatic redirect follows.
  if (params.get('error') === 'auth_failed') showAlert(h('p', {}, 'Sign-in failed. Please try again.'))
  const config = await authConfig()
  if (config.openidAutoRedirect && config.openidLoginEnabled && params.get('redirect') !== 'false') {
    showStatus(h('p', {}, `Redirecting to ${config.openidLabel}…`))
    location.assign('/oauth/openid')
    return
  }

  const parts: Node[] = []
  if (config.emailLoginEnabled) {
    const email = field('Email', { type: 'email', autocomplete: 'username', name: 'email' })
    const password = field('Password', { type: 'password', autocomplete: 'current-password', name: 'password' })
    const form = h('form', { class: 'stack', 'aria-labelledby': 'heading' }, email.block, password.block, h('button', { type: 'submit' }, 'Sign in'))
    onSubmit(form, async () => {
      try {
        await signIn(email.input.value, password.input.value)
      } catch (error) {
        if (error instanceof ApiError && error.code === 'FST_LCAUTH_EMAIL_NOT_VERIFIED') return showError(error, resendButton(email.input.value))
        throw error
      }
      navigate('/profile')
    })
    parts.push(form)
  }
  if (config.socialLogins.length > 0) {
    parts.push(h('div', { class: 'providers' },
      h('p', { class: 'divider' }, config.emailLoginEnabled ? 'Or sign in with another account' : 'Sign in with'),
      h('ul', { role: 'list', class: 'provider-list' },
        ...config.socialLogins.map(provider => h('li', {}, link(signInLabel(config, provider), `/oauth/${encodeURIComponent(provider)}`, { class: 'button button-secondary' }))))))
  }
  parts.push(h('p', { class: 'links' }, link('Create an account', '/register'), link('Forgot your password?', '/forgot-password')))
  view().replaceChildren(...parts)
}
