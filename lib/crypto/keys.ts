import { createHmac, hkdfSync } from 'node:crypto'

/** HMAC-SHA256 of `value` under `key`, base64url. */
export function hmac (key: string | Buffer, value: string): string {
  return createHmac('sha256', key).update(value, 'utf8').digest('base64url')
}

/**
 * A sub-key for one purpose, derived with HKDF-SHA256 from a configured secret (used as its raw UTF-8
 * bytes, as LibreChat's services do), so one secret never keys two unrelated things directly.
 */
export function deriveKey (secret: string, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), `librechat-auth ${purpose}`, 32))
}
