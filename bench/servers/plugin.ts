// The plugin with a protected host route; storage from DATABASE_URL (memory without it).
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
await serve(app)
