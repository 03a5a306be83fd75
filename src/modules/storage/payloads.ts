// Item payloads over HTTP. A body is either XML, the payload element as is (checked with Quire's restricted-XML
// parser, as a stanza from a client would be: one element, no DOCTYPE, processing instructions or comments, the
// server's depth and attribute limits), or JSON, stored as a XEP-0335 container <json xmlns='urn:xmpp:json:0'/>
// holding the JSON text, so XMPP clients see an ordinary payload. Going out, a JSON container becomes JSON again for
// clients that accept it.
import type { ServerLimits } from '../../core/server.js';
import { StreamParser } from '../../core/xml/parser.js';
import { Element, serialize, xml } from '../../core/xml/element.js';
import { HttpError } from '../../http/errors.js';
import { NS_PUBSUB } from '../../pubsub/index.js';

/** XEP-0335 JSON Containers. */
export const NS_JSON = 'urn:xmpp:json:0';

/** Media types of item bodies. */
export const XML_BODY = /^(?:application\/(?:[\w.+-]+\+)?xml|text\/xml)\b/i;
export const JSON_BODY = /^application\/(?:[\w.+-]+\+)?json\b/i;

const XML_DECLARATION = /^\uFEFF?\s*<\?xml\s[^?]*\?>/;
/** XML 1.0 §2.2: characters a document cannot hold (controls other than tab, LF and CR; U+FFFE, U+FFFF). */
const NOT_XML_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

function badBody(text: string): HttpError {
  return new HttpError(400, 'bad-request', text);
}

/**
 * The payload element of an XML body. `limits` are the server's stanza limits: an item's payload sits four levels
 * below a stanza (iq/pubsub/publish/item), so it may nest four levels less than a stanza.
 */
export function parseXmlPayload(body: string, limits: ServerLimits): Element {
  const declaration = XML_DECLARATION.exec(body);
  const encoding = declaration ? /encoding\s*=\s*["']([^"']+)["']/i.exec(declaration[0])?.[1] : undefined;
  if (encoding && encoding.toLowerCase() !== 'utf-8') throw new HttpError(415, 'unsupported-media-type', 'XML bodies are UTF-8');
  const text = (declaration ? body.slice(declaration[0].length) : body.replace(/^\uFEFF/, '')).trim();
  if (!text.startsWith('<') || !text.endsWith('>')) throw badBody('an XML body is one element, with nothing around it');
  const elements: Element[] = [];
  let failure: string | null = null;
  const parser = new StreamParser(
    {
      streamStart: () => {},
      stanza: (el) => elements.push(el),
      streamEnd: () => {},
      error: (_condition, message) => (failure ??= message),
    },
    { maxStanzaBytes: Buffer.byteLength(text) + 1, maxDepth: Math.max(1, limits.maxDepth - 4), maxAttributes: limits.maxAttributes },
  );
  parser.write(`<body>${text}</body>`);
  if (failure) throw badBody(`the XML body is not acceptable: ${failure}`);
  if (elements.length !== 1) throw badBody(`an XML body is exactly one element, not ${elements.length}`);
  const payload = elements[0];
  // XEP-0060 §19: a payload is in a namespace of its own.
  if (payload.ns === '') throw badBody('the payload element needs a namespace of its own (xmlns)');
  if (payload.ns === NS_PUBSUB) throw badBody('the payload element cannot be in the pubsub namespace');
  return payload;
}

/** A JSON body as a XEP-0335 container. */
export function parseJsonPayload(body: string): Element {
  const text = body.replace(/^\uFEFF/, '').trim();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw badBody(`the body is not JSON: ${(err as Error).message}`);
  }
  // XEP-0335 §4 holds JSON to RFC 4627, whose JSON text is an object or an array.
  if (value === null || typeof value !== 'object') throw badBody('a JSON body is an object or an array (XEP-0335, RFC 4627)');
  if (NOT_XML_CHARS.test(text)) throw badBody('the JSON holds characters that XML cannot carry (write them as \\u escapes)');
  return xml('json', { xmlns: NS_JSON }, text);
}

/** The payload of a request body, by its Content-Type. */
export function payloadOf(contentType: string | undefined, body: unknown, limits: ServerLimits): Element {
  if (typeof body !== 'string' || body.trim() === '') throw badBody('the request has no body: send the item as XML or JSON');
  if (contentType && JSON_BODY.test(contentType)) return parseJsonPayload(body);
  if (contentType && XML_BODY.test(contentType)) return parseXmlPayload(body, limits);
  throw new HttpError(415, 'unsupported-media-type', 'send the item as application/xml (the payload element) or application/json');
}

/** The JSON value of a XEP-0335 container, or undefined for any other payload (or a container with broken JSON). */
export function jsonOf(payload: Element | null): unknown {
  if (!payload || payload.localName !== 'json' || payload.ns !== NS_JSON) return undefined;
  try {
    return JSON.parse(payload.text());
  } catch {
    return undefined;
  }
}

/** The payload as an XML document of its own (its namespace declared on it). */
export function xmlOf(payload: Element): string {
  return serialize(payload);
}
