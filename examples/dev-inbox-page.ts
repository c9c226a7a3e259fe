import type { InboxMail } from './dev-inbox.ts'

const URLS = /https?:\/\/[^\s<>"'`]+/g
const TRAILING = /[.,;:!?)\]}]+$/

/** The text cut into plain parts and http(s) URLs (without the sentence's closing punctuation). */
export function splitLinks (text: string): Array<{ text: string, link: boolean }> {
  const parts: Array<{ text: string, link: boolean }> = []
  let at = 0
  for (const match of text.matchAll(URLS)) {
    const url = match[0].replace(TRAILING, '')
    const start = match.index
    if (start > at) parts.push({ text: text.slice(at, start), link: false })
    parts.push({ text: url, link: true })
    at = start + url.length
  }
  if (at < text.length) parts.push({ text: text.slice(at), link: false })
  return parts
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** Text made safe for HTML content and attribute values. */
export function escapeHtml (value: string): string {
  return value.replace(/[&<>"']/g, c => ENTITIES[c] as string)
}

/** The text body, escaped, with every URL a link. The mail's own HTML part is never rendered. */
function body (text: string): string {
  return splitLinks(text).map(part => part.link
    ? `<a href="${escapeHtml(part.text)}">${escapeHtml(part.text)}</a>`
    : escapeHtml(part.text)).join('')
}

function article (mail: InboxMail): string {
  return `<article>
<h2>${escapeHtml(mail.subject)}</h2>
<p class="meta">To <strong>${escapeHtml(mail.to)}</strong>, <time datetime="${escapeHtml(mail.at)}">${escapeHtml(mail.at.replace('T', ' ').replace(/\.\d+Z$/, ' UTC'))}</time></p>
<div class="text">${body(mail.text)}</div>
</article>`
}

/** `/dev/mail`: every kept mail, newest first; user values are escaped, links clickable. */
export function inboxPage (mails: readonly InboxMail[], max: number): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development inbox</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; margin: 0 auto; max-width: 48rem; padding: 1rem; color: #1a1a1a; }
article { border: 1px solid #ccc; border-radius: 6px; padding: 0 1rem 1rem; margin: 1rem 0; }
h2 { font-size: 1.15rem; margin-bottom: 0.25rem; }
.meta { color: #555; margin-top: 0; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
a { color: #0645ad; }
</style>
</head>
<body>
<main>
<h1>Development inbox</h1>
<p>Mail the example server sent, newest first: the last ${max}, kept in memory until it stops.
Only this machine can open this page. Reload it to see new mail.</p>
${mails.length === 0 ? '<p>No mail yet.</p>' : mails.map(article).join('\n')}
</main>
</body>
</html>
`
}
