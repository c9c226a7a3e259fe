import type { IncomingMessage, ServerResponse } from 'node:http'
import type Provider from 'oidc-provider'
import type { Interaction } from 'oidc-provider'
import { sendText } from '../oauth/http.ts'
import type { OidcAccount } from './types.ts'

// The provider's own login and consent pages (oidc-provider leaves them to the application): one
// page per prompt with plain HTML forms, the way a browser would meet them.

export type InteractionAction = 'login' | 'confirm' | 'abort'

/** `/interaction/<uid>` (the page) or `/interaction/<uid>/<action>` (its forms), below the issuer path; null otherwise. */
export function interactionRoute (path: string): { uid: string, action: InteractionAction | null } | null {
  const match = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(path)
  if (match?.[1] === undefined) return null
  return { uid: match[1], action: (match[2] as InteractionAction | undefined) ?? null }
}

export interface InteractionContext {
  provider: Provider
  issuerPath: string
  /** Who signs in now. */
  account: () => OidcAccount
  /** Records the account as it was at its login, for findAccount. */
  loggedIn: (account: OidcAccount) => void
}

const escape = (text: string): string => text.replace(/[&<>"']/g, char => `&#${char.charCodeAt(0)};`)

function renderPage (context: InteractionContext, details: Interaction, res: ServerResponse): void {
  const base = escape(`${context.issuerPath}/interaction/${details.uid}`)
  const abort = `<form id="abort" method="post" action="${base}/abort"><button type="submit">Cancel</button></form>`
  const body = details.prompt.name === 'login'
    ? `<h1>Sign in</h1><form id="login" method="post" action="${base}/login"><input type="text" name="login" value=""><button type="submit">Sign in</button></form>${abort}`
    : `<h1>Allow access</h1><p>${escape(String(details.params.client_id))} asks for: ${escape(String(details.params.scope))}</p>` +
      `<form id="consent" method="post" action="${base}/confirm"><button type="submit">Allow</button></form>${abort}`
  res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
  res.end(`<!DOCTYPE html><html><head><title>Stand-in provider</title></head><body>${body}</body></html>`)
}

/** Grants what the consent prompt says is missing (oidc-provider's documented consent step). */
async function consent (provider: Provider, details: Interaction): Promise<{ grantId?: string }> {
  const accountId = details.session?.accountId
  const clientId = details.params.client_id
  if (accountId === undefined || typeof clientId !== 'string') throw new Error('consent without a login')
  const grant = (details.grantId === undefined ? undefined : await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId })
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = details.prompt.details
  if (missingOIDCScope !== undefined) grant.addOIDCScope(missingOIDCScope.join(' '))
  if (missingOIDCClaims !== undefined) grant.addOIDCClaims(missingOIDCClaims)
  for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) grant.addResourceScope(resource, scopes.join(' '))
  const grantId = await grant.save()
  return details.grantId === undefined ? { grantId } : {}
}

/** GET shows the page for the pending prompt; POST login, confirm or abort finishes it. */
export async function interaction (context: InteractionContext, req: IncomingMessage, res: ServerResponse, route: { uid: string, action: InteractionAction | null }, form: Record<string, string> | null): Promise<void> {
  const { provider } = context
  const details = await provider.interactionDetails(req, res).catch(() => null)
  if (details === null || details.uid !== route.uid) return sendText(res, 400, 'No such interaction (or its cookie is missing).')
  if (route.action === null) return req.method === 'GET' ? renderPage(context, details, res) : sendText(res, 405, 'Method Not Allowed')
  if (req.method !== 'POST') return sendText(res, 405, 'Method Not Allowed')

  switch (route.action) {
    case 'abort':
      return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'End-User aborted interaction' }, { mergeWithLastSubmission: false })
    case 'login': {
      const account = context.account()
      if (details.prompt.name !== 'login') return sendText(res, 400, `The pending prompt is ${details.prompt.name}, not login.`)
      if (form?.login !== account.sub) return sendText(res, 400, 'Unknown account.')
      context.loggedIn(structuredClone(account))
      return provider.interactionFinished(req, res, { login: { accountId: account.sub } }, { mergeWithLastSubmission: false })
    }
    case 'confirm':
      if (details.prompt.name !== 'consent') return sendText(res, 400, `The pending prompt is ${details.prompt.name}, not consent.`)
      return provider.interactionFinished(req, res, { consent: await consent(provider, details) }, { mergeWithLastSubmission: true })
  }
}
