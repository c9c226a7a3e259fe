// The plugin with protected host routes; storage from DATABASE_URL (memory without it), bans from
// USE_REDIS/REDIS_URI (memory without them), limits from the moderation variables the runner sets.
import Fastify from 'fastify'
import authPlugin, { optionsFromEnv } from '../../index.ts'
import { protectedHandler, ROUNDS, serve } from './common.ts'

const app = Fastify()
await app.register(authPlugin, {
  ...optionsFromEnv(process.env),
  jwtSecret: 'bench-access-secret-0123456789-0123456789',
  jwtRefreshSecret: 'bench-refresh-secret-0123456789-012345678',
  domainServer: 'http://127.0.0.1',
  bcryptRounds: ROUNDS,
  production: false
})
app.get('/api/protected', { preHandler: app.lcauth.authenticate }, protectedHandler)
// The same route with LibreChat's message moderation: the ban check and the per-IP and per-user
// message limiters; then with the in-flight count as well.
app.get('/api/moderated', { preHandler: app.lcauth.authenticate, config: { lcauth: { moderation: ['message'] } } }, protectedHandler)
app.get('/api/moderated-concurrent', { preHandler: app.lcauth.authenticate, config: { lcauth: { moderation: ['message', 'concurrent'] } } }, protectedHandler)
await serve(app)
