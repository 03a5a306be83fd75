// Micropub (W3C Recommendation, 2017) for a blog, below its path:
//   POST micropub   create an h-entry, form-encoded (h=entry&content=…&name=…&category[]=…&published=…&mp-slug=…)
//                   or JSON ({"type":["h-entry"],"properties":{…}}, content as text or {"html": …}); 201 Created with
//                   Location = the post's page
//                   action=delete (form or JSON) with the post's url: retracts it (and its comments node), 204
//                   action=update (JSON) with url and replace / add / delete: republishes the post with the changed
//                   properties (its Atom id, published date, links and the rest kept), 204
//   GET  micropub?q=config | q=syndicate-to | q=category | q=source&url=…[&properties[]=…]
// Undelete and the media endpoint are not offered: 400 invalid_request says so. Errors are Micropub's JSON
// ({"error", "error_description"}). Authentication is the app token (Authorization: Bearer, or
// access_token in a form body) or the account's password, as for AtomPub; the token's write scope must cover the
// blog's node.
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Element } from '../../../core/xml/element.js';
import { HttpError } from '../../../http/errors.js';
import { isRfc3339 } from '../../../publishing/dates.js';
import { NS_ATOM } from '../../../publishing/post.js';
import { htmlToText } from '../../../publishing/text.js';
import { readEntry } from '../../../publishing/atom-read.js';
import type { BlogContext } from '../context.js';
import { withSecurityHeaders } from '../respond.js';
import { RESERVED_SEGMENTS, blogPath, postPath, type BlogRef } from '../urls.js';
import { engine, publishEntry, slugOf, writerOf, type Writer } from './writer.js';

type Value = string | { html?: string; value?: string };
type Properties = Record<string, Value[]>;

/** What a request asks: a new h-entry (type and properties), or an action on the post at `url`. */
interface MicropubRequest {
  type: string;
  properties: Properties;
  action?: string;
  url?: string;
  /** §3.3 update operations (JSON only). */
  replace?: Properties;
  add?: Properties;
  remove?: string[] | Properties;
}

/**
 * The Atom elements an update rebuilds from the properties; the other elements of a post survive it as they are, but
 * `updated`, which the server stamps anew.
 */
const REBUILT = new Set(['title', 'content', 'summary', 'published', 'category', 'updated']);

function invalid(description: string): HttpError {
  return new HttpError(400, 'invalid_request', description);
}

/** Micropub §3.7.1 form-encoded: repeated keys and `key[]` are lists. */
function fromForm(body: string): MicropubRequest {
  const params = new URLSearchParams(body);
  const properties: Properties = {};
  let type = '';
  let action: string | undefined;
  for (const [rawKey, value] of params) {
    const key = rawKey.endsWith('[]') ? rawKey.slice(0, -2) : rawKey;
    if (key === 'h') type = value;
    else if (key === 'action') action = value;
    else if (key !== 'access_token') (properties[key] ??= []).push(value);
  }
  return { type, properties, action, url: action ? text(properties.url?.[0]) : undefined };
}

function propertiesOf(given: unknown, where: string): Properties {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw invalid(`${where} must be an object of arrays`);
  const properties: Properties = {};
  for (const [key, values] of Object.entries(given)) {
    if (!Array.isArray(values)) throw invalid(`${where}.${key} must be an array`);
    properties[key] = values.filter((v): v is Value => typeof v === 'string' || (typeof v === 'object' && v !== null && !Array.isArray(v)));
  }
  return properties;
}

