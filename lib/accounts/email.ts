import { domainToASCII } from 'node:url'

export const MAX_EMAIL_LENGTH = 254
const MAX_LOCAL_LENGTH = 64
// RFC 5322 dot-atom characters, ASCII only: quoted local parts, comments and non-ASCII are refused.
const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+$/
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/**
 * The one canonical form of an email address, used for storage, login, limiter keys and events:
 * trimmed, NFC, local part ASCII and lower-cased, domain lower-cased and converted to its ASCII (punycode)
 * form, at most 254 characters. Null when the text is not an address this system accepts.
 * Lengths are checked before any pattern, so a huge input costs nothing.
 */
export function canonicalEmail (input: string): string | null {
  if (input.length > MAX_EMAIL_LENGTH * 4) return null
  const value = input.trim().normalize('NFC')
  const at = value.indexOf('@')
  if (at <= 0 || at !== value.lastIndexOf('@')) return null
  const local = value.slice(0, at)
  if (local.length > MAX_LOCAL_LENGTH || !LOCAL_ATOM.test(local.replaceAll('.', '')) || !validDots(local)) return null
  const domain = canonicalDomain(value.slice(at + 1))
  if (domain === null) return null
  const email = `${local.toLowerCase()}@${domain}`
  return email.length <= MAX_EMAIL_LENGTH ? email : null
}

/** A domain in lower-case ASCII (punycode) form with at least two labels, or null. */
export function canonicalDomain (input: string): string | null {
  if (input.length === 0 || input.length > 253 * 4) return null
  const ascii = domainToASCII(input.toLowerCase())
  if (ascii === '' || ascii.length > 253) return null
  const labels = ascii.split('.')
  if (labels.length < 2 || !labels.every(label => DOMAIN_LABEL.test(label))) return null
  return ascii
}

function validDots (local: string): boolean {
  return !local.startsWith('.') && !local.endsWith('.') && !local.includes('..')
}

/** The domain part of a canonical email. */
export function emailDomain (canonical: string): string {
  return canonical.slice(canonical.indexOf('@') + 1)
}
