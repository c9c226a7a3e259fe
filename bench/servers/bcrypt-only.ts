// Baseline for logins: a route that only runs one bcrypt comparison at the same cost, over the same
// SHA-256 pre-hash the plugin uses, and answers 200.
import { createHash } from 'node:crypto'
import bcrypt from 'bcrypt'
import Fastify from 'fastify'
import { ROUNDS, serve } from './common.ts'

const prehash = (password: string): string => createHash('sha256').update(password.normalize('NFKC')).digest('base64')
const stored = await bcrypt.hash(prehash('correct horse battery staple'), ROUNDS)
const app = Fastify()
app.post('/api/auth/login', async (request) => {
  const { password } = request.body as { password: string }
  return { ok: await bcrypt.compare(prehash(password), stored) }
})
await serve(app)
