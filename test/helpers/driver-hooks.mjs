// Module resolution hooks for a child process, registered with node:module's register(hooksUrl, { data }):
// - every driver named in `data.missing` resolves as if it were not installed: Node's own resolver looks
//   for it from a directory with no node_modules and throws its real ERR_MODULE_NOT_FOUND;
// - `data.redirect` maps a driver's name to another copy of it (better-sqlite3 without its native build).
const NOWHERE = 'file:///lcauth-nothing-is-installed-here/index.mjs'
let missing = new Set()
let redirect = {}

export function initialize (data) {
  missing = new Set(data?.missing ?? [])
  redirect = data?.redirect ?? {}
}

export async function resolve (specifier, context, next) {
  // The drivers are unscoped packages: their name is the specifier up to the first slash.
  if (missing.has(specifier.split('/')[0])) return next(specifier, { ...context, parentURL: NOWHERE })
  if (Object.hasOwn(redirect, specifier)) return next(redirect[specifier], context)
  return next(specifier, context)
}
