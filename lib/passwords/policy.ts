import { dictionary } from '@zxcvbn-ts/language-common'

export const MAX_PASSWORD_LENGTH = 128

// The maintained list of common passwords from zxcvbn-ts (tens of thousands of entries), compared case-insensitively.
const common: ReadonlySet<string> = new Set(dictionary['passwords-common'].map(p => p.toLowerCase()))

/**
 * The password policy, applied wherever a password is set (never at login): length in code points
 * from `minLength` to 128, not blank, not a common password. Returns the reason it fails, or null.
 */
export function passwordProblem (password: string, minLength: number): string | null {
  const length = [...password].length
  if (length < minLength) return `Password must be at least ${minLength} characters long.`
  if (length > MAX_PASSWORD_LENGTH) return `Password must be at most ${MAX_PASSWORD_LENGTH} characters long.`
  if (password.trim() === '') return 'Password cannot be only spaces.'
  if (common.has(password.normalize('NFKC').toLowerCase())) return 'This password is too common. Choose another one.'
  return null
}
