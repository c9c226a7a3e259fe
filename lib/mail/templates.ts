/** The mails the system sends. */
export type MailKind = 'verifyEmail' | 'resetRequest' | 'resetDone' | 'passwordChanged' | 'registrationAttempt' | 'identityLinked' | 'identityUnlinked'

/** What a template may use. User-supplied values (`name`) are escaped in HTML. */
export interface MailVars {
  appTitle: string
  name: string
  email: string
  /** The action link (verification, reset), or the reset page for notices that point to it. */
  link: string
  /** Minutes a link stays valid, when it expires. */
  validMinutes: number
  /** The sign-in provider a notice is about (`google`, `github`, ...), for the link and unlink notices. */
  provider?: string
}

export interface RenderedMail { subject: string, text: string, html: string }

/**
 * A host's replacement for one mail: a function of the variables, or template strings in which
 * `{{appTitle}}`, `{{name}}`, `{{email}}`, `{{link}}`, `{{validMinutes}}` and `{{provider}}` are replaced (HTML-escaped
 * in `html`). Fields left out keep the built-in text.
 */
export type MailTemplate = ((vars: MailVars) => RenderedMail) | Partial<RenderedMail>

const builtIn: Record<MailKind, Required<RenderedMail>> = {
  verifyEmail: {
    subject: 'Verify your email for {{appTitle}}',
    text: 'Hello {{name}},\n\nPlease confirm that {{email}} is your address by opening this link:\n{{link}}\n\nThe link is valid for {{validMinutes}} minutes. If you did not create an account, ignore this mail.\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>Please confirm that {{email}} is your address:</p><p><a href="{{link}}">Verify my email</a></p><p>The link is valid for {{validMinutes}} minutes. If you did not create an account, ignore this mail.</p><p>{{appTitle}}</p>'
  },
  resetRequest: {
    subject: 'Reset your {{appTitle}} password',
    text: 'Hello {{name}},\n\nSomeone asked to reset the password of your account. To choose a new one, open this link:\n{{link}}\n\nThe link is valid for {{validMinutes}} minutes and works once. If it was not you, ignore this mail: your password stays as it is.\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>Someone asked to reset the password of your account.</p><p><a href="{{link}}">Choose a new password</a></p><p>The link is valid for {{validMinutes}} minutes and works once. If it was not you, ignore this mail: your password stays as it is.</p><p>{{appTitle}}</p>'
  },
  resetDone: {
    subject: 'Your {{appTitle}} password was reset',
    text: 'Hello {{name}},\n\nThe password of your account was just reset, and every session was signed out. If this was not you, reset it again now: {{link}}\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>The password of your account was just reset, and every session was signed out.</p><p>If this was not you, <a href="{{link}}">reset it again now</a>.</p><p>{{appTitle}}</p>'
  },
  passwordChanged: {
    subject: 'Your {{appTitle}} password was changed',
    text: 'Hello {{name}},\n\nThe password of your account was just changed, and every other session was signed out. If this was not you, reset it now: {{link}}\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>The password of your account was just changed, and every other session was signed out.</p><p>If this was not you, <a href="{{link}}">reset it now</a>.</p><p>{{appTitle}}</p>'
  },
  registrationAttempt: {
    subject: 'Someone tried to sign up to {{appTitle}} with your email',
    text: 'Hello {{name}},\n\nSomeone tried to create an account with {{email}}, which already has one. Nothing was changed. If it was you and you forgot your password, reset it here: {{link}}\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>Someone tried to create an account with {{email}}, which already has one. Nothing was changed.</p><p>If it was you and you forgot your password, <a href="{{link}}">reset it here</a>.</p><p>{{appTitle}}</p>'
  },
  identityLinked: {
    subject: 'A {{provider}} sign-in was added to your {{appTitle}} account',
    text: 'Hello {{name}},\n\nYour account can now be signed into with {{provider}}. If this was not you, reset your password now and remove that sign-in from your profile: {{link}}\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>Your account can now be signed into with {{provider}}.</p><p>If this was not you, <a href="{{link}}">reset your password now</a> and remove that sign-in from your profile.</p><p>{{appTitle}}</p>'
  },
  identityUnlinked: {
    subject: 'A {{provider}} sign-in was removed from your {{appTitle}} account',
    text: 'Hello {{name}},\n\nYour account can no longer be signed into with {{provider}}. If this was not you, reset your password now: {{link}}\n\n{{appTitle}}',
    html: '<p>Hello {{name}},</p><p>Your account can no longer be signed into with {{provider}}.</p><p>If this was not you, <a href="{{link}}">reset your password now</a>.</p><p>{{appTitle}}</p>'
  }
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
const escapeHtml = (value: string): string => value.replace(/[&<>"']/g, c => escapes[c] as string)

function fill (template: string, vars: MailVars, html: boolean): string {
  return template.replace(/\{\{(appTitle|name|email|link|validMinutes|provider)\}\}/g, (_, key: keyof MailVars) => {
    const value = String(vars[key] ?? '')
    return html ? escapeHtml(value) : value
  })
}

/** Renders one mail: the host's template where it gave one, the built-in text otherwise. Subjects never span lines. */
export function renderMail (kind: MailKind, vars: MailVars, override?: MailTemplate): RenderedMail {
  const custom = typeof override === 'function' ? override(vars) : override
  const base = builtIn[kind]
  const pick = (field: keyof RenderedMail): string => typeof override === 'function' ? (custom as RenderedMail)[field] : fill(custom?.[field] ?? base[field], vars, field === 'html')
  return { subject: pick('subject').replace(/[\r\n]+/g, ' '), text: pick('text'), html: pick('html') }
}
