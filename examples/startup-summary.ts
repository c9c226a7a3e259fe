import type { FastifyInstance } from 'fastify'
import type { AuthOptions } from '../index.ts'

/** How the example sends mail. */
export type MailMode = { kind: 'inbox' } | { kind: 'smtp', server: string } | { kind: 'none' }

export interface StartupFacts {
  url: string
  storage: string
  mail: string
  signIn: string[]
  envFile: string | null
  warnings: string[]
}

/** Where accounts live, in words, without a password: the SQLite file, the PostgreSQL server, or memory. */
export function storageOf (storage: AuthOptions['storage']): string {
  if (storage === undefined) return 'memory (lost when the server stops)'
  if (!('url' in storage)) return storage.kind
  const { url } = storage
  if (url.startsWith('sqlite:')) return `SQLite, ${url.slice('sqlite:'.length)}`
  try {
    const { hostname, port, pathname } = new URL(url)
    return `PostgreSQL on ${hostname}${port === '' ? '' : `:${port}`}${pathname}`
  } catch {
    return 'PostgreSQL'
  }
}

/** What the mail setting means for the user. */
export function mailOf (mode: MailMode, url: string): string {
  if (mode.kind === 'inbox') return `development inbox at ${url}/dev/mail (nothing is sent)`
  if (mode.kind === 'smtp') return `SMTP via ${mode.server}`
  return 'none: no verification or reset mails (set EMAIL_* or EMAIL_DEV_INBOX=true)'
}

/** The sign-in methods on offer, from the plugin's resolved configuration and its provider list. */
export function signInOf (app: FastifyInstance): string[] {
  const { config, providers } = app.lcauth
  const methods = [
    config.allowEmailLogin ? 'email and password' : 'email login off (ALLOW_EMAIL_LOGIN=false)',
    config.allowRegistration ? 'registration open' : 'registration closed (ALLOW_REGISTRATION=false)'
  ]
  const offered = providers.list().map(p => p.name === 'openid' ? `OpenID ("${p.label}")` : p.label.replace(/^Continue with /, ''))
  if (offered.length > 0) methods.push(...offered)
  else if (!config.allowSocialLogin) methods.push('no social login (ALLOW_SOCIAL_LOGIN=false)')
  return methods
}

/** The block printed once the server listens (on a terminal). */
export function summaryText (facts: StartupFacts): string {
  const row = (label: string, value: string): string => `  ${label.padEnd(10)}${value}\n`
  return [
    '\nlibrechat-auth example is ready\n',
    row('Open', facts.url),
    row('Storage', facts.storage),
    row('Mail', facts.mail),
    row('Sign-in', facts.signIn.join(', ')),
    facts.envFile === null ? '' : row('Loaded', facts.envFile),
    facts.warnings.length === 0 ? row('Warnings', 'none') : row('Warnings', String(facts.warnings.length)) + facts.warnings.map(w => `    - ${w}\n`).join(''),
    '\n'
  ].join('')
}
