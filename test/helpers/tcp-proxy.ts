import { once } from 'node:events'
import { createServer, Socket, type AddressInfo } from 'node:net'

export interface TcpProxy {
  /** The loopback port the proxy listens on. */
  port: number
  /**
   * Cuts the link. 'refuse' (default): every piped connection is destroyed and new ones are closed as
   * soon as they arrive, as when the server is down. 'blackhole': connections stay open but nothing
   * passes either way, and new ones are held open without an answer, as when the server hangs.
   */
  cut: (mode?: 'refuse' | 'blackhole') => void
  /** Lets connections through again (connections held by a blackhole stay dead; clients reconnect). */
  restore: () => void
  /** How many client connections the proxy accepted and piped. */
  accepted: () => number
  close: () => Promise<void>
}

/** A TCP proxy on 127.0.0.1 to `host:port`, owned by the test, that can cut the link on demand. */
export async function tcpProxy (host: string, port: number): Promise<TcpProxy> {
  let state: 'open' | 'refuse' | 'blackhole' = 'open'
  let piped = 0
  const sockets = new Set<Socket>()
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    socket.on('error', () => {})
  }
  const server = createServer(client => {
    track(client)
    if (state === 'refuse') {
      client.destroy()
      return
    }
    if (state === 'blackhole') return // held open, never answered
    piped++
    const upstream = new Socket()
    track(upstream)
    // Data is forwarded by hand (not pipe) so a blackhole can drop it without closing anything.
    let dead = false
    client.on('data', chunk => { if (!dead && state === 'open') upstream.write(chunk) })
    upstream.on('data', chunk => { if (!dead && state === 'open') client.write(chunk) })
    const end = (): void => {
      dead = true
      client.destroy()
      upstream.destroy()
    }
    client.once('close', end)
    upstream.once('close', end)
    upstream.connect(port, host)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address() as AddressInfo

  return {
    port: address.port,
    cut (mode = 'refuse') {
      state = mode
      if (mode === 'refuse') for (const socket of [...sockets]) socket.destroy()
    },
    restore () {
      // Blackholed connections would otherwise resume mid-stream: drop them so clients start clean.
      if (state === 'blackhole') for (const socket of [...sockets]) socket.destroy()
      state = 'open'
    },
    accepted: () => piped,
    async close () {
      for (const socket of [...sockets]) socket.destroy()
      await new Promise<void>(resolve => server.close(() => resolve()))
    }
  }
}
