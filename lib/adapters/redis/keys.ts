import type { Ban, BanSubject } from '../../ports/ban-store.ts'

/**
 * Key names under one prefix. Tuples are JSON-encoded, so ids and types containing ":" (IPv6
 * addresses) never make two tuples share a key; limiter keys are a single string after a fixed
 * part, which keeps them apart as they are.
 */
export interface Keys {
  ban: (subject: BanSubject) => string
  /** The ban key of an index member (a `subjectMember`). */
  banOfMember: (member: string) => string
  /** The sorted set of banned subjects, scored by expiresAt, that `list` reads instead of KEYS. */
  banIndex: string
  score: (subject: BanSubject, type: string) => string
  window: (key: string) => string
  inFlight: (key: string) => string
  /** The pub/sub channel of put and lifted subjects. */
  channel: string
}

export function keysFor (prefix: string): Keys {
  return {
    ban: subject => `${prefix}ban:${subjectMember(subject)}`,
    banOfMember: member => `${prefix}ban:${member}`,
    banIndex: `${prefix}ban-index`,
    score: (subject, type) => `${prefix}score:${JSON.stringify([subject.kind, subject.id, type])}`,
    window: key => `${prefix}hit:${key}`,
    inFlight: key => `${prefix}inflight:${key}`,
    channel: `${prefix}bans`
  }
}

/** A subject as the index member, the ban key's suffix and the pub/sub message. */
export function subjectMember (subject: BanSubject): string {
  // A new object in a fixed key order, so one subject always gives the same text.
  return JSON.stringify({ kind: subject.kind, id: subject.id })
}

/** The subject a member or message names, or null for anything else (a malformed message is ignored). */
export function parseSubject (text: string): BanSubject | null {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const { kind, id } = value as { kind?: unknown, id?: unknown }
  if ((kind !== 'ip' && kind !== 'user') || typeof id !== 'string') return null
  return { kind, id }
}

interface StoredBan { kind: string, id: string, reason: string, createdAt: number, expiresAt: number }

export function encodeBan (ban: Ban): string {
  const stored: StoredBan = {
    kind: ban.subject.kind,
    id: ban.subject.id,
    reason: ban.reason,
    createdAt: ban.createdAt.getTime(),
    expiresAt: ban.expiresAt.getTime()
  }
  return JSON.stringify(stored)
}

/** The ban a stored value holds, or null when it is not one (written by something else). */
export function decodeBan (text: string): Ban | null {
  let value: Partial<StoredBan>
  try {
    value = JSON.parse(text) as Partial<StoredBan>
  } catch {
    return null
  }
  const { kind, id, reason, createdAt, expiresAt } = value
  if ((kind !== 'ip' && kind !== 'user') || typeof id !== 'string' || typeof reason !== 'string') return null
  if (typeof createdAt !== 'number' || typeof expiresAt !== 'number') return null
  return { subject: { kind, id }, reason, createdAt: new Date(createdAt), expiresAt: new Date(expiresAt) }
}
