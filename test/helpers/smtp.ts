import type { Socket } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { generate } from 'selfsigned'
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server'
import type { MailMessage } from '../../lib/ports/mailer.ts'

/** A key and certificate in PEM; `ca` is what a client would have to trust (the certificate itself when self-signed). */
export interface Certificate { key: string, cert: string, ca: string }

const sha256Ec = { keyType: 'ec', curve: 'P-256', algorithm: 'sha256' } as const

/**
 * A certificate for `hostname`, generated in memory: self-signed, or (`signedByCa`) issued by a
 * throwaway CA, for a client that trusts that CA and so checks the name for real.
 */
export async function certificateFor (hostname: string, signedByCa = false): Promise<Certificate> {
  const subject = [{ name: 'commonName', value: hostname }]
  const altNames = { name: 'subjectAltName' as const, altNames: [{ type: 2 as const, value: hostname }] }
  if (!signedByCa) {
    const self = await generate(subject, { ...sha256Ec, extensions: [altNames] })
    return { key: self.private, cert: self.cert, ca: self.cert }
  }
  const ca = await generate([{ name: 'commonName', value: 'librechat-auth test CA' }], {
    ...sha256Ec,
    extensions: [{ name: 'basicConstraints', cA: true, critical: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }]
  })
  const leaf = await generate(subject, { ...sha256Ec, ca: { key: ca.private, cert: ca.cert }, extensions: [altNames] })
  return { key: leaf.private, cert: leaf.cert, ca: ca.cert }
}

/**
 * `none`: no STARTTLS (the command is disabled, not just unannounced). `starttls`: offered.
 * `starttls-hidden`: accepted but not announced in EHLO (smtp-server's hideSTARTTLS).
 * `implicit`: TLS from the first byte. Every mode but `none` needs a certificate.
 */
export type SmtpTls = 'none' | 'starttls' | 'starttls-hidden' | 'implicit'

/**
 * `deliver`: a normal server. `drop`: the connection is cut when the client sends MAIL FROM.
 * `silent`: the server accepts the connection and never says a word. `rejectRecipients`: RCPT TO gets 550.
 */
export type SmtpBehaviour = 'deliver' | 'drop' | 'silent' | 'rejectRecipients'

export interface SmtpServerOptions {
  tls?: SmtpTls
  certificate?: Certificate
  /** Credentials the server requires; without them authentication is optional. */
  auth?: { username: string, password: string }
  behaviour?: SmtpBehaviour
  /** Listen on this port (to bring a stopped server back); default: any free port. */
  port?: number
}

export interface ReceivedMail {
  /** The SMTP envelope: MAIL FROM and every RCPT TO, as the server saw them. */
  envelope: { from: string | null, to: string[] }
  secure: boolean
  /** The SNI name the client sent, if any. */
  servername: string | null
  /** The user that authenticated, if any. */
  user: string | null
  parsed: ParsedMail
}

export interface TestSmtpServer {
  port: number
  messages: ReceivedMail[]
  /** Every SNI name a client sent during a TLS handshake (even one it then gave up). */
  servernames: string[]
  /** Errors the server reported (a client that gave up on the certificate, a dropped socket). */
  errors: Error[]
  /** Change what the server does from the next connection or command on. */
  behaviour: SmtpBehaviour
  /** What arrived, as the Mailer port describes a message: one entry per envelope recipient. */
  inbox(): MailMessage[]
  /** How many client connections are open right now. */
  connections(): number
  close(): Promise<void>
}

/** Starts a real SMTP server (smtp-server) on 127.0.0.1 and parses what it receives (mailparser). */
export async function startSmtp (options: SmtpServerOptions = {}): Promise<TestSmtpServer> {
  const tls = options.tls ?? 'none'
  const sockets = new Map<number, Socket>()
  const state: TestSmtpServer = {
    port: 0,
    messages: [],
    servernames: [],
    errors: [],
    behaviour: options.behaviour ?? 'deliver',
    inbox: () => state.messages.flatMap(inboxEntries),
    connections: () => sockets.size,
    close: async () => {
      for (const socket of sockets.values()) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
  const dropIfAsked = (session: SMTPServerSession, callback: (err?: Error | null) => void): void => {
    if (state.behaviour === 'drop') sockets.get(session.remotePort)?.destroy()
    else callback()
  }
  const serverOptions: SMTPServerOptions = {
    logger: false,
    disableReverseLookup: true,
    closeTimeout: 100,
    secure: tls === 'implicit',
    ...(options.certificate ? { key: options.certificate.key, cert: options.certificate.cert } : {}),
    ...(tls === 'none' ? { disabledCommands: ['STARTTLS'] } : {}),
    hideSTARTTLS: tls === 'starttls-hidden',
    allowInsecureAuth: true,
    authOptional: options.auth === undefined,
    SNICallback: (name, callback) => {
      state.servernames.push(name)
      callback(null)
    },
    onConnect: (_session, callback) => {
      if (state.behaviour !== 'silent') callback()
    },
    onAuth: (auth, _session, callback) => {
      const ok = auth.username === options.auth?.username && auth.password === options.auth?.password
      if (ok) callback(null, { user: auth.username })
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }))
    },
    onMailFrom: (_address, session, callback) => dropIfAsked(session, callback),
    onRcptTo: (_address, _session, callback) => {
      if (state.behaviour === 'rejectRecipients') callback(Object.assign(new Error('No such user here'), { responseCode: 550 }))
      else callback()
    },
    onData: (stream, session, callback) => {
      simpleParser(stream).then(parsed => {
        const { mailFrom, rcptTo } = session.envelope
        state.messages.push({
          envelope: { from: mailFrom === false ? null : mailFrom.address, to: rcptTo.map(r => r.address) },
          secure: session.secure,
          servername: typeof session.servername === 'string' ? session.servername : null,
          user: typeof session.user === 'string' ? session.user : null,
          parsed
        })
        callback()
      }, callback)
    }
  }
  const server = new SMTPServer(serverOptions)
  server.on('error', error => { state.errors.push(error) })
  server.server.on('connection', (socket: Socket) => {
    const port = socket.remotePort as number
    sockets.set(port, socket)
    socket.on('close', () => sockets.delete(port))
  })
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve())
  })
  const address = server.server.address()
  state.port = typeof address === 'object' && address !== null ? address.port : 0
  return state
}

function inboxEntries (mail: ReceivedMail): MailMessage[] {
  const to = Array.isArray(mail.parsed.to) ? mail.parsed.to.flatMap(a => a.value) : mail.parsed.to?.value ?? []
  return mail.envelope.to.map(address => {
    const name = to.find(a => a.address === address)?.name
    return {
      to: name ? { address, name } : { address },
      subject: mail.parsed.subject ?? '',
      text: mail.parsed.text ?? '',
      html: mail.parsed.html || ''
    }
  })
}

/** The received mails whose subject matches, optionally only those to one address. */
export function mailsOf (smtp: TestSmtpServer, subject: RegExp, to?: string): ReceivedMail[] {
  return smtp.messages.filter(m => subject.test(m.parsed.subject ?? '') && (to === undefined || m.envelope.to.includes(to)))
}

/** The first link to `path` in a mail's text, as a URL (so its parameters come out decoded). */
export function linkIn (mail: ReceivedMail, path: string): URL {
  const text = mail.parsed.text ?? ''
  const match = text.match(new RegExp(`https?://\\S+${path}\\?\\S+`))
  if (match === null) throw new Error(`no ${path} link in: ${text}`)
  return new URL(match[0])
}
