import t from 'tap'
import { memoryMailer } from '../../index.ts'
import { alice, build } from '../helpers/app.ts'

// HDR-04 for the routes that came with mail: a cross-site request is refused before it can mail
// anyone or consume a token.
const evil = { origin: 'https://evil.test' }
const crossSite = { 'sec-fetch-site': 'cross-site' }

t.test('HDR-04: reset and verification routes refuse cross-site requests and do nothing', async t => {
  const mailer = memoryMailer()
  const { app } = await build(t, { mailer, allowUnverifiedEmailLogin: true })
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/register', payload: alice })).statusCode, 200)
  await app.lcauth.mail?.idle()
  const verifyLink = new URL(/http\S+/.exec(mailer.outbox[0]?.text ?? '')?.[0] as string)
  const sent = mailer.outbox.length

  const attempts = [
    { url: '/api/auth/requestPasswordReset', payload: { email: alice.email } },
    { url: '/api/auth/resetPassword', payload: { token: 'x'.repeat(43), password: 'a brand new passphrase', confirm_password: 'a brand new passphrase' } },
    { url: '/api/user/verify', payload: { email: alice.email, token: verifyLink.searchParams.get('token') as string } },
    { url: '/api/user/verify/resend', payload: { email: alice.email } }
  ]
  for (const attempt of attempts) {
    for (const headers of [evil, crossSite, { origin: 'null' }]) {
      const r = await app.inject({ method: 'POST', ...attempt, headers })
      t.equal(r.statusCode, 403, `${attempt.url} ${JSON.stringify(headers)}`)
      t.equal(r.json().code, 'FST_LCAUTH_CROSS_SITE')
    }
  }
  await app.lcauth.mail?.idle()
  t.equal(mailer.outbox.length, sent, 'nothing was mailed')
  const same = await app.inject({ method: 'POST', url: '/api/user/verify', payload: { email: alice.email, token: verifyLink.searchParams.get('token') }, headers: { origin: 'http://127.0.0.1:3080' } })
  t.equal(same.statusCode, 200, 'the verification token was not consumed by the refused requests')
})
