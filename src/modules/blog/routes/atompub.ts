// The Atom Publishing Protocol (RFC 5023) for a blog, below its path:
//   GET    atompub                   the service document (§8): one workspace, one collection of entries
//   GET    atompub/entries?page=N    the collection (§10): the stored entries, newest first, each with its edit link
//   POST   atompub/entries           a new member (§9.2): 201 with Location, Content-Location, ETag and the entry as
//                                    stored (normalized); the Slug header (§9.7) proposes the ItemID
//   GET    atompub/entries/{item}    a member (§9.1), ETag = its revision, 304 on If-None-Match
//   PUT    atompub/entries/{item}    replace it (§9.3; If-Match makes it conditional, 412 when stale); a member that
//                                    does not exist yet is created under that id (201), which makes imports idempotent
//   DELETE atompub/entries/{item}    retract it (§9.4), 204
// Entries only: media resources (§9.6) are refused with 415. Every request is authenticated (writerOf).
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Element, serialize } from '../../../core/xml/element.js';
import { HttpError } from '../../../http/errors.js';
import { NS_ATOM } from '../../../publishing/post.js';
import type { Item } from '../../../pubsub/index.js';
import { etagOf, notModified, writeCondition } from '../../storage/conditions.js';
import { parseXmlPayload } from '../../storage/payloads.js';
import type { BlogContext } from '../context.js';
import { withSecurityHeaders } from '../respond.js';
import { blogUrls, segment, type BlogRef } from '../urls.js';
import { engine, publishEntry, slugOf, writerOf, type Writer } from './writer.js';

const NS_APP = 'http://www.w3.org/2007/app';
export const ENTRY_MEDIA_TYPE = 'application/atom+xml;type=entry';
const ENTRY_TYPE = `${ENTRY_MEDIA_TYPE};charset=utf-8`;
const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

function memberUrl(ctx: BlogContext, request: FastifyRequest, ref: BlogRef, id: string): string {
  return `${blogUrls(ctx.http.baseUrl(request), ref).atompubCollection}/${segment(id)}`;
}

/** The entry as a member: its edit link (§9.1) is the server's, whatever the stored entry says. */
function asMember(payload: Element, editUrl: string): Element {
  const entry = payload.clone();
  for (const link of entry.getChildren('link', NS_ATOM)) if (link.attrs.rel === 'edit') entry.remove(link);
  const prefixed = entry.name.includes(':');
  entry.append(new Element('link', { ...(prefixed ? { xmlns: NS_ATOM } : {}), rel: 'edit', href: editUrl }, [], NS_ATOM));
  return entry;
}

/** The entry a client sent: an Atom entry document (§9.2), its edit links dropped (they are the server's). */
function entryOf(ctx: BlogContext, request: FastifyRequest): Element {
  const type = request.headers['content-type'] ?? '';
  if (!/^application\/atom\+xml\b/i.test(type)) throw new HttpError(415, 'unsupported-media-type', `send an Atom entry as ${ENTRY_MEDIA_TYPE}; this collection takes no media resources`);
  const entry = parseXmlPayload(typeof request.body === 'string' ? request.body : '', ctx.server.options.limits);
  if (entry.localName !== 'entry' || entry.ns !== NS_ATOM) throw new HttpError(400, 'bad-request', `the body must be an <entry xmlns="${NS_ATOM}"> (RFC 5023 §9.2)`);
  for (const link of entry.getChildren('link', NS_ATOM)) if (link.attrs.rel === 'edit') entry.remove(link);
  return entry;
}

async function readMember(w: Writer, id: string): Promise<Item> {
  const [found] = await engine(() => w.target.service.items(w.caller.jid, w.ref.node, { ids: [id] }));
  const item = found?.items[0];
  if (!item?.payload) throw new HttpError(404, 'item-not-found', `there is no entry "${id}" in this collection`);
  return item;
}

function sendMember(reply: FastifyReply, item: Item, editUrl: string, status: number): FastifyReply {
  return withSecurityHeaders(reply)
    .code(status)
    .header('ETag', etagOf(item.rev))
    .header('Vary', 'Authorization')
    .type(ENTRY_TYPE)
    .send(XML_DECLARATION + serialize(asMember(item.payload!, editUrl)));
}

export async function serviceDocument(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef): Promise<FastifyReply> {
  const w = await writerOf(ctx, request, ref, 'read');
  const urls = blogUrls(ctx.http.baseUrl(request), ref);
  const title = ref.kind === 'pep' ? `${w.target.address.bare}` : `${ref.service} ${ref.node}`;
  const doc = new Element('service', { xmlns: NS_APP, 'xmlns:atom': NS_ATOM }, [
    new Element('workspace', {}, [
      new Element('atom:title', {}, [title]),
      new Element('collection', { href: urls.atompubCollection }, [new Element('atom:title', {}, ['Posts']), new Element('accept', {}, [ENTRY_MEDIA_TYPE]), new Element('categories', { fixed: 'no' })]),
    ]),
  ]);
  return withSecurityHeaders(reply).header('Vary', 'Authorization').type('application/atomsvc+xml; charset=utf-8').send(XML_DECLARATION + doc.toString());
}

