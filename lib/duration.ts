/**
 * Parses LibreChat's duration forms without evaluating code:
 * an integer (`900000`), a product of integers with optional parentheses
 * (`1000 * 60 * 15`, `(1000 * 60 * 60 * 24) * 7`), or a suffixed value (`15m`, `7d`, `500ms`)
 * whose suffix overrides the variable's unit.
 * Returns the value in `unitMs` units converted to milliseconds, or null when the text is none of these.
 */
const suffixes: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

const MAX_LENGTH = 100

export function parseDuration (text: string, unitMs: number): number | null {
  const value = text.trim()
  if (value === '' || value.length > MAX_LENGTH) return null
  const suffixed = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/.exec(value)
  if (suffixed) return finite(Number(suffixed[1]) * (suffixes[suffixed[2] as string] as number))
  const product = parseProduct(value)
  return product === null ? null : finite(product * unitMs)
}

function finite (n: number): number | null {
  return Number.isSafeInteger(Math.round(n)) && n >= 0 ? Math.round(n) : null
}

/** A tiny recursive-descent parser for `term ('*' term)*` where term is an integer or a parenthesised product. */
function parseProduct (text: string): number | null {
  let pos = 0
  const skipSpace = (): void => { while (text[pos] === ' ' || text[pos] === '\t') pos++ }
  const product = (): number | null => {
    let result = term()
    if (result === null) return null
    skipSpace()
    while (text[pos] === '*') {
      pos++
      const next = term()
      if (next === null) return null
      result *= next
      skipSpace()
    }
    return result
  }
  const term = (): number | null => {
    skipSpace()
    if (text[pos] === '(') {
      pos++
      const inner = product()
      skipSpace()
      if (inner === null || text[pos] !== ')') return null
      pos++
      return inner
    }
    const digits = /^\d+/.exec(text.slice(pos))
    if (!digits) return null
    pos += digits[0].length
    return Number(digits[0])
  }
  const result = product()
  skipSpace()
  return result !== null && pos === text.length ? result : null
}
