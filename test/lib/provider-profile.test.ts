import t from 'tap'
import { discordProfile, facebookProfile, githubProfile, googleProfile } from '../../lib/identities/provider-profile.ts'

// OA-06: every provider's mapping, table-tested. Only what the provider itself vouches for counts as a
// verified email; the subject is the provider's id, never the email.

t.test('google: sub identifies, email_verified decides, only literal true counts', async t => {
  const base = { sub: '1170', email: 'Ada@Example.test', name: 'Ada L', picture: 'https://lh3.example.test/a.png' }
  t.same(googleProfile({ ...base, email_verified: true }), { subject: '1170', email: 'Ada@Example.test', emailVerified: true, name: 'Ada L', username: null, avatar: 'https://lh3.example.test/a.png' })
  for (const flag of [false, 'true', 1, undefined]) t.equal(googleProfile({ ...base, email_verified: flag }).emailVerified, false, `email_verified ${String(flag)}`)
  t.equal(googleProfile({ sub: '1', picture: 'http://plain.example.test/a.png' }).avatar, null, 'only https avatars')
  t.equal(googleProfile({ sub: '1', email: '' }).email, null)
  t.throws(() => googleProfile({ email: 'x@example.test' }), { name: 'ProviderFailure', reason: 'provider_error' })
  t.throws(() => googleProfile({ sub: 'x'.repeat(256) }), { name: 'ProviderFailure' })
})

t.test('github: numeric id; the primary address counts only when GitHub verified it', async t => {
  const user = { id: 583231, login: 'octocat', name: 'The Octocat', avatar_url: 'https://avatars.example.test/u/583231', email: 'public@example.test' }
  const verified = githubProfile(user, [{ email: 'other@example.test', primary: false, verified: true }, { email: 'octo@example.test', primary: true, verified: true }])
  t.same(verified, { subject: '583231', email: 'octo@example.test', emailVerified: true, name: 'The Octocat', username: 'octocat', avatar: 'https://avatars.example.test/u/583231' })
  const unverified = githubProfile(user, [{ email: 'octo@example.test', primary: true, verified: false }, { email: 'other@example.test', primary: false, verified: true }])
  t.same([unverified.email, unverified.emailVerified], ['octo@example.test', false], 'an unverified primary is not replaced by another verified address')
  t.same([githubProfile(user, []).email, githubProfile(user, []).emailVerified], [null, false], 'no addresses: no email, even with a public profile email')
  t.equal(githubProfile(user, { message: 'not a list' }).email, null)
  t.throws(() => githubProfile({ id: 1.5 }, []), { name: 'ProviderFailure' })
})

t.test('discord: its own verified flag; global name before username; avatar from the CDN', async t => {
  const user = { id: '80351110224678912', username: 'nelly', global_name: 'Nelly', avatar: '8342729096ea3675442027381ff50dfe', email: 'nelly@example.test', verified: true }
  t.same(discordProfile(user), {
    subject: '80351110224678912',
    email: 'nelly@example.test',
    emailVerified: true,
    name: 'Nelly',
    username: 'nelly',
    avatar: 'https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png'
  })
  t.equal(discordProfile({ ...user, verified: false }).emailVerified, false)
  t.equal(discordProfile({ ...user, global_name: null }).name, 'nelly')
  t.equal(discordProfile({ ...user, avatar: '../../evil' }).avatar, null, 'an avatar hash is a hash, not a path')
})

t.test('facebook: its email never counts as verified', async t => {
  const user = { id: '10158', name: 'Mark Z', email: 'mark@example.test', picture: { data: { url: 'https://graph.example.test/p.jpg' } }, verified: true }
  t.same(facebookProfile(user), { subject: '10158', email: 'mark@example.test', emailVerified: false, name: 'Mark Z', username: null, avatar: 'https://graph.example.test/p.jpg' })
  t.same(facebookProfile({ id: '1' }), { subject: '1', email: null, emailVerified: false, name: null, username: null, avatar: null })
})
