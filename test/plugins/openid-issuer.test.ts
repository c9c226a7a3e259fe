import t from 'tap'
import * as oidc from 'openid-client'
import { optionsFromEnv } from '../../lib/env/options-from-env.ts'
import { clientAuthentication, discoveryOptions } from '../../plugins/oauth/openid-issuer.ts'

// How the OpenID client talks to its issuer: which client authentication goes on the wire, and which
// checks every discovered configuration gets.

function sent (auth: oidc.ClientAuth, methods?: string[]): { body: string, authorization: string | null } {
  const body = new URLSearchParams()
  const headers = new Headers()
  void auth({ issuer: 'https://id.example.com', ...(methods === undefined ? {} : { token_endpoint_auth_methods_supported: methods }) }, { client_id: 'app' }, body, headers)
  return { body: body.toString(), authorization: headers.get('authorization') }
}

t.test('HTTP Basic unless the issuer takes only client_secret_post; nothing for a public client', async t => {
  const auth = clientAuthentication('s3cret')
  t.match(sent(auth), { body: '', authorization: /^Basic / }, 'no list: the spec\'s default')
  t.match(sent(auth, ['client_secret_basic', 'client_secret_post']), { authorization: /^Basic / })
  t.match(sent(auth, ['private_key_jwt']), { authorization: /^Basic / }, 'neither listed: Basic, and the issuer says why if it refuses')
  t.match(sent(auth, ['client_secret_post']), { body: 'client_id=app&client_secret=s3cret', authorization: null })
  t.match(sent(clientAuthentication(null)), { body: 'client_id=app', authorization: null })
})

t.test('every configuration checks ID-token signatures; plain http only where the issuer is http', async t => {
  t.same(discoveryOptions(new URL('https://id.example.com'), 10_000), { timeout: 10, execute: [oidc.enableNonRepudiationChecks] })
  t.same(discoveryOptions(new URL('http://127.0.0.1:9000'), 250), { timeout: 1, execute: [oidc.enableNonRepudiationChecks, oidc.allowInsecureRequests] })
})

t.test('the smallest OpenID .env: issuer and client id', async t => {
  t.same(optionsFromEnv({ OPENID_ISSUER: 'https://id.example.com', OPENID_CLIENT_ID: 'app' }).openid, { issuer: 'https://id.example.com', clientId: 'app' })
})
