/** The profile's "Linked sign-ins" section: one row per enabled provider, with Link or Unlink. */
import { authed } from '../api.ts'
import { type AuthConfig, providerName } from '../config.ts'
import { button, field, h, onPress, showStatus, uid } from '../dom.ts'

interface Identity { provider: string, email: string | null, linkedAt: string }

export function linkedSignInsSection (config: AuthConfig): { section: HTMLElement, load: () => Promise<void> } {
  const title = h('h2', { id: uid('linked'), tabindex: '-1' }, 'Linked sign-ins')
  const section = h('section', { 'aria-labelledby': title.id }, title)
  if (config.socialLogins.length === 0) {
    section.append(h('p', {}, 'No other sign-in providers are enabled on this server.'))
    return { section, load: async () => {} }
  }
  const password = field('Password to confirm linking', {
    type: 'password',
    autocomplete: 'current-password',
    required: false,
    hint: 'Linking a new sign-in asks for your password. An account without one needs a recent sign-in instead.'
  })
  const list = h('ul', { role: 'list', class: 'provider-rows', 'aria-labelledby': title.id })

  const load = async (): Promise<void> => {
    const linked = await authed<Identity[]>('GET', '/api/user/identities')
    list.replaceChildren(...config.socialLogins.map(provider => {
      const name = providerName(config, provider)
      const identity = linked.find(i => i.provider === provider)
      const path = `/api/user/identities/${encodeURIComponent(provider)}`
      let action: HTMLButtonElement
      if (identity === undefined) {
        action = button(`Link ${name}`)
        onPress(action, async () => {
          const body = password.input.value === '' ? {} : { password: password.input.value }
          const { url } = await authed<{ url: string }>('POST', path, body)
          showStatus(h('p', {}, `Going to ${name}…`))
          location.assign(url)
        })
      } else {
        action = button(`Unlink ${name}`)
        onPress(action, async () => {
          await authed('DELETE', path)
          await load()
          showStatus(h('p', {}, `${name} sign-in unlinked.`))
          title.focus()
        })
      }
      const state = identity === undefined ? 'Not linked' : `Linked${identity.email === null ? '' : ` as ${identity.email}`}`
      return h('li', { class: 'provider-row' }, h('span', { class: 'provider-name' }, name), h('span', { class: 'meta' }, state), action)
    }))
  }
  section.append(password.block, list)
  return { section, load }
}
