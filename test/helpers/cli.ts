import { PassThrough } from 'node:stream'
import type { Storage } from '../../index.ts'
import { runCli } from '../../lib/cli/run.ts'

export interface CliResult { code: number, stdout: string, stderr: string }

/**
 * Runs the CLI in-process with the given stdin text (not a terminal unless `tty`), environment and,
 * optionally, an injected storage.
 */
export async function cli (argv: string[], options: { stdin?: string, env?: Record<string, string>, storage?: Storage, tty?: boolean, defaultDatabaseUrl?: string } = {}): Promise<CliResult> {
  const stdin = Object.assign(new PassThrough(), { isTTY: options.tty === true, setRawMode: () => stdin })
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  let out = ''
  let err = ''
  stdout.on('data', (chunk: Buffer) => { out += chunk.toString() })
  stderr.on('data', (chunk: Buffer) => { err += chunk.toString() })
  if (options.tty === true) {
    // A terminal: the text arrives as keystrokes once the prompt is up.
    setImmediate(() => stdin.write(options.stdin ?? ''))
  } else {
    stdin.end(options.stdin ?? '')
  }
  const code = await runCli(argv, { stdin, stdout, stderr, env: options.env ?? {} }, {
    ...(options.storage === undefined ? {} : { storage: options.storage }),
    ...(options.defaultDatabaseUrl === undefined ? {} : { defaultDatabaseUrl: options.defaultDatabaseUrl })
  })
  return { code, stdout: out, stderr: err }
}
