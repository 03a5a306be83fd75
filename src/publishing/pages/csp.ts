// The Content-Security-Policy of every blog page (CSP Level 3). The pages carry no script and no inline style
// (the stylesheet is a file of the same origin), so the policy forbids both; images may come from the blog, from
// HTTPS sites and from data: URLs (the sanitizer keeps raster data: images). No frames, plugins, forms or <base>.
const POLICY = [
  "default-src 'none'",
  "style-src 'self'",
  "img-src 'self' https: data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The Content-Security-Policy header value for blog pages. */
export function contentSecurityPolicy(): string {
  return POLICY;
}

/** Headers that go with the policy on every page. */
export function securityHeaders(): Record<string, string> {
  return {
    'content-security-policy': POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'strict-origin-when-cross-origin',
  };
}
