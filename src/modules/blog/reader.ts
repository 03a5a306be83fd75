// Reading a blog out of its node, as an anonymous reader: only a node whose access model lets anyone retrieve its
// items is a blog on the web; any other, and an account or node that does not exist, is "no blog here" (404 for the
// routes, so nothing leaks). A node's posts are read once and kept until the node changes (the engine's changed
// hook drops them), so pages, feeds and books of a busy blog do not read every item per request.
import { tryParseJid } from '../../core/jid/index.js';
import type { Server } from '../../core/server.js';
import type { Element } from '../../core/xml/element.js';
import type { NodeChange, PubSubNode, PubSubService } from '../../pubsub/index.js';
import type { Blog } from '../../publishing/blog.js';
import { readEntry } from '../../publishing/atom-read.js';
import { NODE_MICROBLOG, NS_ATOM, type Post } from '../../publishing/post.js';
import { METADATA_ITEM_ID, SOCIAL_FEED_TYPES, isCommentsNode } from '../../publishing/prepare.js';
import { parseXmppUri, xmppNodeUri } from '../../publishing/xmpp-uri.js';
import type { Comment } from '../../publishing/pages/pages.js';
import { pepService } from '../pep/index.js';
import { pubsubService } from '../pubsub/index.js';
import { blogUrls, type BlogRef } from './urls.js';

export interface BlogSource {
  ref: BlogRef;
  service: PubSubService;
  node: PubSubNode;
  /** The served host (its site URL). */
  host: string;
}

export interface Snapshot {
  /** Posts, newest first by publication date. */
  posts: Post[];
  /** XEP-0277 §metadata: the Atom <feed/> of item "0", when there is one. */
  metadata: Element | null;
}

/** Items read at most from one node for its pages and feeds. */
const MAX_ITEMS = 10_000;
/** Blogs whose posts stay in memory, the least recently read going first. */
const MAX_CACHED = 200;

async function readAll(service: PubSubService, node: string, requester: null): Promise<{ id: string; payload: Element | null; publisher?: string }[]> {
  const out: { id: string; payload: Element | null; publisher?: string }[] = [];
  let after: string | undefined;
  for (;;) {
    const [result] = await service.items(requester, node, { page: after === undefined ? { max: service.env.limits.maxPageSize } : { max: service.env.limits.maxPageSize, after } });
    const items = result?.items ?? [];
    for (const item of items) out.push({ id: item.id, payload: item.payload, publisher: item.publisher ?? undefined });
    if (!items.length || result?.page?.complete !== false || out.length >= MAX_ITEMS) return out;
    after = items[items.length - 1].id;
  }
}

function dateOf(post: Post): number {
  const t = Date.parse(post.published ?? post.updated);
  return Number.isNaN(t) ? 0 : t;
}

export class BlogReader {
  private cache = new Map<string, Promise<Snapshot>>();

  constructor(private readonly server: Server) {}

  /** The engine's changed hook: a changed node's posts are read again next time. */
  changed(service: PubSubService, change: NodeChange): void {
    this.cache.delete(`${service.address}\n${change.node}`);
  }

  /** The blog a path's first segments name, or null when there is none to show anonymously. */
  async source(ref: BlogRef): Promise<BlogSource | null> {
    let service: PubSubService | undefined;
    let host: string;
    if (ref.kind === 'pep') {
      const jid = tryParseJid(ref.jid);
      if (!jid || jid.local === '' || jid.resource !== '' || !this.server.hosts.has(jid.domain)) return null;
      if (!(await this.server.accounts.exists(jid.domain, jid.local))) return null;
      service = await pepService(this.server, jid.domain, jid.local);
      host = jid.domain;
    } else {
      const component = this.server.components.get(ref.service);
      service = component ? await pubsubService(this.server, ref.service) : undefined;
      host = component?.parent?.name ?? ref.service;
    }
    const node = service?.nodes.get(ref.node);
    if (!service || !node || node.isCollection) return null;
    // A pubsub node is a blog when it is a social feed (XEP-0472), and not a post's comments.
    if (ref.kind === 'pubsub' && (!SOCIAL_FEED_TYPES.has(node.config.type) || isCommentsNode(node.name))) return null;
    if ((await service.checkAccess(node, null, 'retrieve')) !== null) return null;
    return { ref, service, node, host };
  }

