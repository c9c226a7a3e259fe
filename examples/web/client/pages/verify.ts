/** /verify (the mailed link): verifies the address on load. */
import { request } from '../api.ts'
import { h, showAlert, showError, showStatus, view } from '../dom.ts'
import { link } from '../nav.ts'
import { resendButton } from './sign-in.ts'

/** `params` were read from the mailed link before the token was dropped from the address bar. */
export async function verifyPage (params: URLSearchParams): Promise<void> {
  const token = params.get('token') ?? ''
  const email = params.get('email') ?? ''
  view().replaceChildren()
  if (token === '' || email === '') return showAlert(h('p', {}, 'This verification link is invalid or has expired. Open the link from the email again.'))
  showStatus(h('p', {}, 'Checking your link…'))
  try {
    await request('POST', '/api/user/verify', { email, token })
  } catch (error) {
    showError(error, resendButton(email))
    return
  }
  showStatus(h('p', {}, 'Your email is verified. You can sign in now.'), h('p', {}, link('Sign in', '/login')))
}
