import { configError } from '../errors.ts'

/** A way to sign in other than email and password, as the login page lists it. */
export interface LoginProvider {
  /** The name in paths and `/api/auth/config` (`google`, `github`, `discord`, `facebook`, `openid`, ...). */
  name: string
  /** What the button says (`Continue with GitHub`). */
  label: string
  /** An image for the button, when the provider has one (`OPENID_IMAGE_URL`). */
  imageUrl?: string
}

/**
 * The providers this app offers, in the order they were added. Each social or OpenID sub-plugin adds
 * its own at registration; `/api/auth/config` and the login page read the list.
 */
export interface ProviderRegistry {
  /** Throws when a provider of that name is already there (two plugins would fight over its routes). */
  add(provider: LoginProvider): void
  get(name: string): LoginProvider | null
  list(): readonly LoginProvider[]
}

const NAME = /^[a-z][a-z0-9-]{0,31}$/

export function providerRegistry (): ProviderRegistry {
  const providers = new Map<string, LoginProvider>()
  return {
    add (provider) {
      if (!NAME.test(provider.name)) throw configError('provider name', 'must be lower-case letters, digits and dashes, starting with a letter')
      if (providers.has(provider.name)) throw configError(`provider ${provider.name}`, 'is registered twice')
      providers.set(provider.name, Object.freeze({ ...provider }))
    },
    get: (name) => providers.get(name) ?? null,
    list: () => [...providers.values()]
  }
}
