import { createRequire } from 'node:module'
import type { Storage } from '../ports/storage.ts'
import { commands, NotFoundError, parseCommandArgs } from './commands.ts'
import { type CliContext, cliContext } from './context.ts'
import { type CliIO, input, UsageError } from './io.ts'

/** Exit codes: 0 done, 1 usage or failure, 2 not found or duplicate, 3 password policy. */
export const EXIT = { ok: 0, usage: 1, notFound: 2, policy: 3 } as const

function help (): string {
  const lines = ['Usage: librechat-auth <command> [arguments]', '       librechat-auth --version | --help', '', 'Commands:']
  for (const command of Object.values(commands)) lines.push(`  ${command.usage}`, `      ${command.summary}`)
  lines.push('', 'Options:', '  --version, -v', '      Print the version of librechat-auth and exit.', '  --help, -h', '      Print this help and exit.',
    '', 'Storage: DATABASE_URL (sqlite:path/to/file.db or postgres://...), default sqlite:data/librechat-auth.db.',
    'Password policy and bcrypt cost: MIN_PASSWORD_LENGTH, BCRYPT_ROUNDS, as for the server.',
    'Bans: in the storage database, or in Redis with USE_REDIS=true and REDIS_URI (and REDIS_KEY_PREFIX), as for the server.',
    'Exit codes: 0 done, 1 usage or failure, 2 not found or duplicate, 3 password policy.')
  return lines.join('\n')
}

/** The installed package's version, from its own package.json (reached by the package's name, so the source and dist/ read the same file). */
function version (): string {
  return (createRequire(import.meta.url)('librechat-auth/package.json') as { version: string }).version
}

/**
 * Runs one CLI command. Expected failures print one line on stderr and return their exit code; no
 * stack trace. `options.storage` replaces DATABASE_URL; `options.defaultDatabaseUrl` replaces the
 * default used without it (tests, embedding).
 */
export async function runCli (argv: readonly string[], io: CliIO, options: { storage?: Storage, defaultDatabaseUrl?: string } = {}): Promise<number> {
  const [name, ...rest] = argv
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${version()}\n`)
    return EXIT.ok
  }
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' && rest[0] !== undefined ? commands[rest[0]] : undefined
    io.stdout.write(`${topic ? `Usage: librechat-auth ${topic.usage}\n\n${topic.summary}` : help()}\n`)
    return name === undefined ? EXIT.usage : EXIT.ok
  }
  const command = Object.hasOwn(commands, name) ? commands[name] : undefined
  if (command === undefined) {
    io.stderr.write(`librechat-auth: unknown command "${name}". Run librechat-auth --help.\n`)
    return EXIT.usage
  }
  let cli: CliContext | undefined
  const from = input(io)
  let code: number = EXIT.ok
  try {
    const parsed = parseCommandArgs(command, rest)
    if (parsed.flags.help === true) {
      io.stdout.write(`Usage: librechat-auth ${command.usage}\n\n${command.summary}\n`)
    } else {
      const toStderr = (line: string): void => { io.stderr.write(`${line}\n`) }
      cli = await cliContext(io.env, { ...options, audit: toStderr, say: toStderr, mustExist: command.readOnly === true })
      await command.run(parsed, cli, io, from)
    }
  } catch (error) {
    const [exit, message] = classify(error)
    io.stderr.write(`librechat-auth ${name}: ${message}\n`)
    code = exit
  }
  from.close()
  // Closes what the context opened; a storage handed in is the caller's to close.
  await cli?.core.close()
  return code
}

function classify (error: unknown): [number, string] {
  if (error instanceof UsageError) return [EXIT.usage, error.message]
  if (error instanceof NotFoundError) return [EXIT.notFound, error.message]
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  if (code === 'FST_LCAUTH_EMAIL_TAKEN' || code === 'FST_LCAUTH_NOT_FOUND') return [EXIT.notFound, message]
  if (code === 'FST_LCAUTH_PASSWORD_POLICY') return [EXIT.policy, message]
  if (code === 'FST_LCAUTH_VALIDATION' || code === 'FST_LCAUTH_CONFIG_INVALID') return [EXIT.usage, message]
  if (code === 'FST_LCAUTH_STORAGE_UNAVAILABLE') return [EXIT.usage, 'the database is unreachable or busy; check DATABASE_URL and try again']
  return [EXIT.usage, `failed: ${message}`]
}