/** Micropub §3.7.2 JSON: {"type": ["h-entry"], "properties": {"content": ["…"]}}, or an action (§3.3, §3.4). */
function fromJson(body: unknown): MicropubRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the JSON body must be an object with "type" and "properties"');
  const record = body as Record<string, unknown>;
  if (typeof record.action === 'string') {
    const remove = record.delete;
    return {
      type: '',
      properties: {},
      action: record.action,
      url: typeof record.url === 'string' ? record.url : undefined,
      replace: record.replace === undefined ? undefined : propertiesOf(record.replace, 'replace'),
      add: record.add === undefined ? undefined : propertiesOf(record.add, 'add'),
      remove: remove === undefined ? undefined : Array.isArray(remove) ? remove.filter((k): k is string => typeof k === 'string') : propertiesOf(remove, 'delete'),
    };
  }
  const types = Array.isArray(record.type) ? record.type : [];
  const type = typeof types[0] === 'string' ? types[0].replace(/^h-/, '') : '';
  const properties = record.properties === undefined ? {} : propertiesOf(record.properties, 'properties');
  return { type, properties };
}

function text(value: Value | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.value ?? (value.html !== undefined ? htmlToText(value.html) : undefined);
}

function atom(name: string, attrs: Record<string, string>, children: (Element | string)[] = []): Element {
  return new Element(name, attrs, children, NS_ATOM);
}

/** An h-entry as an Atom entry (XEP-0277 §publish): a note's text is its title, an article has a name and content. */
export function entryFromProperties(properties: Properties): Element {
  const content = properties.content?.[0];
  const name = text(properties.name?.[0])?.trim();
  const plain = text(content)?.trim() ?? '';
  if (!name && !plain) throw invalid('an entry needs content or a name');
  const entry = new Element('entry', { xmlns: NS_ATOM });
  entry.append(atom('title', { type: 'text' }, [name || plain]));
  if (content !== undefined && (name || typeof content !== 'string')) {
    const html = typeof content === 'object' ? content.html : undefined;
    entry.append(html !== undefined ? atom('content', { type: 'html' }, [html]) : atom('content', { type: 'text' }, [plain]));
  }
  const summary = text(properties.summary?.[0]);
  if (summary) entry.append(atom('summary', { type: 'text' }, [summary]));
  const published = text(properties.published?.[0]);
  if (published !== undefined) {
    if (!isRfc3339(published)) throw invalid(`published must be an RFC 3339 date-time such as 2024-05-08T18:30:02Z, not "${published}"`);
    entry.append(atom('published', {}, [published]));
  }
  for (const category of properties.category ?? []) {
    const term = text(category)?.trim();
    if (term) entry.append(atom('category', { term }));
  }
  return entry;
}

/** An entry's properties as Micropub names them (§3.8 q=source): a note is its text, an article a name and content. */
function propertiesOfEntry(entry: Element): Properties {
  const post = readEntry(entry).post;
  const properties: Properties = {};
  const content = post.contents.find((c) => c.value !== '' && (c.type === 'html' || c.type === 'xhtml')) ?? post.contents.find((c) => c.value !== '');
  if (content) {
    properties.name = [post.title.value];
    properties.content = [content.type === 'html' || content.type === 'xhtml' ? { html: content.value } : content.value];
  } else properties.content = [post.title.value];
  if (post.summary) properties.summary = [post.summary.value];
  if (post.published) properties.published = [post.published];
  if (post.categories.length) properties.category = post.categories.map((c) => c.term);
  return properties;
}

/** §3.3: replace, then add, then delete, each property as a whole or some of its values. */
function updated(properties: Properties, request: MicropubRequest): Properties {
  const out: Properties = { ...properties };
  for (const [key, values] of Object.entries(request.replace ?? {})) out[key] = values;
  for (const [key, values] of Object.entries(request.add ?? {})) out[key] = [...(out[key] ?? []), ...values];
  const remove = request.remove;
  if (Array.isArray(remove)) for (const key of remove) delete out[key];
  else if (remove) {
    for (const [key, values] of Object.entries(remove)) {
      const gone = new Set(values.map((v) => JSON.stringify(v)));
      out[key] = (out[key] ?? []).filter((v) => !gone.has(JSON.stringify(v)));
    }
  }
  return out;
}

