import { dictionary } from '@zxcvbn-ts/language-common'
import { isGuessable } from './strength.ts'

export const MAX_PASSWORD_LENGTH = 128

// The maintained list of common passwords from zxcvbn-ts (tens of thousands of entries), compared case-insensitively.
const common: ReadonlySet<string> = new Set(dictionary['passwords-common'].map(p => p.toLowerCase()))

/** What a password must not be made of: the account's own details and the app's name. */
export interface PasswordContext {
  email?: string | null
  name?: string | null
  username?: string | null
  appTitle?: string | null
}

/** Shorter pieces (`ann`, `bob`) are in too many good passwords to refuse. */
const MIN_PIECE = 4

/**
 * The password policy, applied wherever a password is set (never at login): length in code points
 * from `minLength` to 128, not blank, not a common password, no piece of the account's email (its local
 * part), name, username or the app's title, and not guessable by the strength estimator. Returns the
 * reason it fails, never echoing the password, or null. The cheap checks run first.
 */
export function passwordProblem (password: string, minLength: number, context: PasswordContext = {}): string | null {
  const length = [...password].length
  if (length < minLength) return `Password must be at least ${minLength} characters long.`
  if (length > MAX_PASSWORD_LENGTH) return `Password must be at most ${MAX_PASSWORD_LENGTH} characters long.`
  if (password.trim() === '') return 'Password cannot be only spaces.'
  const folded = password.normalize('NFKC').toLowerCase()
  if (common.has(folded)) return 'This password is too common. Choose another one.'
  const pieces = personalPieces(context)
  if (pieces.some(piece => folded.includes(piece))) return 'The password must not contain your name, username or email address, or the name of this app.'
  if (isGuessable(password, pieces)) return 'This password is too easy to guess. Use a few unrelated words or a longer phrase.'
  return null
}

/** The words of the account's details, lower-cased, of at least MIN_PIECE characters; for the email only its local part. */
function personalPieces (context: PasswordContext): string[] {
  const local = context.email?.split('@', 1)[0] ?? ''
  const sources = [local, context.name ?? '', context.username ?? '', context.appTitle ?? '']
  const pieces = new Set<string>()
  for (const source of sources) {
    const folded = source.normalize('NFKC').toLowerCase()
    // The whole value (`librechat`) and each of its words (`alice`, `liddell`).
    for (const piece of [folded.replace(/[^\p{L}\p{N}]+/gu, ''), ...folded.split(/[^\p{L}\p{N}]+/u)]) {
      if ([...piece].length >= MIN_PIECE) pieces.add(piece)
    }
  }
  return [...pieces]
}
