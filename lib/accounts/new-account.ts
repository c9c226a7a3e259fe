import { passwordProblem } from '../passwords/policy.ts'
import { canonicalEmail } from './email.ts'
import { nameProblem, usernameProblem } from './profile.ts'

export interface NewAccountInput {
  email: string
  name: string
  username?: string | null | undefined
  password: string
  /** When given, must equal `password`. */
  confirmPassword?: string
}

export type NewAccountCheck =
  | { ok: true, email: string, name: string, username: string | null }
  | { ok: false, kind: 'invalid' | 'policy', problem: string, email: string | null }

/**
 * The rules every new local account meets, whether it comes from the registration route or the CLI:
 * a valid canonical email, LibreChat's name and username rules, the password policy (which also keeps
 * the account's own details and the app's title out of the password).
 */
export function checkNewAccount (input: NewAccountInput, minPasswordLength: number, appTitle: string): NewAccountCheck {
  const email = canonicalEmail(input.email)
  const username = input.username === undefined || input.username === null || input.username === '' ? null : input.username
  const invalid = (email === null ? 'Please enter a valid email address.' : null) ??
    nameProblem(input.name) ?? (username === null ? null : usernameProblem(username))
  if (invalid !== null) return { ok: false, kind: 'invalid', problem: invalid, email }
  const weak = passwordProblem(input.password, minPasswordLength, { email, name: input.name, username, appTitle }) ??
    (input.confirmPassword === undefined || input.password === input.confirmPassword ? null : 'The passwords did not match.')
  if (weak !== null) return { ok: false, kind: 'policy', problem: weak, email }
  return { ok: true, email: email as string, name: input.name.trim(), username }
}
