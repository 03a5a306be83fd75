// What goes into a user archive: XEP-0313 §6.1.1 (which messages), XEP-0334 (hints) and XEP-0441
// (the user's preferences: default, always and never).
import { tryParseJid, type Jid } from '../../core/jid/index.js';
import { xml, type Element } from '../../core/xml/element.js';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_HINTS = 'urn:xmpp:hints';

/**
 * Payloads that make a message worth keeping even without a <body/>: XEP-0313 §6.1.1 lets a server keep
 * "additional non-conversation messages", and these are the ones clients sync through the archive (read
 * markers and receipts, encrypted payloads, invitations, call logs, reactions, retractions).
 */
const ARCHIVED_NAMESPACES = new Set([
  'urn:xmpp:receipts', // XEP-0184
  'urn:xmpp:chat-markers:0', // XEP-0333
  'urn:xmpp:eme:0', // XEP-0380: whatever is encrypted, the user wants it kept
  'eu.siacs.conversations.axolotl', // XEP-0384 OMEMO (legacy namespace)
  'urn:xmpp:omemo:2', // XEP-0384 OMEMO 2
  'urn:xmpp:openpgp:0', // XEP-0373
  'jabber:x:encrypted', // XEP-0027
  'jabber:x:conference', // XEP-0249 direct MUC invitations
  'urn:xmpp:jingle-message:0', // XEP-0353 call initiation
  'urn:xmpp:jingle-message:1',
  'urn:xmpp:reactions:0', // XEP-0444
  'urn:xmpp:message-retract:1', // XEP-0424
  'urn:xmpp:message-retract:0',
]);

/**
 * Whether a message belongs in a user archive, by its content alone (preferences come after).
 * §6.1.1: messages of type normal or chat with a <body/> SHOULD be kept; groupchat is left to the MUC's own
 * archive (Quire does not keep it, so it never advertises #groupchat-available); headline is not suggested.
 * XEP-0334 §4: <no-store/> and <no-permanent-store/> keep any message out; <store/> lets in a non-error one
 * the rules would leave out (not groupchat: see above). Hints in an error are ignored (§5): errors are never kept.
 */
export function worthArchiving(message: Element): boolean {
  const type = message.attrs.type ?? 'normal';
  if (type === 'error' || type === 'groupchat') return false;
  let storeHint = false;
  let content = false;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const ns = child.ns;
    if (ns === NS_HINTS) {
      const name = child.localName;
      if (name === 'no-store' || name === 'no-permanent-store') return false;
      if (name === 'store') storeHint = true;
    } else if (ns === 'jabber:client' || ns === 'jabber:server' || ns === '') {
      // The stanza's own namespace: <body/> and <subject/> are conversation; <thread/> alone is not.
      const name = child.localName;
      if (name === 'body' || name === 'subject') content = true;
    } else if (ARCHIVED_NAMESPACES.has(ns)) {
      content = true;
    } else if (ns === 'http://jabber.org/protocol/muc#user' && child.getChild('invite', ns)) {
      // XEP-0045 §7.8.2 mediated invitation.
      content = true;
    }
  }
  if (storeHint) return true;
  return content && (type === 'normal' || type === 'chat');
}

/**
 * The plain text of a message for XEP-0431 search: its <body/> and <subject/> elements (every language), one per
 * line; undefined when it has neither (a receipt, a marker, an encrypted payload alone). Only the text: tags,
 * attributes and other payloads are never searched.
 */
export function searchableText(message: Element): string | undefined {
  let text: string | undefined;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const ns = child.ns;
    if (ns !== 'jabber:client' && ns !== 'jabber:server' && ns !== '') continue;
    const name = child.localName;
    if (name !== 'body' && name !== 'subject') continue;
    text = text === undefined ? child.text() : `${text}\n${child.text()}`;
  }
  return text;
}

/** XEP-0441 §2.1.1 default behaviour for JIDs on neither list. */
export type DefaultPolicy = 'always' | 'never' | 'roster';

export interface Prefs {
  default: DefaultPolicy;
  /** Prepared JIDs (bare or full), as written in the lists. */
  always: string[];
  never: string[];
}

export function isDefaultPolicy(value: string | undefined): value is DefaultPolicy {
  return value === 'always' || value === 'never' || value === 'roster';
}

/** XEP-0441 §2.3.1: a listed bare JID matches the target's bare JID; a listed full JID matches it as-is. */
function listed(list: string[], target: Jid): boolean {
  for (const entry of list) if (entry === target.full || entry === target.bare) return true;
  return false;
}

/**
 * What the lists say about a target JID: 'never' wins over 'always' (a JID the user put on both lists is not
 * archived: the safer reading), undefined when neither list names it and the default decides.
 */
export function listVerdict(prefs: Prefs, target: Jid): boolean | undefined {
  if (listed(prefs.never, target)) return false;
  if (listed(prefs.always, target)) return true;
  return undefined;
}

export function prefsToXml(prefs: Prefs): Element {
  const jids = (list: string[]) => list.map((jid) => xml('jid', {}, jid));
  return xml('prefs', { xmlns: NS_MAM, default: prefs.default }, xml('always', {}, jids(prefs.always)), xml('never', {}, jids(prefs.never)));
}

export class PrefsError extends Error {}

/**
 * Reads a <prefs/> element, from a client's set or from storage. JIDs are prepared so that matching is
 * a string comparison; one on both lists stays only on 'never' (§2.1: the server replies with what it applied).
 */
export function parsePrefs(element: Element): Prefs {
  const policy = element.attrs.default;
  if (!isDefaultPolicy(policy)) throw new PrefsError(`default must be always, never or roster, not ${JSON.stringify(policy ?? '')}`);
  const read = (name: string): string[] => {
    const out: string[] = [];
    for (const list of element.getChildren(name, element.ns)) {
      for (const item of list.getChildren('jid', element.ns)) {
        const jid = tryParseJid(item.text().trim());
        if (!jid) throw new PrefsError(`"${item.text()}" is not a JID`);
        if (!out.includes(jid.full)) out.push(jid.full);
      }
    }
    return out;
  };
  const never = read('never');
  const always = read('always').filter((jid) => !never.includes(jid));
  return { default: policy, always, never };
}
