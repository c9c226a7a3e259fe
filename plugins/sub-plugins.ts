import type { FastifyPluginAsync } from 'fastify'
import { SOCIAL_PROVIDERS } from '../lib/identities/presets.ts'
import { socialProviderPlugin } from './oauth/social-provider.ts'
import { identitiesPlugin } from './identities.ts'
import { openidPlugin } from './oauth/openid.ts'
import { configPlugin } from './config.ts'
import { emailVerificationPlugin } from './email-verification.ts'
import { localPlugin } from './local.ts'
import { moderationPlugin } from './moderation.ts'
import { passwordPlugin } from './password.ts'
import { passwordResetPlugin } from './password-reset.ts'
import { sessionsPlugin } from './sessions.ts'
import { tokensPlugin } from './tokens.ts'
import { userPlugin } from './user.ts'

/** Which of the configured prefixes a sub-plugin's routes go under (`none`: it sets its own paths). */
export type PrefixName = 'auth' | 'user' | 'none'

/**
 * The sub-plugins the root registers in its scope, in this order (moderation first: the others put
 * its guards in front of their routes). A new capability, such as a login provider, is one more entry.
 */
export const SUB_PLUGINS: ReadonlyArray<{ plugin: FastifyPluginAsync, prefix: PrefixName }> = [
  { plugin: moderationPlugin, prefix: 'none' },
  { plugin: localPlugin, prefix: 'auth' },
  { plugin: tokensPlugin, prefix: 'auth' },
  { plugin: sessionsPlugin, prefix: 'auth' },
  { plugin: passwordPlugin, prefix: 'auth' },
  { plugin: passwordResetPlugin, prefix: 'auth' },
  { plugin: emailVerificationPlugin, prefix: 'user' },
  { plugin: userPlugin, prefix: 'user' },
  // One named sub-plugin per social provider; one that is not enabled adds no route.
  ...SOCIAL_PROVIDERS.map(name => ({ plugin: socialProviderPlugin(name), prefix: 'none' as const })),
  { plugin: openidPlugin, prefix: 'none' },
  { plugin: identitiesPlugin, prefix: 'user' },
  { plugin: configPlugin, prefix: 'auth' }
]
