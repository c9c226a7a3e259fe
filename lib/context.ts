import type { EventContext } from './events.ts'

/** What a service knows about the request it serves: no HTTP objects, just facts. */
export type RequestContext = EventContext

export const noContext: RequestContext = { ip: null, userAgent: null, requestId: null }
