import type { FastifyPluginAsync } from 'fastify'
import { documented, errorResponses } from './route-docs.ts'
import { subPlugin } from './sub-plugin.ts'

const configResponse = {
  200: {
    description: 'What a login page needs to know, with LibreChat\'s field names.',
    type: 'object',
    additionalProperties: false,
    properties: {
      emailLoginEnabled: { type: 'boolean' },
      registrationEnabled: { type: 'boolean' },
      socialLoginEnabled: { type: 'boolean' },
      emailEnabled: { type: 'boolean' },
      passwordResetEnabled: { type: 'boolean' },
      socialLogins: { type: 'array', items: { type: 'string' } },
      googleLoginEnabled: { type: 'boolean' },
      githubLoginEnabled: { type: 'boolean' },
      discordLoginEnabled: { type: 'boolean' },
      facebookLoginEnabled: { type: 'boolean' },
      openidLoginEnabled: { type: 'boolean' },
      openidLabel: { type: 'string' },
      openidImageUrl: { type: 'string' },
      openidAutoRedirect: { type: 'boolean' },
      serverDomain: { type: 'string' },
      minPasswordLength: { type: 'integer' }
    }
  }
} as const

/** The social providers LibreChat's login page knows by name; any other registered provider is listed in `socialLogins` only. */
const NAMED_FLAGS = ['google', 'github', 'discord', 'facebook'] as const

/** LibreChat's default `socialLogins` order; providers it does not know follow, in registration order. */
const LIBRECHAT_ORDER = ['google', 'facebook', 'openid', 'github', 'discord']
const rank = (name: string): number => {
  const at = LIBRECHAT_ORDER.indexOf(name)
  return at === -1 ? LIBRECHAT_ORDER.length : at
}

/**
 * `librechat-auth/config`: GET config, what a login page needs to know, with LibreChat's field names.
 * The providers come from the registry their sub-plugins fill.
 */
export const configPlugin: FastifyPluginAsync = subPlugin('config', async function config (fastify) {
  const { lcauth } = fastify
  const build = (): Record<string, unknown> => {
    const { config } = lcauth
    const names = lcauth.providers.list().map(p => p.name)
    const openid = lcauth.providers.get('openid')
    const flags = Object.fromEntries(NAMED_FLAGS.map(name => [`${name}LoginEnabled`, names.includes(name)]))
    return {
      emailLoginEnabled: config.allowEmailLogin,
      registrationEnabled: config.allowRegistration,
      socialLoginEnabled: config.allowSocialLogin,
      emailEnabled: lcauth.mail !== null,
      passwordResetEnabled: lcauth.passwordReset.mode !== 'disabled',
      // A stable sort keeps registration order among providers of equal rank.
      socialLogins: [...names].sort((a, b) => rank(a) - rank(b)),
      ...flags,
      openidLoginEnabled: openid !== null,
      openidLabel: openid?.label ?? 'Login with OpenID',
      openidImageUrl: openid?.imageUrl ?? '',
      openidAutoRedirect: openid !== null && config.openid?.autoRedirect === true,
      serverDomain: config.domainServer,
      minPasswordLength: config.minPasswordLength
    }
  }

  fastify.get('/config', {
    schema: documented({ summary: 'What the login page should offer (LibreChat\'s startup config fields)', tags: ['auth'], response: { ...configResponse, ...errorResponses() } })
  }, async () => build())
})
