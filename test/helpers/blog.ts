// Helpers of the Publishing tests: the modules of a publishing server, Atom entries as XMPP clients publish them
// (XEP-0277 §publish), and the blog's URLs on a test server.
import parse from '@xmpp/xml/lib/parse.js';
import { xml, type X } from './pubsub.js';
import type { TestServer } from './server.js';

export const ATOM = 'http://www.w3.org/2005/Atom';
export const MICROBLOG = 'urn:xmpp:microblog:0';
export const SOCIAL_FEED = 'urn:xmpp:pubsub-social-feed:1';

/** A server with accounts, PEP, pubsub and the publishing modules (and storage and app tokens for HTTP). */
export const PUBLISHING_MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  pubsub:\n  storage:\n  adhoc:\n  app_tokens:\n  microblog:\n  social_feed:\n  blog:';

export interface EntryParts {
  title: string;
  text?: string;
  xhtml?: string;
  categories?: string[];
  published?: string;
  series?: { id: string; title: string; position?: number };
}

/** An Atom entry as a XEP-0277 client publishes it: title, text content and, optionally, an XHTML twin. */
export function atomEntry(parts: EntryParts): X {
  const children: X[] = [xml('title', { type: 'text' }, parts.title)];
  if (parts.text !== undefined) children.push(xml('content', { type: 'text' }, parts.text));
  if (parts.xhtml !== undefined) {
    // Given as markup, parsed into elements so that the client sends it as XML (as clients do).
    children.push(xml('content', { type: 'xhtml' }, parse(`<div xmlns='http://www.w3.org/1999/xhtml'>${parts.xhtml}</div>`)));
  }
  for (const term of parts.categories ?? []) children.push(xml('category', { term }));
  if (parts.published) children.push(xml('published', {}, parts.published));
  if (parts.series) {
    children.push(xml('category', { scheme: 'urn:quire:series:0', term: parts.series.id, label: parts.series.title, 'xmlns:quire': 'urn:quire:series:0', ...(parts.series.position ? { 'quire:position': String(parts.series.position) } : {}) }));
  }
  return xml('entry', { xmlns: ATOM }, ...children);
}

export function blogUrl(server: TestServer, path = ''): string {
  return `http://127.0.0.1:${server.httpPort}/blog/${path}`;
}
