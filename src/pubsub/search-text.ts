// What a full-text search over PubSub items looks through: the character data of an item's payload, never its
// element names or attributes (so `entry` or an href does not match every Atom post). The words are indexed by the
// storage layer's rules (src/storage/text-search.ts), the same for SQLite, PostgreSQL and memory.
//
// Payloads that are binary data in base64 or key material (avatars, OMEMO bundles) are not indexed: their "words"
// would fill the index with noise that nobody searches for.
import type { Element } from '../core/xml/element.js';

const NOT_SEARCHED = new Set([
  'urn:xmpp:avatar:data', // XEP-0084 image bytes
  'eu.siacs.conversations.axolotl', // XEP-0384 OMEMO bundles and device lists (legacy namespace)
  'urn:xmpp:omemo:2', // XEP-0384 OMEMO
  'urn:xmpp:bob', // XEP-0231 bits of binary
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
  for (const child of el.children) {
    if (typeof child === 'string') parts.push(child);
    else collect(child, parts);
  }
}
