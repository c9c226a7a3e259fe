import t from 'tap'
import { parseDuration } from '../../lib/duration.ts'

t.test('integers, products and parentheses in the unit given', async t => {
  t.equal(parseDuration('900000', 1), 900000)
  t.equal(parseDuration('1000 * 60 * 15', 1), 900000)
  t.equal(parseDuration('(1000 * 60 * 60 * 24) * 7', 1), 604800000)
  t.equal(parseDuration(' ((2)) * (3 * 4) ', 1), 24)
  t.equal(parseDuration('15', 60_000), 900000)
})

t.test('a suffix overrides the unit', async t => {
  t.equal(parseDuration('15m', 1), 900000)
  t.equal(parseDuration('7d', 60_000), 604800000)
  t.equal(parseDuration('500ms', 60_000), 500)
  t.equal(parseDuration('1.5h', 1), 5400000)
  t.equal(parseDuration('2 w', 1), 1209600000)
  t.equal(parseDuration('30s', 1), 30000)
})

t.test('anything else is refused, never evaluated', async t => {
  for (const bad of ['', '  ', 'abc', '1000 + 5', '1000 * ', '(1000', '1000)', '-5', '1e3', 'process.exit()', '15 minutes',
    '9'.repeat(30), '1000 * 60 * 60 * 24 * 365 * 1000000', 'x'.repeat(200), '1 2', '()']) {
    t.equal(parseDuration(bad, 1), null, JSON.stringify(bad))
  }
})
