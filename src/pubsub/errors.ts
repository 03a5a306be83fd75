// XEP-0060 error conditions: an RFC 6120 stanza error plus, most of the time, a child in the
// 'http://jabber.org/protocol/pubsub#errors' namespace (§7.1.3, §6.1.3 and the rest), as one StanzaError.
import { StanzaError, STANZA_ERROR_TYPES, errorReply, type StanzaErrorCondition, type StanzaErrorType } from '../core/stanza.js';
import { Element, xml } from '../core/xml/element.js';

export const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors';

/** The pubsub#errors conditions of XEP-0060 §19 (schema of the #errors namespace). */
export type PubSubCondition =
  | 'closed-node'
  | 'configuration-required'
  | 'invalid-jid'
  | 'invalid-options'
  | 'invalid-payload'
  | 'invalid-subid'
  | 'item-forbidden'
  | 'item-required'
  | 'jid-required'
  | 'max-items-exceeded'
  | 'max-nodes-exceeded'
  | 'node-full'
  | 'nodeid-required'
  | 'not-in-roster-group'
  | 'not-subscribed'
  | 'payload-too-big'
  | 'payload-required'
  | 'pending-subscription'
  | 'precondition-not-met'
  | 'presence-subscription-required'
  | 'subid-required'
  | 'too-many-subscriptions'
  | 'unsupported'
  | 'unsupported-access-model';

/**
 * A pubsub error. Besides what StanzaError carries it can hold the character data of the RFC 6120 condition
 * element (the URI of <gone/> and <redirect/>, §6.1.3.11) and a payload to echo in the error reply (§8.8.2.4:
 * the entries that could not be changed).
 */
export class PubSubError extends StanzaError {
  constructor(
    condition: StanzaErrorCondition,
    readonly pubsubCondition?: PubSubCondition,
    options: { text?: string; type?: StanzaErrorType; feature?: string; conditionText?: string; payload?: Element } = {},
  ) {
    const app = pubsubCondition ? xml(pubsubCondition, { xmlns: NS_PUBSUB_ERRORS, feature: options.feature }) : undefined;
    super(condition, options.text, options.type ?? STANZA_ERROR_TYPES[condition], app);
    this.conditionText = options.conditionText;
    this.payload = options.payload;
  }
  readonly conditionText?: string;
  readonly payload?: Element;
}

export function pubsubError(
  condition: StanzaErrorCondition,
  pubsubCondition?: PubSubCondition,
  options?: { text?: string; type?: StanzaErrorType; feature?: string; conditionText?: string; payload?: Element },
): PubSubError {
  return new PubSubError(condition, pubsubCondition, options);
}

/** feature-not-implemented with <unsupported feature='…'/> (§19 of XEP-0060, "unsupported"). */
export function unsupported(feature: string, text?: string): PubSubError {
  return new PubSubError('feature-not-implemented', 'unsupported', { feature, text });
}

export function itemNotFound(text?: string): PubSubError {
  return new PubSubError('item-not-found', undefined, { text });
}

/**
 * The error reply to a request, with what PubSubError adds: the condition's URI (gone/redirect) and a payload
 * to put before <error/>.
 */
export function pubsubErrorReply(request: Element, err: StanzaError): Element {
  const reply = errorReply(request, err);
  if (!(err instanceof PubSubError)) return reply;
  const error = reply.getChild('error');
  if (error && err.conditionText !== undefined) error.getChild(err.condition)?.t(err.conditionText);
  if (err.payload && error) {
    reply.remove(error);
    reply.append(err.payload);
    reply.append(error);
  }
  return reply;
}

/**
 * A conditional write whose condition does not hold: the item is not at the revision the writer last saw (HTTP
 * If-Match), or exists when it should not (If-None-Match: *). The HTTP face answers 412; over XMPP it would be a
 * conflict with <precondition-not-met/>, like an unmet publish-options precondition (§7.1.5).
 */
export class RevisionMismatch extends PubSubError {
  constructor(text: string) {
    super('conflict', 'precondition-not-met', { text });
  }
}

/**
 * A publish that would take an account over its storage quota: <policy-violation/> with a <text/> that says the
 * limit (RFC 6120 §8.3.3.12; XEP-0060 has no condition of its own for it). The HTTP face answers 507.
 */
export class QuotaExceeded extends PubSubError {
  constructor(text: string) {
    super('policy-violation', undefined, { text });
  }
}
