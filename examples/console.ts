/**
 * Where the example's logs go: JSON lines as pino writes them when the output is a pipe or a file (log
 * collectors and the tests read those), a compact human format on a terminal. Either way the warnings
 * are kept for the startup summary.
 */

export interface ExampleConsole {
  /** The logger's destination (pino's `stream`): one JSON line per call. */
  stream: { write (line: string): void }
  /** True on a terminal: human lines instead of JSON. */
  pretty: boolean
  /** The message of every warning (and error) logged so far. */
  warnings: string[]
  /** Writes plain text as it is (the summary). */
  print (text: string): void
}

interface Output { write (text: string): unknown, isTTY?: boolean, hasColors?: () => boolean }

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
/** Fields every line has, or that the pretty form shows in its own way. */
const SHOWN = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'reqId', 'req', 'res', 'responseTime', 'err'])

export function exampleConsole (out: Output = process.stdout): ExampleConsole {
  const pretty = out.isTTY === true
  const colors = pretty && out.hasColors?.() === true
  const paint = (code: number, text: string): string => colors ? `\u001b[${code}m${text}\u001b[0m` : text
  const warnings: string[] = []
  // "incoming request" is folded into "request completed": one line per request, with its method and URL.
  const pending = new Map<unknown, string>()

  const format = (entry: Record<string, unknown>): string | null => {
    const level = typeof entry.level === 'number' ? entry.level : 30
    const req = entry.req as { method?: string, url?: string } | undefined
    if (req !== undefined && entry.res === undefined) {
      if (pending.size > 1000) pending.clear()
      pending.set(entry.reqId, `${req.method ?? ''} ${req.url ?? ''}`)
      return null
    }
    let message = typeof entry.msg === 'string' ? entry.msg : ''
    const res = entry.res as { statusCode?: number } | undefined
    if (res !== undefined) {
      message = `${pending.get(entry.reqId) ?? 'request'} → ${res.statusCode ?? '?'} (${Math.round(Number(entry.responseTime ?? 0))} ms)`
      pending.delete(entry.reqId)
    }
    const err = entry.err as { message?: string, stack?: string } | undefined
    if (err !== undefined) message += `: ${level >= 50 ? err.stack ?? err.message : err.message}`
    const details = Object.entries(entry).filter(([key]) => !SHOWN.has(key))
      .map(([key, value]) => paint(2, `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`))
    const time = new Date(typeof entry.time === 'number' ? entry.time : Date.now()).toTimeString().slice(0, 8)
    const name = (LEVELS[level] ?? String(level)).padEnd(5)
    const tag = level >= 50 ? paint(31, name) : level >= 40 ? paint(33, name) : paint(36, name)
    return `${paint(2, time)} ${tag} ${[message, ...details].join(' ')}\n`
  }

  return {
    pretty,
    warnings,
    print: text => { out.write(text) },
    stream: {
      write (line: string) {
        let entry: Record<string, unknown>
        try {
          entry = JSON.parse(line) as Record<string, unknown>
        } catch {
          out.write(line)
          return
        }
        if (typeof entry.level === 'number' && entry.level >= 40 && typeof entry.msg === 'string') warnings.push(entry.msg)
        if (!pretty) {
          out.write(line)
          return
        }
        const text = format(entry)
        if (text !== null) out.write(text)
      }
    }
  }
}
