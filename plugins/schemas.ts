/**
 * JSON schemas of the plugin's routes. Length caps run before any pattern or hash. Response schemas
 * double as allow-lists: a field not listed here never leaves the server.
 */
export type Schema = Readonly<Record<string, unknown>>

export const registerBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'email', 'password', 'confirm_password'],
  properties: {
    name: { type: 'string', maxLength: 320 },
    username: { anyOf: [{ type: 'string', maxLength: 320 }, { type: 'null' }] },
    email: { type: 'string', maxLength: 320 },
    password: { type: 'string', maxLength: 1024 },
    confirm_password: { type: 'string', maxLength: 1024 }
  }
}

export const loginBody: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['email', 'password'],
  properties: {
    email: { type: 'string', maxLength: 320 },
    password: { type: 'string', maxLength: 1024 }
  }
}

export const publicUserSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'username', 'email', 'emailVerified', 'avatar', 'provider', 'role', 'createdAt', 'updatedAt'],
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    username: { type: ['string', 'null'] },
    email: { type: 'string' },
    emailVerified: { type: 'boolean' },
    avatar: { type: ['string', 'null'] },
    provider: { type: 'string' },
    role: { type: 'string' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' }
  }
}

export const tokenResponse: Schema = {
  200: {
    description: 'A new access token and the user; the refresh cookie is set.',
    type: 'object',
    additionalProperties: false,
    required: ['token', 'user'],
    properties: { token: { type: 'string' }, user: publicUserSchema }
  }
}

export const messageResponse: Schema = {
  200: {
    description: 'Done; `message` is for the user.',
    type: 'object',
    additionalProperties: false,
    required: ['message'],
    properties: { message: { type: 'string' } }
  }
}

/**
 * The proof a sensitive change of the signed-in user's account asks for (deleting it, linking a
 * sign-in). No body at all counts as `{}`.
 */
export const reauthenticationBody: Schema = {
  description: 'Optional: no body at all is the same as {}. Accounts with a password must give it; accounts without one need a session started in the last five minutes.',
  type: 'object',
  additionalProperties: false,
  properties: { password: { type: 'string', maxLength: 1024 } }
}