  snapshot(source: BlogSource): Promise<Snapshot> {
    const key = `${source.service.address}\n${source.node.name}`;
    let entry = this.cache.get(key);
    if (entry) {
      // Most recently used last (Map order), so the oldest key is the one to drop.
      this.cache.delete(key);
    } else {
      entry = this.read(source);
      entry.catch(() => this.cache.delete(key));
    }
    this.cache.set(key, entry);
    if (this.cache.size > MAX_CACHED) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private async read(source: BlogSource): Promise<Snapshot> {
    const items = await readAll(source.service, source.node.name, null);
    let metadata: Element | null = null;
    const posts: Post[] = [];
    for (const item of items) {
      const payload = item.payload;
      if (!payload || payload.ns !== NS_ATOM) continue;
      if (item.id === METADATA_ITEM_ID && payload.localName === 'feed') {
        metadata = payload;
        continue;
      }
      if (payload.localName !== 'entry') continue;
      posts.push(readEntry(payload, item.id).post);
    }
    // Publication date, newest first (imported posts are stored in the order of the import, not of their dates);
    // posts of the same second in the reverse of their storage order, the last stored first.
    posts.reverse().sort((a, b) => dateOf(b) - dateOf(a));
    return { posts, metadata };
  }

  /** The comments of a post: the items of the comments node its replies link names, when that node is a local,
   *  open node; oldest first. */
  async comments(post: Post): Promise<Comment[]> {
    const link = post.links.find((l) => l.rel === 'replies' && l.title === 'comments' && /^xmpp:/i.test(l.href));
    if (!link) return [];
    const uri = parseXmppUri(link.href);
    const nodeName = uri?.params.node;
    const service = nodeName && this.server.components.has(uri.jid) ? await pubsubService(this.server, uri.jid) : undefined;
    const node = nodeName ? service?.nodes.get(nodeName) : undefined;
    if (!service || !node || (await service.checkAccess(node, null, 'retrieve')) !== null) return [];
    const out: Comment[] = [];
    for (const item of await readAll(service, node.name, null)) {
      if (!item.payload || item.payload.ns !== NS_ATOM || item.payload.localName !== 'entry') continue;
      out.push({ post: readEntry(item.payload, item.id).post, publisher: item.publisher });
    }
    return out.sort((a, b) => dateOf(a.post) - dateOf(b.post));
  }
}

function feedText(feed: Element | null, name: string): string | undefined {
  const text = feed?.getChild(name, NS_ATOM)?.text().trim();
  return text || undefined;
}

/** The Blog the pages and feeds render: titles from XEP-0277's metadata item, else the node's configuration. */
export function blogOf(source: BlogSource, snapshot: Snapshot, base: string): Blog {
  const { ref, node } = source;
  const meta = snapshot.metadata;
  const account = ref.kind === 'pep' ? ref.jid : undefined;
  const local = account ? account.slice(0, account.indexOf('@')) : undefined;
  const authorName = meta?.getChild('author', NS_ATOM)?.getChildText('name', NS_ATOM)?.trim() || local || node.owners[0] || ref.node;
  const title = feedText(meta, 'title') || node.config.title || (ref.kind === 'pep' ? `${authorName}’s blog` : ref.node);
  const subtitle = feedText(meta, 'subtitle') || node.config.description || undefined;
  const urls = blogUrls(base, ref);
  return {
    id: xmppNodeUri(ref.kind === 'pep' ? ref.jid : ref.service, ref.kind === 'pep' ? NODE_MICROBLOG : ref.node),
    title,
    ...(subtitle ? { subtitle } : {}),
    language: node.config.language || 'en',
    author: { name: authorName, ...(account ? { jid: account, uri: `xmpp:${account}` } : {}) },
    urls,
    origin: base,
  };
}