/** The ItemID of a post of this blog from its URL (its page, at {blog}/{item} or {blog}/post/{item}). */
function itemOfUrl(ctx: BlogContext, request: FastifyRequest, ref: BlogRef, url: string | undefined): string {
  if (!url) throw invalid('an action needs the url of the post');
  let path: string;
  try {
    path = new URL(url, ctx.http.baseUrl(request)).pathname;
  } catch {
    throw invalid(`"${url}" is not a URL`);
  }
  const base = blogPath(ref);
  let rest = path.startsWith(base) ? path.slice(base.length) : '';
  if (rest.startsWith('post/')) rest = rest.slice('post/'.length);
  if (rest === '' || rest.includes('/') || (RESERVED_SEGMENTS.has(rest) && !path.slice(base.length).startsWith('post/'))) throw invalid(`${url} is not a post of this blog`);
  try {
    return decodeURIComponent(rest);
  } catch {
    throw invalid(`${url} is not a post of this blog`);
  }
}

/** The stored entry of a post and its revision, for an update or q=source; a missing one is the client's mistake (400). */
async function storedEntry(w: Writer, id: string): Promise<{ entry: Element; rev: string }> {
  const [found] = await engine(() => w.target.service.items(w.caller.jid, w.ref.node, { ids: [id] }));
  const item = found?.items[0];
  if (!item?.payload || item.payload.localName !== 'entry') throw invalid(`there is no post "${id}" in this blog`);
  return { entry: item.payload, rev: item.rev };
}

/**
 * §3.3 update: the entry rebuilt from its changed properties, keeping every other element of the stored one (and a
 * category's scheme and label while its term stays). Published only over the revision it was read from, so a change
 * made in between is not lost: the client is told to try again.
 */
async function update(ctx: BlogContext, w: Writer, id: string, request: MicropubRequest): Promise<void> {
  if (!request.replace && !request.add && !request.remove) throw invalid('an update needs replace, add or delete');
  const { entry: stored, rev } = await storedEntry(w, id);
  const entry = entryFromProperties(updated(propertiesOfEntry(stored), request));
  const categories = new Map(stored.getChildren('category', NS_ATOM).map((c) => [c.attrs.term, c]));
  for (const category of entry.getChildren('category', NS_ATOM)) {
    const before = categories.get(category.attrs.term);
    if (before) category.attrs = { ...before.attrs };
  }
  for (const child of stored.children) {
    if (typeof child !== 'string' && !REBUILT.has(child.localName)) entry.append(child.clone());
  }
  try {
    await publishEntry(ctx, w, id, entry, { ifMatch: [rev] });
  } catch (err) {
    if ((err as HttpError).status === 412) throw new HttpError(409, 'invalid_request', 'the post changed while it was being updated: read it and update it again');
    throw err;
  }
}

function micropubError(reply: FastifyReply, err: HttpError): FastifyReply {
  const code = err.status === 401 ? 'unauthorized' : err.condition === 'insufficient-scope' ? 'insufficient_scope' : err.status === 403 ? 'forbidden' : 'invalid_request';
  return withSecurityHeaders(reply).code(err.status).headers(err.headers).type('application/json; charset=utf-8').send({ error: code, error_description: err.message });
}

/** Micropub §4.1: the token may come as access_token in a form body instead of the Authorization header. */
function tokenFromBody(request: FastifyRequest): void {
  if (request.headers.authorization || typeof request.body !== 'string' || !/^application\/x-www-form-urlencoded\b/i.test(request.headers['content-type'] ?? '')) return;
  const token = new URLSearchParams(request.body).get('access_token');
  if (token) request.headers.authorization = `Bearer ${token}`;
}

