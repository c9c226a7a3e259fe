/** Small DOM helpers: build elements, labelled fields, the two live regions and focus. */
import { SessionEnded } from './api.ts'
import { describe } from './messages.ts'

export type Child = Node | string | null | undefined | false

/** `h('button', { type: 'submit' }, 'Sign in')`: attributes as strings (true for a bare attribute), then children. */
export function h<K extends keyof HTMLElementTagNameMap> (tag: K, attributes: Record<string, string | boolean> = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [name, value] of Object.entries(attributes)) {
    if (value === true) element.setAttribute(name, '')
    else if (value !== false) element.setAttribute(name, value)
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) element.append(child)
  return element
}

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id)
  if (element === null) throw new Error(`#${id} is missing from the page`)
  return element as T
}

export const heading = (): HTMLHeadingElement => byId('heading')
export const view = (): HTMLElement => byId('view')
export const accountNav = (): HTMLElement => byId('account-nav')
const alertRegion = (): HTMLElement => byId('alert')
const statusRegion = (): HTMLElement => byId('status')

let nextId = 0
/** A unique id for label/input and aria-describedby pairs. */
export const uid = (prefix: string): string => `${prefix}-${++nextId}`

export interface FieldOptions {
  type?: string
  autocomplete?: string
  required?: boolean
  hint?: string
  name?: string
}

/** A `<label for>` and its input (with an optional hint read after the label), in one block. */
export function field (label: string, options: FieldOptions = {}): { block: HTMLElement, input: HTMLInputElement } {
  const id = uid('field')
  const input = h('input', {
    id,
    name: options.name ?? id,
    type: options.type ?? 'text',
    autocomplete: options.autocomplete ?? 'off',
    required: options.required ?? true
  })
  let hint: HTMLElement | null = null
  if (options.hint !== undefined) {
    hint = h('p', { id: `${id}-hint`, class: 'hint' }, options.hint)
    input.setAttribute('aria-describedby', hint.id)
  }
  return { block: h('div', { class: 'field' }, h('label', { for: id }, label), hint, input), input }
}

export const button = (label: string, attributes: Record<string, string | boolean> = {}): HTMLButtonElement =>
  h('button', { type: 'button', ...attributes }, label)

export function clearMessages (): void {
  alertRegion().replaceChildren()
  statusRegion().replaceChildren()
}

/** Shows an error in the alert region and moves focus there, so keyboard and screen reader users land on it. */
export function showAlert (...content: Child[]): void {
  statusRegion().replaceChildren()
  const region = alertRegion()
  region.replaceChildren(...content.filter((c): c is Node | string => c !== null && c !== undefined && c !== false))
  region.focus()
}

/** Shows a success or progress message in the polite status region (focus stays where it is). */
export function showStatus (...content: Child[]): void {
  alertRegion().replaceChildren()
  statusRegion().replaceChildren(...content.filter((c): c is Node | string => c !== null && c !== undefined && c !== false))
}

/** Adds a status message and leaves the alert as it is (a follow-up to the error shown there). */
export function addStatus (...content: Child[]): void {
  statusRegion().replaceChildren(...content.filter((c): c is Node | string => c !== null && c !== undefined && c !== false))
}

/** An API error in words; nothing when the session ended and the app already went to the sign-in page. */
export function showError (error: unknown, ...extra: Child[]): void {
  if (error instanceof SessionEnded) return
  showAlert(h('p', {}, describe(error)), ...extra)
}

/**
 * Runs the handler once at a time: while it works the control says `aria-busy` (and a second click
 * or Enter sends nothing). The control is not disabled, so focus stays on it.
 */
function once (marker: HTMLElement, handler: () => Promise<void>): void {
  if (marker.getAttribute('aria-busy') === 'true') return
  marker.setAttribute('aria-busy', 'true')
  handler().catch(showError).finally(() => marker.removeAttribute('aria-busy'))
}

/** A form's submit handler (a script-driven form: nothing is posted by the browser itself). */
export function onSubmit (form: HTMLFormElement, handler: () => Promise<void>): void {
  form.addEventListener('submit', event => {
    event.preventDefault()
    once(form, handler)
  })
}

/** A lone button's handler. */
export function onPress (control: HTMLButtonElement, handler: () => Promise<void>): void {
  control.addEventListener('click', () => once(control, handler))
}
