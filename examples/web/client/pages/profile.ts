/** /profile: the account, its sessions, password change, linked sign-ins and deletion. */
import { authed, clearSession, signedInUser } from '../api.ts'
import { authConfig } from '../config.ts'
import { field, h, onSubmit, showAlert, showError, showStatus, uid, view } from '../dom.ts'
import { navigate } from '../nav.ts'
import { linkedSignInsSection } from './linked-sign-ins.ts'
import { sessionsSection } from './sessions.ts'

/** A section with its own h2, labelled by it. */
function section (title: string, ...content: Node[]): HTMLElement {
  const heading = h('h2', { id: uid('section') }, title)
  return h('section', { 'aria-labelledby': heading.id }, heading, ...content)
}

/** A hidden username next to a password form, so password managers know whose password it is. */
const username = (email: string): HTMLInputElement =>
  h('input', { type: 'text', name: 'username', autocomplete: 'username', value: email, hidden: true, readonly: true, tabindex: '-1' })

function changePasswordSection (email: string, afterChange: () => Promise<void>): HTMLElement {
  const current = field('Current password', { type: 'password', autocomplete: 'current-password', name: 'currentPassword' })
  const next = field('New password', { type: 'password', autocomplete: 'new-password', name: 'password' })
  const confirm = field('Confirm new password', { type: 'password', autocomplete: 'new-password', name: 'confirm_password' })
  const form = h('form', { class: 'stack' }, username(email), current.block, next.block, confirm.block, h('button', { type: 'submit' }, 'Change password'))
  onSubmit(form, async () => {
    if (next.input.value !== confirm.input.value) return showAlert(h('p', {}, 'The new passwords do not match.'))
    const { message } = await authed<{ message: string }>('POST', '/api/auth/password', {
      currentPassword: current.input.value, password: next.input.value, confirm_password: confirm.input.value
    })
    form.reset()
    showStatus(h('p', {}, message))
    await afterChange()
  })
  return section('Change password', form)
}

function deleteAccountSection (email: string): HTMLElement {
  const password = field('Password to confirm deletion', { type: 'password', autocomplete: 'current-password', name: 'password', required: false })
  const form = h('form', { class: 'stack' }, username(email), password.block, h('button', { type: 'submit', class: 'button-danger' }, 'Delete my account'))
  onSubmit(form, async () => {
    await authed('DELETE', '/api/user/delete', password.input.value === '' ? {} : { password: password.input.value })
    clearSession()
    navigate('/login', { status: [h('p', {}, 'Your account has been deleted.')] }, true)
  })
  return section('Delete account', h('p', {}, 'This deletes your account and everything tied to it, and signs you out everywhere. It cannot be undone.'), form)
}

export async function profilePage (): Promise<void> {
  const user = signedInUser()
  if (user === null) return navigate('/login', {}, true)
  const config = await authConfig()
  const sessions = sessionsSection()
  const linked = linkedSignInsSection(config)
  const details = h('dl', { class: 'details' },
    h('dt', {}, 'Name'), h('dd', {}, user.name),
    h('dt', {}, 'Email'), h('dd', {}, user.email),
    user.username === null ? null : h('dt', {}, 'Username'), user.username === null ? null : h('dd', {}, user.username),
    h('dt', {}, 'Role'), h('dd', {}, user.role))
  view().replaceChildren(
    details,
    sessions.section,
    changePasswordSection(user.email, sessions.load),
    linked.section,
    deleteAccountSection(user.email))
  try {
    await Promise.all([sessions.load(), linked.load()])
  } catch (error) {
    showError(error)
  }
}
