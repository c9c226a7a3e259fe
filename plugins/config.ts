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
      appleLoginEnabled: { type: 'boolean' },
      openidLoginEnabled: { type: 'boolean' },
      openidLabel: { type: 'string' },
      openidImageUrl: { type: 'string' },
      openidAutoRedirect: { type: 'boolean' },
      samlLoginEnabled: { type: 'boolean' },
      samlLabel: { type: 'string' },
      samlImageUrl: { type: 'string' },
      ldap: { type: 'object', additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
      serverDomain: { type: 'string' },
      minPasswordLength: { type: 'integer' }
    }
  }
} as const

/**
 * `librechat-auth/config`: GET config, the auth part of LibreChat's startup config
 * (`fastify.lcauth.startupConfig()`), whose providers come from the registry their sub-plugins fill.
 */
export const configPlugin: FastifyPluginAsync = subPlugin('config', async function config (fastify) {
  const { lcauth } = fastify
  fastify.get('/config', {
    schema: documented({ summary: 'What the login page should offer (LibreChat\'s startup config fields)', tags: ['auth'], response: { ...configResponse, ...errorResponses() } })
  }, async () => lcauth.startupConfig())
})
