// Baseline: the same protected route on bare Fastify, with the same handler and no authentication.
import Fastify from 'fastify'
import { protectedHandler, serve } from './common.ts'

const app = Fastify()
app.get('/api/protected', protectedHandler)
await serve(app)
