/** /register: the account form; says to check the email (or to sign in when no mail is configured). */
import { request } from '../api.ts'
import { authConfig } from '../config.ts'
import { field, h, onSubmit, showAlert, showStatus, view } from '../dom.ts'
import { link } from '../nav.ts'

export async function registerPage (): Promise<void> {
  const config = await authConfig()
  const name = field('Name', { autocomplete: 'name', name: 'name' })
  const username = field('Username (optional)', { autocomplete: 'username', name: 'username', required: false })
  const email = field('Email', { type: 'email', autocomplete: 'email', name: 'email' })
  const password = field('Password', { type: 'password', autocomplete: 'new-password', name: 'password', hint: `At least ${config.minPasswordLength} characters. A few unrelated words make a strong password.` })
  const confirm = field('Confirm password', { type: 'password', autocomplete: 'new-password', name: 'confirm_password' })
  const form = h('form', { class: 'stack', 'aria-labelledby': 'heading' },
    name.block, username.block, email.block, password.block, confirm.block, h('button', { type: 'submit' }, 'Create account'))
  onSubmit(form, async () => {
    if (password.input.value !== confirm.input.value) return showAlert(h('p', {}, 'The passwords do not match.'))
    const body: Record<string, string> = { name: name.input.value, email: email.input.value, password: password.input.value, confirm_password: confirm.input.value }
    if (username.input.value.trim() !== '') body.username = username.input.value.trim()
    const { message } = await request<{ message: string }>('POST', '/api/auth/register', body)
    form.reset()
    showStatus(h('p', {}, config.emailEnabled ? message : `${message} You can sign in now.`), config.emailEnabled ? null : h('p', {}, link('Sign in', '/login')))
  })
  view().replaceChildren(form, h('p', { class: 'links' }, link('I already have an account', '/login')))
  if (!config.registrationEnabled) showAlert(h('p', {}, 'Registration is closed.'))
}
