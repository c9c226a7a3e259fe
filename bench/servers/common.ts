import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { FastifyInstance, FastifyRequest } from 'fastify'

/**
 * Every benchmark server: listens on PORT, prints `listening` when ready, and answers
 * GET /__bench/loop-delay with the event-loop delay p99 (ms) measured since the last reset, and
 * GET /__bench/cpu with the CPU time it has used.
 */
export async function serve (app: FastifyInstance): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  app.get('/__bench/loop-delay', async (request) => {
    const p99 = delay.percentile(99) / 1e6
    const max = delay.max / 1e6
    if ((request.query as Record<string, string>).reset === 'true') delay.reset()
    return { p99, max }
  })
  // CPU time this process has used, µs: the runner divides a load's share by its requests.
  app.get('/__bench/cpu', async () => {
    const { user, system } = process.cpuUsage()
    return { us: user + system }
  })
  await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
  process.stdout.write('listening\n')
  process.once('SIGTERM', () => { app.close().then(() => process.exit(0), () => process.exit(1)) })
}

export const ROUNDS = Number(process.env.BCRYPT_ROUNDS ?? 10)

/** The handler both protected-route servers use, so the only difference is the authentication hook. */
export async function protectedHandler (request: FastifyRequest): Promise<{ id: string }> {
  return { id: (request as FastifyRequest & { authUser?: { id: string } | null }).authUser?.id ?? 'baseline-user-id-000000' }
}
