// How items, listings and revisions look over HTTP, in JSON and in XML (namespace urn:quire:storage:0). A payload
// that is a XEP-0335 JSON container appears as its JSON value under "json"; any other payload as its XML text under
// "xml" (in XML listings, as the element itself).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Element, xml } from '../../core/xml/element.js';
import { dateTime } from '../../pubsub/config.js';
import type { Item, PubSubNode, Revision } from '../../pubsub/index.js';
import { etagOf, notModified } from './conditions.js';
import { JSON_TYPE, XML_TYPE, negotiate } from './negotiate.js';
import { jsonOf, xmlOf } from './payloads.js';
import { NS_STORAGE } from './quota.js';

/** An item's or revision's facts, as listings show them. */
export interface ItemView {
  id: string;
  rev: string;
  when: number;
  publisher?: string;
  payload: Element | null;
}

/** Whether listings name publishers: as XMPP notifications do (§12.21 itemreply), and always to the node's owners. */
export function showsPublisher(node: PubSubNode, requester: string | undefined): boolean {
  return node.config.itemreply === 'publisher' || (requester !== undefined && node.affiliationOf(requester) === 'owner');
}

export function viewOf(item: Item | Revision, id: string, withPublisher: boolean): ItemView {
  return { id, rev: item.rev, when: item.when, publisher: withPublisher && item.publisher ? item.publisher : undefined, payload: item.payload };
}

export function itemJson(view: ItemView, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const out: Record<string, unknown> = { id: view.id, etag: etagOf(view.rev), published: dateTime(view.when) };
  if (view.publisher) out.publisher = view.publisher;
  Object.assign(out, extra);
  const json = jsonOf(view.payload);
  if (json !== undefined) out.json = json;
  else if (view.payload) out.xml = xmlOf(view.payload);
  return out;
}

export function itemXml(view: ItemView, name = 'item', extra: Record<string, string | undefined> = {}): Element {
  const el = xml(name, { id: view.id, etag: etagOf(view.rev), published: dateTime(view.when), publisher: view.publisher, ...extra });
  if (view.payload) el.append(view.payload.clone());
  return el;
}

/** Sends a document the client negotiated: JSON built lazily, or an XML element in the storage namespace. */
export function sendDocument(request: FastifyRequest, reply: FastifyReply, json: () => unknown, asXml: () => Element): FastifyReply {
  const type = negotiate(request, reply, [JSON_TYPE, XML_TYPE]);
  if (type === XML_TYPE) {
    const el = asXml();
    el.attrs.xmlns = NS_STORAGE;
    return reply.type('application/xml; charset=utf-8').send(el.toString());
  }
  return reply.type('application/json; charset=utf-8').send(JSON.stringify(json()));
}

/**
 * Sends one payload as its own document: a JSON container as JSON (or the container as XML when asked), any other
 * payload as XML. ETag and Last-Modified go with it; a matching If-None-Match gets 304.
 */
export function sendPayload(request: FastifyRequest, reply: FastifyReply, view: ItemView, authenticated: boolean): FastifyReply {
  reply.header('ETag', etagOf(view.rev));
  reply.header('Last-Modified', new Date(view.when).toUTCString());
  // Stored by anyone, used by nobody without asking again (the ETag makes asking cheap); never shared if personal.
  reply.header('Cache-Control', authenticated ? 'private, no-cache' : 'no-cache');
  const json = jsonOf(view.payload);
  const type = negotiate(request, reply, json !== undefined ? [JSON_TYPE, XML_TYPE] : [XML_TYPE]);
  if (notModified(request, view.rev)) return reply.code(304).send();
  if (!view.payload) return reply.code(204).send();
  if (type === JSON_TYPE) return reply.type('application/json; charset=utf-8').send(view.payload.text().trim());
  return reply.type('application/xml; charset=utf-8').send(xmlOf(view.payload));
}
