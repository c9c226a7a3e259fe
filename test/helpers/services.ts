interface Tap {
  fail(message: string): unknown
  comment(message: string): unknown
  plan(count: number): unknown
}

/**
 * The skip rule of the service-backed suites: with `variable` set (DATABASE_URL, REDIS_URI), runs
 * `suite` with its value; without it the suite is skipped with a one-line comment, unless
 * REQUIRE_SERVICES=1 (CI), which makes the skip a failure. `partOfFile`: other tests of the file still
 * run, so the file's plan is left alone.
 */
export function withService (t: Tap, variable: 'DATABASE_URL' | 'REDIS_URI', name: string, suite: (value: string) => void, options: { partOfFile?: boolean } = {}): void {
  const value = process.env[variable]
  if (value !== undefined && value !== '') {
    suite(value)
    return
  }
  if (process.env.REQUIRE_SERVICES === '1') {
    t.fail(`${variable} is not set, and REQUIRE_SERVICES=1 forbids skipping the ${name} suite`)
    return
  }
  t.comment(`${name} suite skipped: ${variable} is not set`)
  if (options.partOfFile !== true) t.plan(0)
}
