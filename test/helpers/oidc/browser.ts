// The browser between our app and the provider: real HTTP with a cookie jar, redirects followed by
// hand so the one back to our callback is returned rather than fetched.

interface Cookie { name: string, value: string, path: string }

/** Enough of RFC 6265 for one host: name and path, deletion by Max-Age or Expires. */
export class CookieJar {
  readonly #cookies = new Map<string, Cookie>()

  store (response: Response, url: URL): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map(part => part.trim())
      const eq = pair.indexOf('=')
      if (eq <= 0) continue
      const cookie: Cookie = { name: pair.slice(0, eq), value: pair.slice(eq + 1), path: url.pathname.replace(/\/[^/]*$/, '') || '/' }
      let expired = false
      for (const attribute of attributes) {
        const [key = '', value = ''] = attribute.split('=', 2)
        switch (key.toLowerCase()) {
          case 'path': cookie.path = value.startsWith('/') ? value : '/'; break
          case 'max-age': expired ||= Number(value) <= 0; break
          case 'expires': expired ||= Date.parse(value) <= Date.now(); break
        }
      }
      const key = `${cookie.name};${cookie.path}`
      if (expired) this.#cookies.delete(key)
      else this.#cookies.set(key, cookie)
    }
  }

  header (url: URL): string {
    const matches = (path: string): boolean => url.pathname === path || url.pathname.startsWith(path.endsWith('/') ? path : `${path}/`)
    return [...this.#cookies.values()].filter(cookie => matches(cookie.path)).map(cookie => `${cookie.name}=${cookie.value}`).join('; ')
  }
}

/** The forms of a stand-in page by id: action and the fields they carry. */
function formsOf (html: string, base: URL): Map<string, URL> {
  const forms = new Map<string, URL>()
  for (const match of html.matchAll(/<form id="(\w+)" method="post" action="([^"]+)">/g)) {
    if (match[1] !== undefined && match[2] !== undefined) forms.set(match[1], new URL(match[2].replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))), base))
  }
  return forms
}

const MAX_STEPS = 12

/** See OidcStandIn.signIn. `sub` is who types their name at the login form. */
export async function signIn (origin: string, authorizeUrl: string, sub: () => string, deny: boolean): Promise<string> {
  const jar = new CookieJar()
  let url = new URL(authorizeUrl)
  if (url.origin !== origin) throw new Error(`signIn: ${url.origin} is not this provider (${origin})`)
  let form: URLSearchParams | null = null
  for (let step = 0; step < MAX_STEPS; step++) {
    const cookie = jar.header(url)
    const response = await fetch(url, {
      method: form === null ? 'GET' : 'POST',
      redirect: 'manual',
      headers: { ...(cookie === '' ? {} : { cookie }), ...(form === null ? {} : { 'content-type': 'application/x-www-form-urlencoded' }) },
      ...(form === null ? {} : { body: form })
    })
    jar.store(response, url)
    const text = await response.text()
    const location = response.headers.get('location')
    if (response.status >= 300 && response.status < 400 && location !== null) {
      const next = new URL(location, url)
      if (next.origin !== origin) return next.href // back to the client: the callback with code or error
      url = next
      form = null
      continue
    }
    const forms = response.status === 200 ? formsOf(text, url) : new Map<string, URL>()
    const chosen = deny ? 'abort' : forms.has('login') ? 'login' : 'consent'
    const action = forms.get(chosen)
    if (action === undefined) throw new Error(`signIn: ${response.status} at ${url.pathname}: ${text.slice(0, 500)}`)
    url = action
    form = new URLSearchParams(chosen === 'login' ? { login: sub() } : {})
  }
  throw new Error(`signIn: no way back to the client after ${MAX_STEPS} steps`)
}
