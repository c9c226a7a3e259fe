import type { Role, User } from '../ports/storage.ts'

/** What a client may see of a user: never the password hash or internal state. */
export interface PublicUser {
  id: string
  name: string
  username: string | null
  email: string
  emailVerified: boolean
  avatar: string | null
  provider: string
  role: Role
  createdAt: string
  updatedAt: string
}

export function publicUser (user: User): PublicUser {
  return {
    id: user.id,
    name: user.name,
    username: user.username,
    email: user.email,
    emailVerified: user.emailVerified,
    avatar: user.avatar,
    provider: user.provider,
    role: user.role,
    createdAt: user.createdAt.toISOString(),
    updatedAt: user.updatedAt.toISOString()
  }
}
