import type { IncomingMessage, ServerResponse } from 'node:http'

const FORM = 'application/x-www-form-urlencoded'
const BODY_LIMIT = 64 * 1024

/** The request body as text; null when it is larger than a token request could be. */
export async function readBody (req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > BODY_LIMIT) return null
    chunks.push(chunk)
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The body's fields when it is form-encoded; null for any other content type. */
export function formOf (req: IncomingMessage, body: string): Record<string, string> | null {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  return type === FORM ? Object.fromEntries(new URLSearchParams(body)) : null
}

/** Whether the client asked for JSON (GitHub answers form-encoded otherwise). */
export function wantsJson (req: IncomingMessage): boolean {
  return (req.headers.accept ?? '').toLowerCase().includes('application/json')
}

/** RFC 6749 §2.3.1: the id and secret are form-encoded before they are joined and base64-encoded. */
function formDecode (value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}

/** The client credentials of an `Authorization: Basic` header, or null. */
export function basicCredentials (header: string | undefined): { id: string, secret: string } | null {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '')
  if (match?.[1] === undefined) return null
  const decoded = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon === -1) return null
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) }
}

/** The token of `Authorization: Bearer <t>`, or (`alsoToken`, as GitHub still takes) `token <t>`. */
export function bearerToken (header: string | undefined, alsoToken = false): string | null {
  const match = (alsoToken ? /^(?:Bearer|token)\s+(\S+)$/i : /^Bearer\s+(\S+)$/i).exec(header ?? '')
  return match?.[1] ?? null
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' }

export function sendJson (res: ServerResponse, status: number, body: unknown, noStore = false): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...(noStore ? NO_STORE : {}) })
  res.end(JSON.stringify(body))
}

export function sendForm (res: ServerResponse, status: number, fields: Record<string, string>): void {
  res.writeHead(status, { 'content-type': `${FORM}; charset=utf-8`, ...NO_STORE })
  res.end(new URLSearchParams(fields).toString())
}

export function sendText (res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
  res.end(text)
}

export function redirect (res: ServerResponse, location: string): void {
  res.writeHead(302, { location, 'content-type': 'text/html; charset=utf-8' })
  res.end()
}
