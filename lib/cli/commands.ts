import { parseArgs } from 'node:util'
import { errors } from '../errors.ts'
import { usernameProblem } from '../accounts/profile.ts'
import type { Role, User } from '../ports/storage.ts'
import type { CliContext } from './context.ts'
import { type CliIO, type Input, readNewPassword, UsageError } from './io.ts'

export interface Command {
  usage: string
  summary: string
  /** Option names this command accepts (booleans). */
  flags: readonly string[]
  /** Only reads: it never creates a database that is not there. */
  readOnly?: boolean
  run(args: Parsed, cli: CliContext, io: CliIO, input: Input): Promise<void>
}

export interface Parsed {
  positionals: string[]
  flags: Record<string, boolean | string | undefined>
}

/** An expected "no such user": exit code 2. */
export class NotFoundError extends Error {}

const print = (io: CliIO, line: string): void => { io.stdout.write(`${line}\n`) }

/** Columns padded to their widest cell. */
function printTable (io: CliIO, header: string[], rows: string[][]): void {
  const table = [header, ...rows]
  const widths = header.map((_, i) => Math.max(...table.map(r => (r[i] as string).length)))
  for (const row of table) print(io, row.map((cell, i) => cell.padEnd(widths[i] as number)).join('  ').trimEnd())
}

function defaultUsername (email: string): string | null {
  const local = email.trim().split('@', 1)[0] as string
  return usernameProblem(local) === null ? local : null
}

async function userByEmail (cli: CliContext, email: string | undefined): Promise<User> {
  if (email === undefined) throw new UsageError('an email is required')
  const user = await cli.core.admin.findByEmail(email)
  if (user === null) throw new NotFoundError(`no user with the email ${email}`)
  return user
}

async function newPassword (input: Input): Promise<string> {
  const { password, confirm } = await readNewPassword(input)
  if (password.trim() === '') throw new errors.FST_LCAUTH_PASSWORD_POLICY('The password cannot be blank.')
  if (confirm !== undefined && confirm !== password) throw new errors.FST_LCAUTH_PASSWORD_POLICY('The passwords did not match.')
  return password
}

