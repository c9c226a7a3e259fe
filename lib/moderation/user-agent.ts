// A browser names itself in its User-Agent; LibreChat treats a request without such a token as
// non-browser. Easily forged either way, so it only ever adds to a score.
const BROWSER = /\b(?:Chrome|Chromium|CriOS|Firefox|FxiOS|Safari|Edge?|EdgA|EdgiOS|OPR|Opera|SamsungBrowser|Vivaldi|YaBrowser|MSIE|Trident)[/ ]/

/** True when the User-Agent header names a known browser engine or brand. */
export function isBrowser (userAgent: string | undefined): boolean {
  return typeof userAgent === 'string' && BROWSER.test(userAgent.slice(0, 512))
}
