// The engine's XMPP errors as HTTP errors: the Storage API calls the same PubSubService operations as XMPP, so the
// same checks fail the same way, and only the rendering differs. The XEP-0060 condition stays in the text.
import { StanzaError } from '../../core/stanza.js';
import { HttpError } from '../../http/errors.js';
import { PubSubError, QuotaExceeded, RevisionMismatch } from '../../pubsub/index.js';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="Quire", charset="UTF-8", Bearer realm="Quire"' };

/** For an anonymous reader: whatever it may not read, it is told to authenticate, never whether it exists. */
export function signInRequired(): HttpError {
  return new HttpError(401, 'not-authorized', 'this needs an account (Basic) or an app token (Bearer), or there is nothing here', CHALLENGE);
}

function describe(err: StanzaError): string {
  const pubsub = err instanceof PubSubError ? err.pubsubCondition : undefined;
  const condition = pubsub ? `${err.condition} (${pubsub})` : err.condition;
  return err.text ? `${err.text} [${condition}]` : condition;
}

/** An error thrown while serving a request, as the HTTP error to answer; anything else is rethrown. */
export function toHttpError(err: unknown, anonymous: boolean): HttpError {
  if (err instanceof HttpError) return err;
  // Storage outages and bugs go to the HTTP stack's error handler (503 with Retry-After, or a logged 500).
  if (!(err instanceof StanzaError)) throw err;
  const text = describe(err);
  if (err instanceof RevisionMismatch) return new HttpError(412, 'precondition-failed', text);
  if (err instanceof QuotaExceeded) return new HttpError(507, 'quota-exceeded', err.text ?? text);
  const pubsub = err instanceof PubSubError ? err.pubsubCondition : undefined;
  switch (err.condition) {
    case 'item-not-found':
      return new HttpError(404, 'item-not-found', text);
    case 'forbidden':
    case 'not-authorized':
    case 'not-allowed':
    case 'registration-required':
    case 'subscription-required':
      return anonymous ? signInRequired() : new HttpError(403, 'forbidden', text);
    case 'conflict':
      return new HttpError(409, 'conflict', text);
    case 'not-acceptable':
      return pubsub === 'payload-too-big' ? new HttpError(413, 'payload-too-large', text) : new HttpError(400, 'bad-request', text);
    case 'bad-request':
    case 'jid-malformed':
      return new HttpError(400, 'bad-request', text);
    // Something this node's configuration does not allow (publishing to a collection, a node that keeps no items).
    case 'feature-not-implemented':
      return new HttpError(409, 'not-supported', text);
    case 'gone':
      return new HttpError(410, 'gone', text);
    case 'policy-violation':
      return new HttpError(403, 'policy-violation', text);
    case 'resource-constraint':
    case 'service-unavailable':
      return new HttpError(503, 'service-unavailable', text, { 'Retry-After': '5' });
    default:
      if (err.type === 'wait') return new HttpError(503, 'service-unavailable', text, { 'Retry-After': '5' });
      return new HttpError(500, 'internal-server-error', text);
  }
}
