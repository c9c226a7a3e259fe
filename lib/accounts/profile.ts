/** LibreChat's rules for the profile fields of a registration, counted in code points. */

const NAME_MIN = 3
const NAME_MAX = 80
const USERNAME_MIN = 2
const USERNAME_MAX = 80
// Letters and digits of any script plus LibreChat's punctuation; no spaces, quotes, braces, slashes or angle brackets.
const USERNAME_CHARS = /^[\p{L}\p{M}\p{N}_.@#$%&()-]+$/u
// Control and format characters (Cc, Cf: bidi overrides, zero-width characters) would let a name forge
// log lines or disguise itself.
const UNSAFE_CHARS = /[\p{Cc}\p{Cf}]/u
// A name is shown to people (and was put into mails): no scheme, no `www.`, no `host.tld/path`, so it
// cannot carry a link. Checked on the NFKC form, so full-width look-alikes count too.
const LINK_LIKE = /:\/\/|www\.|[\p{L}\p{N}]\.[\p{L}\p{N}-]{2,}\//iu

const length = (text: string): number => [...text].length

/** The problem with a display name, or null. */
export function nameProblem (name: string): string | null {
  const n = length(name.trim())
  if (n < NAME_MIN || n > NAME_MAX) return `Name must be ${NAME_MIN} to ${NAME_MAX} characters long.`
  if (UNSAFE_CHARS.test(name)) return 'Name contains characters that are not allowed.'
  if (LINK_LIKE.test(name.normalize('NFKC'))) return 'Name must not contain a web address.'
  return null
}

/** The problem with a username (already known to be non-empty), or null. */
export function usernameProblem (username: string): string | null {
  const n = length(username)
  if (n < USERNAME_MIN || n > USERNAME_MAX) return `Username must be ${USERNAME_MIN} to ${USERNAME_MAX} characters long.`
  if (!USERNAME_CHARS.test(username)) return 'Username contains characters that are not allowed.'
  return null
}
