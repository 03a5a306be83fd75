// XMPP addresses, RFC 7622: [ localpart "@" ] domainpart [ "/" resourcepart ],
// each part prepared with PRECIS (RFC 8264, RFC 8265) or IDNA2008 and compared as strings afterwards.
import { GenerationalCache } from '../cache.js';
import { prepDomain } from './domain.js';
import { JidError } from './errors.js';
import { opaqueString, usernameCaseMapped } from './precis.js';

export { JidError, prepDomain };

const MAX_OCTETS = 1023; // RFC 7622 §3.1, for each part after preparation

/** Only this module can build a Jid, so every Jid holds prepared parts. */
const PREPARED: unique symbol = Symbol('prepared JID parts');

export class Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  #bare: string | undefined;
  #full: string | undefined;
  #bareJid: Jid | undefined;

  /** Not for direct use: parseJid() and makeJid() prepare the parts first. */
  constructor(token: typeof PREPARED, local: string, domain: string, resource: string) {
    if (token !== PREPARED) throw new TypeError('Jid: use parseJid() or makeJid()');
    this.local = local;
    this.domain = domain;
    this.resource = resource;
  }

  get bare(): string {
    if (this.#bare === undefined) this.#bare = this.local === '' ? this.domain : this.local + '@' + this.domain;
    return this.#bare;
  }

  get full(): string {
    if (this.#full === undefined) this.#full = this.resource === '' ? this.bare : this.bare + '/' + this.resource;
    return this.#full;
  }

  bareJid(): Jid {
    if (this.resource === '') return this;
    if (this.#bareJid === undefined) this.#bareJid = new Jid(PREPARED, this.local, this.domain, '');
    return this.#bareJid;
  }

  withResource(resource: string): Jid {
    return new Jid(PREPARED, this.local, this.domain, prepResource(resource));
  }

  isBare(): boolean {
    return this.resource === '';
  }

  equals(other: Jid): boolean {
    return this === other || (this.domain === other.domain && this.local === other.local && this.resource === other.resource);
  }

  toString(): string {
    return this.full;
  }
}

function checkLength(s: string, part: string): string {
  // A string of n UTF-16 units is at most 3n UTF-8 octets, so the byte count is only needed near the limit.
  if (s.length * 3 > MAX_OCTETS && Buffer.byteLength(s, 'utf8') > MAX_OCTETS) {
    throw new JidError(`${part} is longer than ${MAX_OCTETS} octets`);
  }
  return s;
}

/**
 * Printable ASCII localparts, the common case: lowercasing is the whole of UsernameCaseMapped for them.
 * Returns null to take the full PRECIS path (which also produces the error message).
 */
function asciiLocalpart(s: string): string | null {
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d || c === 0x5f) continue;
    if (c >= 0x41 && c <= 0x5a) upper = true;
    else if (c < 0x21 || c > 0x7e || isExcludedFromLocalpart(c)) return null;
  }
  return upper ? s.toLowerCase() : s;
}

/** RFC 7622 §3.3.1: characters that UsernameCaseMapped allows but a localpart must not contain. */
function isExcludedFromLocalpart(c: number): boolean {
  // " & ' / : < > @
  return c === 0x22 || c === 0x26 || c === 0x27 || c === 0x2f || c === 0x3a || c === 0x3c || c === 0x3e || c === 0x40;
}

/** Prepares a localpart: PRECIS UsernameCaseMapped (RFC 8265 §3.3) plus the RFC 7622 §3.3.1 exclusions. Throws JidError. */
export function prepLocalpart(s: string): string {
  if (s === '') throw new JidError('localpart is empty');
  const fast = asciiLocalpart(s);
  if (fast !== null) return checkLength(fast, 'localpart');
  const out = usernameCaseMapped(s, 'localpart');
  for (let i = 0; i < out.length; i++) {
    const c = out.charCodeAt(i);
    if (c < 0x80 && isExcludedFromLocalpart(c)) throw new JidError(`localpart contains '${out[i]}', which RFC 7622 §3.3.1 forbids`);
  }
  return checkLength(out, 'localpart');
}

/** Prepares a resourcepart: PRECIS OpaqueString (RFC 8265 §4.2), as RFC 7622 §3.4 asks. Throws JidError. */
export function prepResource(s: string): string {
  if (s === '') throw new JidError('resourcepart is empty');
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      ascii = false;
      break;
    }
  }
  // Printable ASCII and U+0020 are all valid and unchanged by OpaqueString.
  return checkLength(ascii ? s : opaqueString(s, 'resourcepart'), 'resourcepart');
}

function prepDomainChecked(s: string): string {
  return checkLength(prepDomain(s), 'domainpart');
}

// Stanzas repeat the same few addresses; Jids are immutable, so parsed ones can be shared.
const parsed = new GenerationalCache<string, Jid>(2048);

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? text.slice(0, 80) + '…' : text);
}

/** Parses and prepares a JID string (RFC 7622 §3.1). Throws JidError saying what is wrong. */
export function parseJid(text: string): Jid {
  const hit = parsed.get(text);
  if (hit !== undefined) return hit;
  let jid: Jid;
  try {
    jid = parse(text);
  } catch (err) {
    if (err instanceof JidError) throw new JidError(`invalid JID ${quote(text)}: ${err.message}`);
    throw err;
  }
  parsed.set(text, jid);
  return jid;
}

function parse(text: string): Jid {
  // RFC 7622 §3.1 / §3.2: the first '/' starts the resourcepart (which may contain '/' and '@'),
  // then the first '@' before it ends the localpart.
  const slash = text.indexOf('/');
  const head = slash === -1 ? text : text.slice(0, slash);
  const at = head.indexOf('@');
  let resource = '';
  if (slash !== -1) {
    if (slash === text.length - 1) throw new JidError('resourcepart is empty');
    resource = prepResource(text.slice(slash + 1));
  }
  let local = '';
  if (at !== -1) {
    if (at === 0) throw new JidError('localpart is empty');
    local = prepLocalpart(head.slice(0, at));
  }
  const domainText = at === -1 ? head : head.slice(at + 1);
  if (domainText === '') throw new JidError('domainpart is empty');
  return new Jid(PREPARED, local, prepDomainChecked(domainText), resource);
}

/** Like parseJid, but returns null instead of throwing (and for undefined or null). */
export function tryParseJid(text: string | undefined | null): Jid | null {
  if (text === undefined || text === null) return null;
  try {
    return parseJid(text);
  } catch (err) {
    if (err instanceof JidError) return null;
    throw err;
  }
}

/** Builds a JID from separate parts, preparing each; '' for local or resource means absent. Throws JidError. */
export function makeJid(local: string, domain: string, resource?: string): Jid {
  return new Jid(
    PREPARED,
    local === '' ? '' : prepLocalpart(local),
    prepDomainChecked(domain),
    resource === undefined || resource === '' ? '' : prepResource(resource),
  );
}
