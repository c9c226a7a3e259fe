import fastifyEnv from '@fastify/env'
import Fastify from 'fastify'
import t from 'tap'
import { optionsFromEnv } from '../../lib/env/options-from-env.ts'
import { envSchema, envVariables } from '../../lib/env/variables.ts'

const refusal = (env: Record<string, string>): string => {
  try {
    optionsFromEnv(env)
  } catch (error) {
    return (error as Error).message
  }
  return 'accepted'
}

t.test('maps every LibreChat variable to its option, in its unit', async t => {
  t.same(optionsFromEnv({
    JWT_SECRET: 'access',
    JWT_REFRESH_SECRET: 'refresh',
    DOMAIN_SERVER: 'https://api.example.com',
    DOMAIN_CLIENT: 'https://chat.example.com',
    ALLOW_EMAIL_LOGIN: 'false',
    ALLOW_REGISTRATION: ' TRUE ',
    ALLOW_SOCIAL_LOGIN: 'True',
    ALLOW_SOCIAL_REGISTRATION: 'false',
    ALLOWED_EMAIL_DOMAINS: 'example.com, example.org,,',
    SESSION_EXPIRY: '1000 * 60 * 15',
    REFRESH_TOKEN_EXPIRY: '(1000 * 60 * 60 * 24) * 7',
    SESSION_MAX_AGE: '30d',
    REFRESH_REUSE_INTERVAL: '5000',
    SESSION_MAX_PER_USER: '5',
    PASSWORD_HASH_CONCURRENCY: '3',
    PASSWORD_HASH_MAX_WAIT: '2s',
    MIN_PASSWORD_LENGTH: '15',
    BCRYPT_ROUNDS: '13',
    SESSION_COOKIE_SECURE: 'false',
    APP_TITLE: 'My Chat',
    DATABASE_URL: 'postgres://db.internal/app',
    DATABASE_TIMEOUT_MS: '1500',
    NODE_ENV: 'production'
  }), {
    jwtSecret: 'access',
    jwtRefreshSecret: 'refresh',
    domainServer: 'https://api.example.com',
    domainClient: 'https://chat.example.com',
    allowEmailLogin: false,
    allowRegistration: true,
    allowSocialLogin: true,
    allowSocialRegistration: false,
    allowedEmailDomains: ['example.com', 'example.org'],
    sessionExpiry: 900_000,
    refreshTokenExpiry: 604_800_000,
    sessionMaxAge: 2_592_000_000,
    refreshReuseInterval: 5000,
    sessionMaxPerUser: 5,
    hashConcurrency: 3,
    hashMaxWait: 2000,
    minPasswordLength: 15,
    bcryptRounds: 13,
    sessionCookieSecure: false,
    appTitle: 'My Chat',
    storage: { url: 'postgres://db.internal/app' },
    databaseTimeout: 1500,
    production: true
  })
})

t.test('an empty variable counts as unset; production only for NODE_ENV=production', async t => {
  t.same(optionsFromEnv({ JWT_SECRET: '', ALLOW_REGISTRATION: '  ', SESSION_EXPIRY: '', NODE_ENV: 'development' }), { allowRegistration: false, production: false })
  t.same(optionsFromEnv({ NODE_ENV: '' }), { allowRegistration: false }, 'unset NODE_ENV leaves production to the plugin')
  t.same(optionsFromEnv({}), { allowRegistration: false }, 'unset ALLOW_REGISTRATION: closed, as in LibreChat')
})

t.test('a value it cannot read is an error naming the variable', async t => {
  t.match(refusal({ ALLOW_REGISTRATION: 'yes' }), /ALLOW_REGISTRATION must be true or false/)
  t.match(refusal({ ALLOW_EMAIL_LOGIN: '1' }), /ALLOW_EMAIL_LOGIN must be true or false/)
  t.match(refusal({ SESSION_EXPIRY: 'require("fs")' }), /SESSION_EXPIRY must be a duration/)
  t.match(refusal({ REFRESH_TOKEN_EXPIRY: '1000 + 1' }), /REFRESH_TOKEN_EXPIRY must be a duration/)
  t.match(refusal({ MIN_PASSWORD_LENGTH: '8.5' }), /MIN_PASSWORD_LENGTH must be a whole number/)
  t.match(refusal({ BCRYPT_ROUNDS: '-1' }), /BCRYPT_ROUNDS must be a whole number/)
  t.match(refusal({ REFRESH_REUSE_INTERVAL: 'soon' }), /FST_LCAUTH_CONFIG_INVALID|REFRESH_REUSE_INTERVAL/)
})

t.test('inherited properties of the env object are not read', async t => {
  const env = Object.create({ JWT_SECRET: 'inherited' }) as Record<string, string>
  t.same(optionsFromEnv(env), { allowRegistration: false })
})

t.test('the JSON schema covers every variable as a string and works with @fastify/env', async t => {
  t.same(Object.keys(envSchema.properties).sort(), Object.keys(envVariables).sort())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(fastifyEnv, { schema: envSchema, data: { SESSION_EXPIRY: '1000 * 60', ALLOW_REGISTRATION: 'false', UNRELATED: 'x' } })
  const env = app.getEnvs<Record<string, string>>()
  t.equal(env.SESSION_EXPIRY, '1000 * 60')
  t.same(optionsFromEnv(env).sessionExpiry, 60_000)
  t.same(optionsFromEnv(env).allowRegistration, false)
})
