import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const root = new URL('../../', import.meta.url).pathname
// Absolute, so the example also starts from another working directory (a folder with its own .env).
const tsx = import.meta.resolve('tsx')
const server = `${root}examples/server.ts`

export interface ExampleOptions {
  /** The working directory: where the example looks for `.env` (and puts a relative DATA_DIR). Default: the repository. */
  cwd?: string
}

/** A free loopback port, found by binding and releasing it. */
export async function freePort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** A fresh, empty data folder for one example server (its SQLite file and development secrets). */
export function dataDir (): Promise<string> {
  return mkdtemp(join(tmpdir(), 'lcauth-example-'))
}

export interface RunningExample {
  url: string
  pid: number
  output: () => string
  stop: () => Promise<void>
}

/**
 * Starts the example server the way a user does (`npm run example`, i.e. tsx), configured only
 * through environment variables: the given ones plus PATH, nothing inherited from the test process
 * (and a `.env` in its working directory, which the example reads too).
 */
export async function startExample (env: Record<string, string>, options: ExampleOptions = {}): Promise<RunningExample> {
  // A test that must know the port up front (a provider's registered redirect URI) passes PORT itself.
  const port = env.PORT === undefined ? await freePort() : Number(env.PORT)
  const child = spawn(process.execPath, ['--import', tsx, server], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exited = once(child, 'exit')
  const deadline = Date.now() + 30_000
  while (!output.includes('Server listening')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`example did not start:\n${output}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid as number,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM')
      await exited
    }
  }
}

/** Runs the example expecting it to refuse to start; returns its exit code and output. */
export async function failingExample (env: Record<string, string>, options: ExampleOptions = {}): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, ['--import', tsx, server], {
    cwd: options.cwd ?? root,
    env: { PATH: process.env.PATH ?? '', PORT: String(await freePort()), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, output }
}
