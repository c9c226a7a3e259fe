import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'

// Every TypeScript block in README.md and docs/ compiles against the built package, as a reader
// would paste it (`npm test` builds dist/ first).
const root = new URL('../../', import.meta.url).pathname

t.test('the TypeScript in the docs compiles', async t => {
  // Inside the package, so `import … from 'librechat-auth'` resolves to it through its own `exports`.
  await mkdir(join(root, '.tap'), { recursive: true })
  const dir = await mkdtemp(join(root, '.tap', 'docblocks-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pages = ['README.md', ...(await readdir(join(root, 'docs'))).filter(f => f.endsWith('.md')).map(f => `docs/${f}`)]
  let count = 0
  for (const page of pages) {
    const text = await readFile(join(root, page), 'utf8')
    for (const [i, match] of [...text.matchAll(/```ts\n([\s\S]*?)```/g)].entries()) {
      await writeFile(join(dir, `${page.replace(/\W/g, '_')}_${i}.ts`), `${match[1] as string}\nexport {}\n`)
      count++
    }
  }
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'ES2023', lib: ['ES2023'], module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], strict: true, exactOptionalPropertyTypes: true, noEmit: true, skipLibCheck: true },
    include: ['*.ts']
  }))
  t.ok(count >= 8, `${count} blocks`)
  const result = await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')])
    .then(() => '', (error: { stdout?: string }) => error.stdout ?? 'tsc failed')
  t.equal(result, '', 'tsc reports nothing')
})
