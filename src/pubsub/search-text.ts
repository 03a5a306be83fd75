// What a full-text search over PubSub items looks through: the character data of an item's payload, never its
// element names or attributes (so `entry` or an href does not match every Atom post). The words are indexed by the
// storage layer's rules (src/storage/text-search.ts), the same for SQLite, PostgreSQL and memory.
//
// Payloads that are binary data in base64 or key material (avatars, OMEMO bundles) are not indexed: their "words"
// would fill the index with noise that nobody searches for. An Atom text construct of type html (RFC 4287 §3.1.1.2)
// holds escaped markup, which counts by its text, not by its tags.
import type { Element } from '../core/xml/element.js';
import { htmlToText } from '../publishing/text.js';

const NS_ATOM = 'http://www.w3.org/2005/Atom';

const NOT_SEARCHED = new Set([
  'urn:xmpp:avatar:data', // XEP-0084 image bytes
  'eu.siacs.conversations.axolotl', // XEP-0384 OMEMO bundles and device lists (legacy namespace)
  'urn:xmpp:omemo:2', // XEP-0384 OMEMO
  'urn:xmpp:bob', // XEP-0231 bits of binary
  'urn:xmpp:openpgp:0', // XEP-0373 public keys
]);

/** The text of a payload for the search index, or undefined when there is nothing to search. */
export function payloadText(payload: Element | null): string | undefined {
  if (!payload || NOT_SEARCHED.has(payload.ns)) return undefined;
  const parts: string[] = [];
  collect(payload, parts);
  const text = parts.join(' ').trim();
  return text === '' ? undefined : text;
}

function collect(el: Element, parts: string[]): void {
  if (el.ns === NS_ATOM && el.attrs.type === 'html') {
    parts.push(htmlToText(el.text()));
    return;
  }
  for (const child of el.children) {
    if (typeof child === 'string') parts.push(child);
    else collect(child, parts);
  }
}
