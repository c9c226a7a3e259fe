// A small consumer compiled against the built package (dist/), the way a host app sees it.
import Fastify from 'fastify'
import authPlugin, { errors, memoryStorage, optionsFromEnv, type AuthEvents, type AuthOptions, type AuthUser, type LoginFailureReason, type PublicUser } from 'librechat-auth'

const app = Fastify()
const options: AuthOptions = {
  ...optionsFromEnv(process.env),
  jwtSecret: 'a'.repeat(32),
  jwtRefreshSecret: 'b'.repeat(32),
  domainServer: 'https://chat.example.com',
  storage: memoryStorage(),
  accessTokenClaims: (user) => ({ tenant: user.email.split('@')[1] })
}
await app.register(authPlugin, options)

app.get('/me', { preHandler: app.lcauth.authenticate }, async (request) => {
  const user: AuthUser | null = request.authUser
  // @ts-expect-error authUser may be null until authenticate ran
  const unchecked: string = request.authUser.id
  // @ts-expect-error the plugin never claims request.user
  void request.user
  return { id: user?.id, role: user?.role, unchecked }
})
app.get('/admin', { preHandler: app.lcauth.requireRole('ADMIN') }, async () => ({ ok: true }))
// @ts-expect-error roles are USER or ADMIN
app.lcauth.requireRole('ROOT')

app.lcauth.events.on('login.failure', (event: AuthEvents['login.failure']) => {
  const reason: LoginFailureReason = event.reason
  // @ts-expect-error the reason is one of a closed list
  const wrong: 'nope' = event.reason
  void wrong
  void reason
})
// @ts-expect-error unknown event names do not compile
app.lcauth.events.on('login.nope', () => {})

const error = new errors.FST_LCAUTH_UNAUTHORIZED()
const code: 'FST_LCAUTH_UNAUTHORIZED' = error.code
const shown: PublicUser | null = null
void code
void shown
await app.close()
