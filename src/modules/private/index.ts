// XEP-0049 Private XML Storage (jabber:iq:private): a client keeps XML fragments on its own account, one per
// (element name, namespace), and reads them back. Other users cannot see them.
import { defineModule } from '../../core/module-api.js';
import type { Host } from '../../core/host.js';
import { parseStoredXml } from '../../core/roster.js';
import { StanzaError } from '../../core/stanza.js';
import { Element, xml } from '../../core/xml/element.js';

export const NS_PRIVATE = 'jabber:iq:private';
/** The map store: one entry per fragment, keyed by `{namespace}name`, the value the fragment's XML. */
export const PRIVATE_STORE = 'private';

/**
 * Fired on the host after a set has stored its fragments, once per fragment, so that other modules can react
 * (XEP-0402 keeps legacy XEP-0048 bookmarks in step with PEP this way).
 */
export const PRIVATE_STORED_EVENT = 'private/stored';
export interface PrivateStoredEvent {
  host: Host;
  /** The account's local part. */
  user: string;
  /** The stored fragment (for instance <storage xmlns='storage:bookmarks'/>). */
  element: Element;
}

export function privateKey(namespace: string, name: string): string {
  return `{${namespace}}${name}`;
}

/** §3: namespaces reserved in Jabber. Refusing them is optional in the XEP; Quire refuses, as jabberd did. */
function isReserved(namespace: string): boolean {
  return namespace.startsWith('jabber:') || namespace.startsWith('http://jabber.org/') || namespace === 'vcard-temp';
}

/** Checks one child of <query/>: it must be scoped by its own, unreserved namespace (§2). */
function checkFragment(fragment: Element): void {
  if (fragment.ns === '' || fragment.ns === NS_PRIVATE) {
    throw new StanzaError('not-acceptable', `<${fragment.localName}/> needs a namespace of its own`);
  }
  if (isReserved(fragment.ns)) throw new StanzaError('not-acceptable', `the namespace ${fragment.ns} is reserved`);
}

/**
 * A copy of a fragment that stands on its own when serialized: its default namespace written out, and any
 * prefix it uses that was declared on an ancestor (the <iq/>, the <query/>) declared again on it.
 */
export function detach(fragment: Element): Element {
  const copy = fragment.clone();
  if (!fragment.name.includes(':') && copy.attrs.xmlns === undefined) copy.attrs.xmlns = fragment.ns;
  const prefixes = new Set<string>();
  collectPrefixes(fragment, prefixes);
  for (const prefix of prefixes) {
    const key = 'xmlns:' + prefix;
    if (copy.attrs[key] !== undefined) continue;
    for (let ancestor = fragment.parent; ancestor; ancestor = ancestor.parent) {
      const uri = ancestor.attrs[key];
      if (uri !== undefined) {
        copy.attrs[key] = uri;
        break;
      }
    }
  }
  return copy;
}

function collectPrefixes(element: Element, into: Set<string>): void {
  const colon = element.name.indexOf(':');
  if (colon > 0) into.add(element.name.slice(0, colon));
  for (const name in element.attrs) {
    const c = name.indexOf(':');
    if (c > 0) {
      const prefix = name.slice(0, c);
      if (prefix !== 'xmlns' && prefix !== 'xml') into.add(prefix);
    }
  }
  for (const child of element.children) if (typeof child !== 'string') collectPrefixes(child, into);
}

export default defineModule({
  name: 'private',
  spec: 'XEP-0049',
  description: 'Private XML storage: clients keep their own XML fragments (preferences, legacy bookmarks) on the server',
  setup(m) {
    const store = m.map(PRIVATE_STORE);
    const hostName = m.host.name;
    m.feature(NS_PRIVATE);

    /** §3: only the account itself, with no 'to' or its own bare JID. */
    const ownAccount = (from: { bare: string; domain: string }, to: { bare: string }) => {
      if (from.bare !== to.bare || from.domain !== hostName) throw new StanzaError('forbidden', 'private XML belongs to its account alone');
    };

    m.iq(
      'get',
      NS_PRIVATE,
      'query',
      async ({ payload, from, to }) => {
        ownAccount(from, to);
        const fragments = payload.elements();
        // §2: at least one child, else not-acceptable (the XEP's "Bad Format" is XEP-0086 code 406, which is
        // not-acceptable in RFC 6120); and a client MUST NOT ask for more than one namespace in one get.
        if (fragments.length === 0) throw new StanzaError('not-acceptable', 'name the fragment to retrieve: <query/> needs one child element');
        if (fragments.length > 1) throw new StanzaError('bad-request', 'retrieve one fragment per request');
        const wanted = fragments[0];
        checkFragment(wanted);
        const stored = await store.get(hostName, to.local, privateKey(wanted.ns, wanted.localName));
        // Nothing stored: the empty element comes back, which clients read as "nothing yet".
        const fragment = stored ? parseStoredXml(stored) : xml(wanted.localName, { xmlns: wanted.ns });
        return xml('query', { xmlns: NS_PRIVATE }, fragment);
      },
      'bare',
    );

    m.iq(
      'set',
      NS_PRIVATE,
      'query',
      async ({ payload, from, to }) => {
        ownAccount(from, to);
        const fragments = payload.elements();
        if (fragments.length === 0) throw new StanzaError('not-acceptable', '<query/> needs at least one child element to store');
        // All or nothing: check every fragment before storing any.
        for (const fragment of fragments) checkFragment(fragment);
        const entries = new Map<string, string | null>();
        const detached = fragments.map(detach);
        for (const fragment of detached) {
          // An empty fragment is what a get answers when nothing is stored: keep nothing for it.
          const empty = fragment.children.length === 0 && Object.keys(fragment.attrs).every((a) => a === 'xmlns' || a.startsWith('xmlns:'));
          entries.set(privateKey(fragment.ns, fragment.localName), empty ? null : fragment.toString());
        }
        await store.setMany(hostName, to.local, entries);
        for (const element of detached) m.host.events.fire(PRIVATE_STORED_EVENT, { host: m.host, user: to.local, element } satisfies PrivateStoredEvent);
        return undefined;
      },
      'bare',
    );
  },
});
