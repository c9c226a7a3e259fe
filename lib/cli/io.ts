import type { Readable, Writable } from 'node:stream'
import type { Env } from '../env/read.ts'

/** Where a CLI run reads and writes: the process's streams, or test doubles. */
export interface CliIO {
  stdin: Readable & { isTTY?: boolean, setRawMode?: (raw: boolean) => unknown }
  stdout: Writable
  stderr: Writable
  env: Env
}

/** A usage mistake (or a cancelled prompt): exit code 1 with this message. */
export class UsageError extends Error {}

export interface Input {
  /**
   * The next line. On a terminal it shows `prompt` and, when `hidden`, echoes nothing (raw mode);
   * from a pipe nothing is prompted and lines are read as they come. Null at the end of input.
   */
  line(prompt: string, hidden: boolean): Promise<string | null>
  /** Gives the terminal back (raw mode off, stdin paused). */
  close(): void
}

/** Line input from stdin, attached only when first used so commands that read nothing never touch stdin. */
export function input (io: CliIO): Input {
  const { stdin, stderr } = io
  const tty = stdin.isTTY === true
  let pending = ''
  let ended = false
  let attached = false
  const waiting: Array<() => void> = []
  const wake = (): void => { waiting.splice(0).forEach(resolve => resolve()) }
  const attach = (): void => {
    if (attached) return
    attached = true
    if (tty) stdin.setRawMode?.(true)
    stdin.setEncoding('utf8')
    stdin.on('data', (chunk: string) => { pending += chunk; wake() })
    stdin.on('end', () => { ended = true; wake() })
    stdin.resume()
  }
  const next = async (): Promise<string | null> => {
    while (pending === '') {
      if (ended) return null
      await new Promise<void>(resolve => waiting.push(resolve))
    }
    const char = [...pending][0] as string
    pending = pending.slice(char.length)
    return char
  }

  return {
    async line (prompt, hidden) {
      attach()
      if (tty) stderr.write(prompt)
      let typed = ''
      for (;;) {
        const char = await next()
        if (char === null) return typed === '' ? null : typed
        if (char === '\n' || char === '\r') {
          if (char === '\r' && pending.startsWith('\n')) pending = pending.slice(1)
          if (tty) stderr.write('\n')
          return typed
        }
        if (tty && char === '\u0003') throw new UsageError('cancelled')
        if (tty && (char === '\u007f' || char === '\b')) {
          typed = [...typed].slice(0, -1).join('')
          continue
        }
        typed += char
        if (tty && !hidden) stderr.write(char)
      }
    },
    close () {
      if (!attached) return
      if (tty) stdin.setRawMode?.(false)
      stdin.pause()
    }
  }
}

/** A new password: asked twice on a terminal (hidden); from a pipe, the first line and an optional second that must match. */
export async function readNewPassword (from: Input): Promise<{ password: string, confirm?: string }> {
  const password = await from.line('Password: ', true) ?? ''
  const confirm = await from.line('Repeat the password: ', true)
  return confirm === null ? { password } : { password, confirm }
}