export const commands: Record<string, Command> = {
  'create-user': {
    usage: 'create-user <email> [name] [username] [--admin] [--verified]',
    summary: 'Create a local account. The password is asked for (hidden) or read from the first line of stdin.',
    flags: ['admin', 'verified'],
    async run ({ positionals: [email, name, username], flags }, cli, io, input) {
      if (email === undefined) throw new UsageError('an email is required')
      const password = await newPassword(input)
      const user = await cli.core.admin.createUser({
        email,
        ...(name === undefined ? {} : { name }),
        // LibreChat's create-user defaults the username to the email's local part, as it does the name
        // (when the local part is a valid username).
        username: username ?? defaultUsername(email),
        password,
        admin: flags.admin === true,
        verified: flags.verified === true
      }, cli.context)
      print(io, `Created ${user.email} (${user.role}${user.emailVerified ? ', email verified' : ''}).`)
    }
  },

  'delete-user': {
    usage: 'delete-user <email> [--yes]',
    summary: 'Delete a user with their identities, sessions and one-time tokens. Asks for confirmation unless --yes.',
    flags: ['yes'],
    async run ({ positionals: [email], flags }, cli, io, input) {
      const user = await userByEmail(cli, email)
      if (flags.yes !== true) {
        if (io.stdin.isTTY !== true) throw new UsageError('add --yes to delete without a terminal to confirm on')
        const answer = await input.line(`Delete ${user.email} and everything tied to the account? Type "yes" to confirm: `, false)
        if (answer?.trim().toLowerCase() !== 'yes') {
          print(io, 'Nothing deleted.')
          return
        }
      }
      const ended = await cli.core.admin.deleteUser(user, 'operator', cli.context)
      print(io, `Deleted ${user.email}; ${ended.length} session(s) ended.`)
    }
  },

  'list-users': {
    usage: 'list-users [--json]',
    readOnly: true,
    summary: 'List every user (a table, or one JSON array with --json).',
    flags: ['json'],
    async run ({ flags }, cli, io) {
      const users: User[] = []
      for (let offset = 0; ; offset += 500) {
        const page = await cli.core.admin.list({ offset, limit: 500 })
        users.push(...page)
        if (page.length < 500) break
      }
      if (flags.json === true) {
        print(io, JSON.stringify(users.map(u => ({
          id: u.id, email: u.email, name: u.name, username: u.username, role: u.role, provider: u.provider,
          emailVerified: u.emailVerified, disabled: u.disabledAt !== null, createdAt: u.createdAt.toISOString()
        }))))
        return
      }
      printTable(io, ['EMAIL', 'NAME', 'ROLE', 'PROVIDER', 'VERIFIED', 'DISABLED', 'CREATED'],
        users.map(u => [u.email, u.name, u.role, u.provider, u.emailVerified ? 'yes' : 'no', u.disabledAt === null ? 'no' : 'yes', u.createdAt.toISOString()]))
      print(io, `${users.length} user(s)`)
    }
  },

  'reset-password': {
    usage: 'reset-password <email>',
    summary: 'Set a new password (hidden prompt or stdin); every session of the user ends.',
    flags: [],
    async run ({ positionals: [email] }, cli, io, input) {
      const user = await userByEmail(cli, email)
      await cli.core.admin.setPassword(user, await newPassword(input), cli.context)
      print(io, `Password changed for ${user.email}; every session ended.`)
    }
  },

  'reset-link': {
    usage: 'reset-link <email>',
    summary: 'Print a single-use password reset link (valid RESET_PASSWORD_EXPIRY, 15 min by default) to hand to the user. Needs DOMAIN_CLIENT or DOMAIN_SERVER.',
    flags: [],
    async run ({ positionals: [email] }, cli, io) {
      const user = await userByEmail(cli, email)
      if (cli.linkBase === null) throw new UsageError('set DOMAIN_CLIENT (or DOMAIN_SERVER) so the link points to your app')
      // The operator hands over a link and never sees or sets the new password; using it ends every session.
      print(io, await cli.core.passwordReset.createLink(user))
    }
  },

  'set-role': {
    usage: 'set-role <email> ADMIN|USER',
    summary: 'Change a user\'s role. A demotion ends the user\'s sessions.',
    flags: [],
    async run ({ positionals: [email, given] }, cli, io) {
      // `admin` means ADMIN: roles are stored upper-case, typed however.
      const role = given?.toUpperCase()
      if (role !== 'ADMIN' && role !== 'USER') throw new UsageError('the role must be ADMIN or USER')
      const user = await cli.core.admin.setRole(await userByEmail(cli, email), role as Role, cli.context)
      print(io, `${user.email} is now ${user.role}.`)
    }
  },

  'disable-user': {
    usage: 'disable-user <email>',
    summary: 'Stop a user from logging in or refreshing; their sessions end.',
    flags: [],
    async run ({ positionals: [email] }, cli, io) {
      const user = await cli.core.admin.setDisabled(await userByEmail(cli, email), true, cli.context)
      print(io, `Disabled ${user.email}; every session ended.`)
    }
  },

  'enable-user': {
    usage: 'enable-user <email>',
    summary: 'Let a disabled user log in again.',
    flags: [],
    async run ({ positionals: [email] }, cli, io) {
      const user = await cli.core.admin.setDisabled(await userByEmail(cli, email), false, cli.context)
      print(io, `Enabled ${user.email}.`)
    }
  },

  'ban-user': {
    usage: 'ban-user <email> [minutes]',
    summary: 'Ban a user for a number of minutes (default BAN_DURATION; 0 ends their sessions without a ban). Their sessions end at once, on every server.',
    flags: [],
    async run ({ positionals: [email, minutes] }, cli, io) {
      const user = await userByEmail(cli, email)
      if (minutes !== undefined && !/^\d{1,7}$/.test(minutes)) throw new UsageError('minutes must be a whole number')
      const ban = await cli.core.moderation.banUser(user.email, minutes === undefined ? undefined : Number(minutes) * 60_000, cli.context)
      print(io, ban === null ? `Ended every session of ${user.email} (no ban recorded: the duration is 0).` : `Banned ${user.email} until ${ban.expiresAt.toISOString()}; every session ended.`)
    }
  },

  unban: {
    usage: 'unban <email|ip>',
    summary: 'Lift the ban of a user (by email) or of an IP address (an IPv6 address lifts its /64).',
    flags: [],
    async run ({ positionals: [target] }, cli, io) {
      if (target === undefined) throw new UsageError('an email or an IP address is required')
      if (target.includes('@')) await userByEmail(cli, target)
      const lifted = await cli.core.moderation.lift(target, cli.context)
      if (!lifted) throw new NotFoundError(`${target} is not banned`)
      print(io, `Lifted the ban of ${target}.`)
    }
  },

  'list-bans': {
    usage: 'list-bans [--json]',
    readOnly: true,
    summary: 'List live bans: users (by email) and IP addresses, with the reason and when each ends.',
    flags: ['json'],
    async run ({ flags }, cli, io) {
      const bans = await cli.core.moderation.list()
      const rows = await Promise.all(bans.map(async ban => ({
        kind: ban.subject.kind,
        subject: ban.subject.kind === 'user' ? (await cli.core.storage.users.findById(ban.subject.id))?.email ?? ban.subject.id : ban.subject.id,
        reason: ban.reason,
        createdAt: ban.createdAt.toISOString(),
        expiresAt: ban.expiresAt.toISOString()
      })))
      if (flags.json === true) {
        print(io, JSON.stringify(rows))
        return
      }
      printTable(io, ['KIND', 'SUBJECT', 'REASON', 'UNTIL'], rows.map(r => [r.kind, r.subject, r.reason, r.expiresAt]))
      print(io, `${rows.length} ban(s)`)
    }
  },

  purge: {
    usage: 'purge',
    summary: 'Delete ended sessions (kept one access-token lifetime after they end), spent one-time tokens and expired moderation records.',
    flags: [],
    async run (_args, cli, io) {
      const { sessions, tokens, moderation } = await cli.core.purge.run()
      print(io, `Purged ${sessions} session(s), ${tokens} one-time token(s) and ${moderation} moderation record(s).`)
    }
  },

  migrate: {
    usage: 'migrate',
    summary: 'Bring the database schema up to date (the server also does this when it starts).',
    flags: [],
    async run (_args, cli, io) {
      // cliContext already ran init() with migrations on; reaching here means they succeeded.
      print(io, `The ${cli.core.storage.kind} database is up to date.`)
    }
  }
}

/** Parses a command's arguments strictly: unknown flags are a usage error. */
export function parseCommandArgs (command: Command, args: string[]): Parsed {
  const options = Object.fromEntries([...command.flags, 'help'].map(flag => [flag, { type: 'boolean' as const }]))
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true, strict: true })
    return { positionals, flags: values }
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}
