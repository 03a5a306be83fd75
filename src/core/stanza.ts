// Stanza helpers: namespaces, replies and the errors of RFC 6120 §8.3.
import { Element, xml } from './xml/element.js';

export const NS = {
  client: 'jabber:client',
  server: 'jabber:server',
  streams: 'http://etherx.jabber.org/streams',
  streamErrors: 'urn:ietf:params:xml:ns:xmpp-streams',
  stanzaErrors: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  tls: 'urn:ietf:params:xml:ns:xmpp-tls',
  sasl: 'urn:ietf:params:xml:ns:xmpp-sasl',
  bind: 'urn:ietf:params:xml:ns:xmpp-bind',
  session: 'urn:ietf:params:xml:ns:xmpp-session',
  saslChannelBinding: 'urn:xmpp:sasl-cb:0',
} as const;

export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait';

/** RFC 6120 §8.3.3 conditions with the error type §8.3.3 gives each by default. */
export const STANZA_ERROR_TYPES = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const satisfies Record<string, StanzaErrorType>;

export type StanzaErrorCondition = keyof typeof STANZA_ERROR_TYPES;

export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version';

/** An error a handler can throw to have the stanza bounced with this condition. */
export class StanzaError extends Error {
  constructor(
    readonly condition: StanzaErrorCondition,
    text?: string,
    readonly type: StanzaErrorType = STANZA_ERROR_TYPES[condition],
    /** Extra application-specific condition element (e.g. <payload-too-big/> of XEP-0060). */
    readonly appCondition?: Element,
  ) {
    super(text ?? condition);
  }
  get text(): string | undefined {
    return this.message === this.condition ? undefined : this.message;
  }
}

export function errorElement(condition: StanzaErrorCondition, text?: string, type: StanzaErrorType = STANZA_ERROR_TYPES[condition], appCondition?: Element, by?: string): Element {
  return xml(
    'error',
    { type, by },
    xml(condition, { xmlns: NS.stanzaErrors }),
    text ? xml('text', { xmlns: NS.stanzaErrors, 'xml:lang': 'en' }, text) : null,
    appCondition ?? null,
  );
}

/**
 * The error reply to a stanza (RFC 6120 §8.3.1): addresses swapped, type "error",
 * and for IQs the original payload left out except when it helps the sender (we keep it out).
 */
export function errorReply(stanza: Element, condition: StanzaErrorCondition | StanzaError, text?: string): Element {
  const err = typeof condition === 'string' ? new StanzaError(condition, text) : condition;
  const reply = new Element(stanza.name, { type: 'error' }, [], stanza.ns);
  if (stanza.attrs.id !== undefined) reply.attrs.id = stanza.attrs.id;
  if (stanza.attrs.from !== undefined) reply.attrs.to = stanza.attrs.from;
  if (stanza.attrs.to !== undefined) reply.attrs.from = stanza.attrs.to;
  // RFC 6120 §8.3.1: a message or presence error MAY include the original content; bodies help clients show what failed.
  if (stanza.name !== 'iq') for (const child of stanza.children) if (typeof child !== 'string' && child.name !== 'error') reply.append(child.clone());
  reply.append(errorElement(err.condition, err.text, err.type, err.appCondition));
  return reply;
}

/** An IQ result (RFC 6120 §8.2.3) addressed back to the requester. */
export function iqResult(request: Element, payload?: Element | null): Element {
  const reply = new Element('iq', { type: 'result', id: request.attrs.id ?? '' }, [], request.ns);
  if (request.attrs.from !== undefined) reply.attrs.to = request.attrs.from;
  if (request.attrs.to !== undefined) reply.attrs.from = request.attrs.to;
  if (payload) reply.append(payload);
  return reply;
}

/** True when a stanza must never be answered with an error (RFC 6120 §8.3.1: no error replies to errors). */
export function isErrorStanza(stanza: Element): boolean {
  return stanza.attrs.type === 'error';
}

export function streamErrorElement(condition: StreamErrorCondition, text?: string): Element {
  return xml(
    'stream:error',
    {},
    xml(condition, { xmlns: NS.streamErrors }),
    text ? xml('text', { xmlns: NS.streamErrors, 'xml:lang': 'en' }, text) : null,
  );
}
