/** Who a provider says signed in, in one shape whatever the provider. */
export interface ProviderProfile {
  /** The provider's stable id for the person (never the email: OIDC Core §5.7). */
  subject: string
  /** As the provider gave it (not yet canonical); null when it gave none. */
  email: string | null
  /** The provider vouches that the person controls `email`. */
  emailVerified: boolean
  name: string | null
  username: string | null
  /** An https image URL, or null. */
  avatar: string | null
}

/** Why talking to a provider failed; never carries the provider's own words. */
export class ProviderFailure extends Error {
  constructor (readonly reason: 'provider_error' | 'timeout' | 'unavailable', detail: string) {
    super(detail)
    this.name = 'ProviderFailure'
  }
}

type Json = Record<string, unknown>

const str = (value: unknown): string | null => typeof value === 'string' && value !== '' ? value : null
/** Ids arrive as strings (Google, Discord, Facebook) or numbers (GitHub). */
const id = (value: unknown): string | null => typeof value === 'number' && Number.isSafeInteger(value) ? String(value) : str(value)
/** An https image URL of sane length, or null: what any provider's picture must be to become an avatar. */
export const httpsUrl = (value: unknown): string | null => {
  const text = str(value)
  return text !== null && text.length <= 2048 && text.startsWith('https://') && URL.canParse(text) ? text : null
}

function subjectOf (value: unknown, provider: string): string {
  const subject = id(value)
  if (subject === null || subject.length > 255) throw new ProviderFailure('provider_error', `${provider} gave no usable subject`)
  return subject
}

/** Google: the ID token's claims (already checked for issuer, audience and expiry). */
export function googleProfile (claims: Json): ProviderProfile {
  return {
    subject: subjectOf(claims.sub, 'google'),
    email: str(claims.email),
    emailVerified: claims.email_verified === true,
    name: str(claims.name),
    username: null,
    avatar: httpsUrl(claims.picture)
  }
}

/** GitHub: `/user`, and `/user/emails`, whose primary address counts only when GitHub verified it. */
export function githubProfile (user: Json, emails: unknown): ProviderProfile {
  const list = Array.isArray(emails) ? emails as Json[] : []
  const primary = list.find(e => e.primary === true && str(e.email) !== null)
  return {
    subject: subjectOf(user.id, 'github'),
    email: str(primary?.email),
    emailVerified: primary?.verified === true,
    name: str(user.name),
    username: str(user.login),
    avatar: httpsUrl(user.avatar_url)
  }
}

/** Discord: `/users/@me`, with Discord's own `verified` flag for the email. */
export function discordProfile (user: Json): ProviderProfile {
  const subject = subjectOf(user.id, 'discord')
  const avatar = str(user.avatar)
  return {
    subject,
    email: str(user.email),
    emailVerified: user.verified === true,
    name: str(user.global_name) ?? str(user.username),
    username: str(user.username),
    avatar: avatar !== null && /^(a_)?[0-9a-f]{32}$/.test(avatar) ? `https://cdn.discordapp.com/avatars/${subject}/${avatar}.png` : null
  }
}

/** Facebook: `/me`. Facebook states no verification for the email it hands out, so it never counts as verified. */
export function facebookProfile (user: Json): ProviderProfile {
  const picture = (user.picture as { data?: Json } | undefined)?.data
  return {
    subject: subjectOf(user.id, 'facebook'),
    email: str(user.email),
    emailVerified: false,
    name: str(user.name),
    username: null,
    avatar: httpsUrl(picture?.url)
  }
}
