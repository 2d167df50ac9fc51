/**
 * Headers of the service's own pages (the live screen, the dashboard) and their files. The pages
 * load nothing from elsewhere, so the policy allows nothing from elsewhere, and nothing injected
 * could load or send anything either.
 */
export const PAGE_HEADERS = {
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
} as const