async function create(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef): Promise<FastifyReply> {
  tokenFromBody(request);
  const w = await writerOf(ctx, request, ref);
  const type = request.headers['content-type'] ?? '';
  const parsed = /^application\/x-www-form-urlencoded\b/i.test(type)
    ? fromForm(typeof request.body === 'string' ? request.body : '')
    : /^application\/json\b/i.test(type)
      ? fromJson(request.body)
      : null;
  if (!parsed) throw new HttpError(415, 'invalid_request', 'send application/x-www-form-urlencoded or application/json (no multipart: there is no media endpoint)');
  if (parsed.action === 'delete') {
    const id = itemOfUrl(ctx, request, ref, parsed.url);
    await engine(() => w.target.service.retract(w.caller.jid!, ref.node, [id], undefined));
    return withSecurityHeaders(reply).code(204).send();
  }
  if (parsed.action === 'update') {
    if (!/^application\/json\b/i.test(type)) throw invalid('send updates as JSON (Micropub §3.3)');
    await update(ctx, w, itemOfUrl(ctx, request, ref, parsed.url), parsed);
    return withSecurityHeaders(reply).code(204).send();
  }
  if (parsed.action) throw invalid(`action=${parsed.action} is not supported here (create, update and delete are)`);
  if (parsed.type !== 'entry') throw invalid(`only h-entry is supported, not h-${parsed.type || '(none)'}`);
  const entry = entryFromProperties(parsed.properties);
  const hint = text(parsed.properties['mp-slug']?.[0]) ?? text(parsed.properties.name?.[0]) ?? '';
  const base = slugOf(hint) || randomBytes(8).toString('hex');
  for (let n = 1; n <= 50; n++) {
    const id = n === 1 ? base : `${base}-${n}`;
    try {
      await publishEntry(ctx, w, id, entry, { ifNoneMatch: ['*'] });
      const url = ctx.http.baseUrl(request) + postPath(ref, id);
      return withSecurityHeaders(reply).code(201).header('Location', url).send();
    } catch (err) {
      if ((err as HttpError).status !== 412) throw err;
    }
  }
  throw invalid(`every id from "${base}" to "${base}-50" is taken: send another mp-slug`);
}

async function query(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef): Promise<FastifyReply> {
  const w = await writerOf(ctx, request, ref, 'read');
  const q = (request.query as Record<string, string>).q;
  let body: unknown;
  if (q === 'config') body = { 'syndicate-to': [], 'post-types': [{ type: 'note', name: 'Note' }, { type: 'article', name: 'Article' }] };
  else if (q === 'syndicate-to') body = { 'syndicate-to': [] };
  else if (q === 'source') {
    // §3.8: the post's properties, all of them or those asked for (then without its type).
    const raw = request.query as Record<string, string | string[] | undefined>;
    const properties = propertiesOfEntry((await storedEntry(w, itemOfUrl(ctx, request, ref, typeof raw.url === 'string' ? raw.url : undefined))).entry);
    const wanted = raw['properties[]'] ?? raw.properties;
    if (wanted === undefined) body = { type: ['h-entry'], properties };
    else body = { properties: Object.fromEntries((Array.isArray(wanted) ? wanted : [wanted]).filter((k) => properties[k]).map((k) => [k, properties[k]])) };
  }
  else if (q === 'category') {
    const source = await ctx.reader.source(ref);
    const terms = new Set<string>();
    if (source) for (const post of (await ctx.reader.snapshot(source)).posts) for (const c of post.categories) terms.add(c.term);
    body = { categories: [...terms].sort() };
  } else throw invalid(q === undefined ? 'ask with ?q=config' : `q=${q} is not supported (config, syndicate-to, category, source are)`);
  return withSecurityHeaders(reply).header('Vary', 'Authorization').type('application/json; charset=utf-8').send(body);
}

export async function micropub(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply, ref: BlogRef): Promise<FastifyReply> {
  try {
    if (request.method === 'POST') return await create(ctx, request, reply, ref);
    if (request.method === 'GET' || request.method === 'HEAD') return await query(ctx, request, reply, ref);
    throw new HttpError(405, 'invalid_request', 'the Micropub endpoint takes GET and POST', { Allow: 'GET, HEAD, POST' });
  } catch (err) {
    if (err instanceof HttpError) return micropubError(reply, err);
    throw err;
  }
}