export async function collection(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef): Promise<FastifyReply> {
  const w = await writerOf(ctx, request, ref, 'read');
  const urls = blogUrls(ctx.http.baseUrl(request), ref);
  const page = Number((request.query as Record<string, string>).page ?? '1');
  if (!Number.isInteger(page) || page < 1) throw new HttpError(400, 'bad-request', 'page is a positive integer');
  const node = w.target.service.nodes.get(ref.node);
  const items: Item[] = [];
  if (node) {
    // The newest page first (§10: ordered by app:edited, which is the order items were last stored).
    let before = '';
    for (;;) {
      const [result] = await engine(() => w.target.service.items(w.caller.jid, ref.node, { page: { max: w.target.service.env.limits.maxPageSize, before } }));
      const found = result?.items ?? [];
      items.push(...[...found].reverse());
      if (!found.length || result?.page?.complete !== false || items.length >= page * ctx.options.page_size) break;
      before = found[0].id;
    }
  }
  const size = ctx.options.page_size;
  const shown = items.filter((i) => i.payload?.localName === 'entry').slice((page - 1) * size, page * size);
  const feed = new Element('feed', { xmlns: NS_ATOM }, [
    new Element('id', {}, [urls.atompubCollection]),
    new Element('title', {}, ['Posts']),
    new Element('updated', {}, [new Date(shown[0]?.when ?? Date.now()).toISOString()]),
    new Element('link', { rel: 'self', href: page > 1 ? `${urls.atompubCollection}?page=${page}` : urls.atompubCollection }),
  ]);
  if (items.length > page * size) feed.append(new Element('link', { rel: 'next', href: `${urls.atompubCollection}?page=${page + 1}` }));
  for (const item of shown) feed.append(asMember(item.payload!, memberUrl(ctx, request, ref, item.id)));
  return withSecurityHeaders(reply).header('Vary', 'Authorization').type('application/atom+xml;type=feed;charset=utf-8').send(XML_DECLARATION + feed.toString());
}

export async function createMember(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef): Promise<FastifyReply> {
  const w = await writerOf(ctx, request, ref);
  const entry = entryOf(ctx, request);
  const slugHeader = request.headers.slug;
  // §9.7.1: the Slug is percent-encoded UTF-8.
  let hint = typeof slugHeader === 'string' ? safeDecode(slugHeader) : '';
  if (!hint) hint = entry.getChildText('title', NS_ATOM) ?? '';
  const base = slugOf(hint) || randomBytes(8).toString('hex');
  // A taken id gets -2, -3…: POST never replaces a member (If-None-Match: * inside the engine's queue).
  for (let n = 1; n <= 50; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    try {
      const result = await publishEntry(ctx, w, id, entry, { ifNoneMatch: ['*'] });
      const url = memberUrl(ctx, request, ref, id);
      reply.header('Location', url).header('Content-Location', url);
      return sendMember(reply, result.item!, url, 201);
    } catch (err) {
      if ((err as HttpError).status !== 412) throw err;
    }
  }
  throw new HttpError(409, 'conflict', `every id from "${base}" to "${base}-50" is taken: send another Slug`);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export async function member(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef, id: string): Promise<FastifyReply> {
  const w = await writerOf(ctx, request, ref, request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write');
  const url = memberUrl(ctx, request, ref, id);
  if (request.method === 'GET' || request.method === 'HEAD') {
    const item = await readMember(w, id);
    if (notModified(request, item.rev)) return withSecurityHeaders(reply).code(304).header('ETag', etagOf(item.rev)).send();
    return sendMember(reply, item, url, 200);
  }
  if (request.method === 'DELETE') {
    await engine(() => w.target.service.retract(w.caller.jid!, ref.node, [id], undefined, writeCondition(request)));
    return withSecurityHeaders(reply).code(204).send();
  }
  if (request.method === 'PUT') {
    const entry = entryOf(ctx, request);
    const result = await publishEntry(ctx, w, id, entry, writeCondition(request));
    if (!result.replaced) reply.header('Location', url).header('Content-Location', url);
    return sendMember(reply, result.item!, url, result.replaced ? 200 : 201);
  }
  throw new HttpError(405, 'method-not-allowed', 'a member takes GET, PUT and DELETE', { Allow: 'GET, HEAD, PUT, DELETE' });
}

