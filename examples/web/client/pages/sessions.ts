/** The profile's "Sessions" section: every live session, this device marked; end one, the others, or all. */
import { authed, clearSession } from '../api.ts'
import { button, h, onPress, showStatus, uid } from '../dom.ts'
import { navigate } from '../nav.ts'

interface Session { id: string, createdAt: string, lastUsedAt: string, userAgent: string | null, ip: string | null, current: boolean }

/** "Firefox on Linux" from a user agent string: enough to tell one's devices apart. */
export function deviceName (userAgent: string | null): string {
  if (userAgent === null || userAgent === '') return 'Unknown device'
  const browser = /Edg\//.test(userAgent) ? 'Edge' : /Firefox\//.test(userAgent) ? 'Firefox' : /Chrom(e|ium)\//.test(userAgent) ? 'Chrome' : /Safari\//.test(userAgent) ? 'Safari' : 'Another browser'
  const system = /Android/.test(userAgent) ? 'Android' : /iPhone|iPad/.test(userAgent) ? 'iOS' : /Windows/.test(userAgent) ? 'Windows' : /Mac OS X/.test(userAgent) ? 'macOS' : /Linux/.test(userAgent) ? 'Linux' : null
  return system === null ? browser : `${browser} on ${system}`
}

const when = (iso: string): string => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })

/** The section, and `load` to fill (or redraw) its list. */
export function sessionsSection (): { section: HTMLElement, load: () => Promise<void> } {
  const title = h('h2', { id: uid('sessions'), tabindex: '-1' }, 'Sessions')
  const list = h('ul', { role: 'list', class: 'session-list', 'aria-labelledby': title.id })
  const others = button('Sign out other sessions')
  const everywhere = button('Sign out everywhere', { class: 'button-danger' })

  const load = async (): Promise<void> => {
    const sessions = await authed<Session[]>('GET', '/api/auth/sessions')
    list.replaceChildren(...sessions.map(session => {
      const detailsId = uid('session')
      const details = h('p', { id: detailsId, class: 'meta' },
        `${deviceName(session.userAgent)}. Signed in ${when(session.createdAt)}, last active ${when(session.lastUsedAt)}${session.ip === null ? '' : `, from ${session.ip}`}.`)
      let action: HTMLElement
      if (session.current) {
        action = h('strong', { class: 'badge' }, 'This device')
      } else {
        const end = button('End session', { 'aria-describedby': detailsId })
        onPress(end, async () => {
          await authed('DELETE', `/api/auth/sessions/${encodeURIComponent(session.id)}`)
          await load()
          showStatus(h('p', {}, 'Session ended.'))
          title.focus()
        })
        action = end
      }
      return h('li', { class: session.current ? 'session current' : 'session' }, details, action)
    }))
  }

  onPress(others, async () => {
    await authed('DELETE', '/api/auth/sessions')
    await load()
    showStatus(h('p', {}, 'Every other session has been signed out.'))
  })
  onPress(everywhere, async () => {
    await authed('DELETE', '/api/auth/sessions?all=true')
    clearSession()
    navigate('/login', { status: [h('p', {}, 'You have been signed out everywhere.')] })
  })

  return { section: h('section', { 'aria-labelledby': title.id }, title, list, h('div', { class: 'actions' }, others, everywhere)), load }
}
