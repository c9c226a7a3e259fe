import type { Adapter, AdapterPayload } from 'oidc-provider'

// oidc-provider's storage interface in a Map of the stand-in's own: state dies with the stand-in
// (not with the process-wide store of the built-in memory adapter, which warns at every start).

interface Entry { payload: AdapterPayload, expiresAt: number }

export function mapAdapter (): (model: string) => Adapter {
  const entries = new Map<string, Entry>()
  const byUid = new Map<string, string>()
  const live = (key: string): AdapterPayload | undefined => {
    const entry = entries.get(key)
    if (entry !== undefined && entry.expiresAt <= Date.now()) entries.delete(key)
    return entry !== undefined && entry.expiresAt > Date.now() ? entry.payload : undefined
  }
  return model => ({
    async upsert (id, payload, expiresIn) {
      entries.set(`${model}:${id}`, { payload, expiresAt: expiresIn === undefined ? Infinity : Date.now() + expiresIn * 1000 })
      if (typeof payload.uid === 'string') byUid.set(`${model}:${payload.uid}`, id)
    },
    async find (id) { return live(`${model}:${id}`) },
    async findByUid (uid) {
      const id = byUid.get(`${model}:${uid}`)
      return id === undefined ? undefined : live(`${model}:${id}`)
    },
    async findByUserCode () { return undefined }, // no device flow
    async consume (id) {
      const payload = live(`${model}:${id}`)
      if (payload !== undefined) payload.consumed = Math.floor(Date.now() / 1000)
    },
    async destroy (id) { entries.delete(`${model}:${id}`) },
    async revokeByGrantId (grantId) {
      for (const [key, entry] of entries) if (entry.payload.grantId === grantId) entries.delete(key)
    }
  })
}
