/** /forgot-password asks for a link by mail; /reset-password (the mailed link) sets the new password. */
import { ApiError, clearSession, request } from '../api.ts'
import { field, h, heading, onSubmit, showAlert, showError, showStatus, view } from '../dom.ts'
import { link } from '../nav.ts'

export function forgotPasswordPage (): void {
  const email = field('Email', { type: 'email', autocomplete: 'email', name: 'email', hint: 'We send a link to choose a new password to this address.' })
  const form = h('form', { class: 'stack', 'aria-labelledby': 'heading' }, email.block, h('button', { type: 'submit' }, 'Send reset link'))
  onSubmit(form, async () => {
    const answer = await request<{ message: string, link?: string }>('POST', '/api/auth/requestPasswordReset', { email: email.input.value })
    form.reset()
    // Only the server's unsafe development mode answers with the link itself.
    showStatus(h('p', {}, answer.message), answer.link === undefined ? null : h('p', {}, h('a', { href: answer.link }, 'Open the reset link (development mode)')))
  })
  view().replaceChildren(form, h('p', { class: 'links' }, link('Back to sign in', '/login')))
}

const askAgain = (): HTMLParagraphElement => h('p', {}, link('Ask for a new link', '/forgot-password'))

/** `params` were read from the mailed link before the token was dropped from the address bar. */
export function resetPasswordPage (params: URLSearchParams): void {
  const token = params.get('token')
  const userId = params.get('userId')
  if (token === null || token === '' || userId === null || userId === '') {
    view().replaceChildren()
    showAlert(h('p', {}, 'This password reset link is invalid or has expired. Open the link from the email again, or ask for a new one.'), askAgain())
    return
  }
  const password = field('New password', { type: 'password', autocomplete: 'new-password', name: 'password' })
  const confirm = field('Confirm new password', { type: 'password', autocomplete: 'new-password', name: 'confirm_password' })
  const form = h('form', { class: 'stack', 'aria-labelledby': 'heading' }, password.block, confirm.block, h('button', { type: 'submit' }, 'Set new password'))
  onSubmit(form, async () => {
    if (password.input.value !== confirm.input.value) return showAlert(h('p', {}, 'The passwords do not match.'))
    try {
      await request('POST', '/api/auth/resetPassword', { token, userId, password: password.input.value, confirm_password: confirm.input.value })
    } catch (error) {
      if (error instanceof ApiError && error.code === 'FST_LCAUTH_RESET_TOKEN_INVALID') return showError(error, askAgain())
      throw error
    }
    // Every session of the account ended with the reset, this one too.
    clearSession()
    view().replaceChildren()
    heading().focus()
    showStatus(h('p', {}, 'Your password has been reset. Every session was signed out.'), h('p', {}, link('Sign in', '/login')))
  })
  view().replaceChildren(form)
}
