import t from 'tap'
import { guarded, isUnavailable, storageError } from '../../lib/adapters/sql/errors.ts'

const withCode = (code: string): Error => Object.assign(new Error('driver error'), { code })

t.test('isUnavailable: network errors, connection and resource SQLSTATEs, busy SQLite, pg timeouts', async t => {
  const unavailable = [
    ...['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE'].map(withCode),
    ...['08000', '08001', '08003', '08006', '08P01', '53000', '53100', '53200', '53300', '57P01', '57P02', '57P03', '57P04', '57P05', '57014'].map(withCode),
    ...['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_LOCKED_SHAREDCACHE', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_CANTOPEN', 'SQLITE_FULL'].map(withCode),
    new Error('timeout exceeded when trying to connect'),
    new Error('Connection terminated due to connection timeout'),
    new Error('Connection terminated unexpectedly'),
    new Error('Query read timeout'),
    new AggregateError([new Error('first address'), withCode('ECONNREFUSED')], 'connect ECONNREFUSED')
  ]
  for (const error of unavailable) t.ok(isUnavailable(error), String((error as { code?: string }).code ?? error.message))
})

t.test('isUnavailable: constraint, syntax and programming errors are not unavailability', async t => {
  const others: unknown[] = [
    withCode('23505'), withCode('42P01'), withCode('57000'), withCode('40001'), withCode('0800'), withCode('080000'),
    withCode('SQLITE_CONSTRAINT_PRIMARYKEY'), withCode('SQLITE_ERROR'), withCode('SQLITE_BUSYNESS'), withCode('XSQLITE_BUSY'),
    Object.assign(new Error('x'), { code: 53300 }),
    new Error('Connection terminated'),
    new Error('driver has already been destroyed'),
    new AggregateError([new Error('a'), withCode('23505')], ''),
    Object.assign(new Error('x'), { errors: 'not a list' }),
    'ECONNREFUSED', null, undefined, 42
  ]
  for (const error of others) t.notOk(isUnavailable(error), String(error))
})

t.test('storageError wraps unavailability in FST_LCAUTH_STORAGE_UNAVAILABLE and passes anything else through', async t => {
  const refused = withCode('ECONNREFUSED')
  t.match(storageError(refused), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', statusCode: 503, cause: refused })
  t.doesNotThrow(() => JSON.stringify(storageError(refused)))
  const conflict = withCode('23505')
  t.equal(storageError(conflict), conflict)
  const already = storageError(refused)
  t.equal(storageError(already), already, 'never wrapped twice')
})

t.test('guarded passes arguments and results through and maps only unavailability', async t => {
  const safe = guarded({
    async double (n: number): Promise<number> { return n * 2 },
    async refuse (): Promise<never> { throw withCode('SQLITE_BUSY') },
    async conflict (): Promise<never> { throw withCode('23505') }
  })
  t.equal(await safe.double(21), 42)
  await t.rejects(safe.refuse(), { code: 'FST_LCAUTH_STORAGE_UNAVAILABLE', cause: { code: 'SQLITE_BUSY' } })
  await t.rejects(safe.conflict(), { code: '23505' })
})
