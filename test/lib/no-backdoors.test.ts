import { readdir, readFile } from 'node:fs/promises'
import t from 'tap'

// CFG-02: authentication decisions never depend on NODE_ENV or other environment reads inside the
// shipped code. Allowed: the default of the `production` option, and the CLI's entry point, whose
// configuration is its environment.
const root = new URL('../../', import.meta.url)

async function sources (dir: string): Promise<string[]> {
  const entries = await readdir(new URL(dir, root), { withFileTypes: true, recursive: true })
  return entries.filter(e => e.isFile() && e.name.endsWith('.ts')).map(e => `${e.parentPath}/${e.name}`)
}

const isCode = (line: string): boolean => !/^\s*(\/\/|\/?\*)/.test(line)

t.test('CFG-02: process.env is read only in the allow-listed places', async t => {
  const hits: string[] = []
  for (const file of [...await sources('lib'), ...await sources('plugins'), new URL('index.ts', root).pathname]) {
    const text = await readFile(file, 'utf8')
    for (const [i, line] of text.split('\n').entries()) if (isCode(line) && line.includes('process.env')) hits.push(`${file.slice(root.pathname.length)}:${i + 1}`)
  }
  t.equal(hits.length, 2, hits.join(', '))
  t.match(hits.sort(), [/^lib\/cli\/bin\.ts:/, /^plugins\/auth\.ts:/])
})
