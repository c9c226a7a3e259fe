/** Moving between pages without a reload (the access token stays in memory): real links, intercepted. */
import type { Child } from './dom.ts'
import { h } from './dom.ts'

/** A message to show on the next page: an error in the alert region or a success in the status region. */
export interface Flash { alert?: Child[], status?: Child[] }

type Show = (path: string, search: string, flash: Flash, focus: boolean) => void

let show: Show = () => {}

export function onNavigate (handler: Show): void {
  show = handler
}

/** Goes to a page of the app; `replace` when the current address should not stay in the history. */
export function navigate (to: string, flash: Flash = {}, replace = false): void {
  const url = new URL(to, location.origin)
  history[replace ? 'replaceState' : 'pushState'](null, '', url.pathname + url.search)
  show(url.pathname, url.search, flash, true)
}

/** A link to a page of the app (a plain `<a href>`: opening it in a new tab works too). */
export const link = (text: string, href: string, attributes: Record<string, string> = {}): HTMLAnchorElement =>
  h('a', { href, ...attributes }, text)
