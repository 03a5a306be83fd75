// What the server adds to an entry before it is stored and sent to subscribers (XEP-0277, XEP-0472):
// - the alternate links clients cannot compute (XEP-0277 §publish, XEP-0472 §receive: "these alternate links were
//   not posted by the original client because clients can't compute them themselves. These things SHOULD be
//   inserted at server side"): the xmpp: URI of the item, always, and the web page when the node is public;
// - the comments link (XEP-0277 §comments) to the comments node the server creates, unless the entry has one
//   (a repeat keeps the original's, XEP-0277 §repeat);
// - what RFC 4287 §4.1.2 requires and a client may leave to the server (XEP-0277 §publish notes that publishing
//   through the server "is simpler for the client"):
//   * id: kept from the version being replaced, else a tag: URI (RFC 4151) like XEP-0277's examples, built from
//     the service, the publication date, the node and the ItemID;
//   * updated: the server's clock;
//   * published: kept from the version being replaced, else the entry's updated when the client gave one (so
//     published never comes after updated), else the server's clock;
//   * author: the publisher, with the xmpp: URI of their bare JID (XEP-0277 §security compares it to the item's
//     publisher); an author the client gave is kept, since a repeat names the original author (XEP-0277 §repeat);
// - a text content beside an XHTML or HTML one that came alone (XEP-0277 §publish), for text-only clients.
// Everything else in the entry, extensions included, is kept as published.
import { Element } from '../core/xml/element.js';
import { EntryError, readEntry, type Fillable } from './atom-read.js';
import { linkElement, personElement } from './atom-build.js';
import { parseRfc3339, toRfc3339 } from './dates.js';
import { NODE_MICROBLOG, NS_ATOM, type Post } from './post.js';
import { htmlToText } from './text.js';
import { xmppItemUri, xmppJidUri, xmppNodeUri } from './xmpp-uri.js';

export interface NormalizeContext {
  /** The PubSub service: the account's bare JID for PEP, or the service's JID (XEP-0472 nodes). */
  service: string;
  node: string;
  itemId: string;
  /** The publishing account's bare JID, and the name to put in a missing author (default: its local part). */
  publisher: { jid: string; name?: string };
  now: Date;
  /** The web page of an item, when the node can be read anonymously (the caller's URL builder); undefined else. */
  webUrl?: (itemId: string) => string | undefined;
  /** The comments node of this post (XEP-0277 §comments); a replies link to it is added unless there is one. */
  comments?: { service: string; node: string };
  /** The stored version this publish replaces, whose id and published date stay. */
  previous?: Post;
}

export interface Normalized {
  entry: Element;
  post: Post;
  /** What was missing and got filled in. */
  filled: Fillable[];
  /** Whether a replies link to ctx.comments was added (so the server creates that node). */
  commentsLinkAdded: boolean;
  textContentAdded: boolean;
}

/** XEP-0277 §post_comments: "urn:xmpp:microblog:0:comments/ID", where ID is the microblog item ID. For other nodes
 *  (XEP-0472) the same pattern with the node's name. */
export function commentsNodeName(node: string, itemId: string): string {
  return `${node}:comments/${itemId}`;
}

/** Characters that may stand in a tag: URI's specific part as they are (RFC 4151 §2.1, RFC 3986 pchar). */
function pchar(value: string): string {
  return encodeURIComponent(value).replace(/%3A/g, ':').replace(/%40/g, '@');
}

/** RFC 4151 tag: URI for an entry: tag:romeo@montague.lit,2008-05-08:urn:xmpp:microblog:0/1cb57d9c */
export function entryTagUri(service: string, node: string, itemId: string, published: Date): string {
  const at = service.indexOf('@');
  const local = at > 0 ? service.slice(0, at) : '';
  const domain = at > 0 ? service.slice(at + 1) : service;
  // An emailAddress authority allows only these characters in its local part (RFC 4151 §2.1).
  const emailLike = local !== '' && /^[A-Za-z0-9._-]+$/.test(local);
  const authority = emailLike ? service : domain;
  const prefix = local && !emailLike ? pchar(local) + '/' : '';
  const date = toRfc3339(published).slice(0, 10);
  return `tag:${authority},${date}:${prefix}${node === NODE_MICROBLOG ? 'posts' : pchar(node)}/${pchar(itemId)}`;
}

function atom(name: string, text: string): Element {
  return new Element(name, {}, [text], NS_ATOM);
}

/** Normalizes a valid entry (check it with parseEntry() first); throws an EntryError on an invalid one. */
export function normalizeEntry(entry: Element, ctx: NormalizeContext): Normalized {
  const reading = readEntry(entry, ctx.itemId);
  if (reading.problems.length) throw new EntryError(reading.problems);
  const out = entry.clone();
  if (!out.attrs.xmlns && !out.name.includes(':')) out.attrs.xmlns = NS_ATOM;
  // An entry written with a prefix (<a:entry xmlns:a='…Atom'>) gets the elements added here with the Atom namespace
  // declared on each, since its default namespace may be another.
  const prefixed = out.name.includes(':');
  const add = (el: Element): void => {
    if (prefixed) el.attrs = { xmlns: NS_ATOM, ...el.attrs };
    out.append(el);
  };
  const filled: Fillable[] = [];
  const now = toRfc3339(ctx.now);
  const { post } = reading;

  let updated = post.updated;
  if (reading.missing.includes('updated')) {
    updated = now;
    add(atom('updated', updated));
    filled.push('updated');
  }
  let published = post.published;
  if (reading.missing.includes('published')) {
    published = ctx.previous?.published ?? (reading.missing.includes('updated') ? now : updated);
    add(atom('published', published));
    filled.push('published');
  }
  if (reading.missing.includes('id')) {
    const id = ctx.previous?.id || entryTagUri(ctx.service, ctx.node, ctx.itemId, parseRfc3339(published ?? now) ?? ctx.now);
    add(atom('id', id));
    filled.push('id');
  }
  if (reading.missing.includes('author')) {
    const jid = ctx.publisher.jid;
    const name = ctx.publisher.name || (jid.includes('@') ? jid.slice(0, jid.indexOf('@')) : jid);
    add(personElement('author', { name, uri: xmppJidUri(jid) }));
    filled.push('author');
  }

  // The alternate links are the server's: the client's guesses at them are replaced.
  const webUrl = ctx.webUrl?.(ctx.itemId);
  for (const link of out.getChildren('link', NS_ATOM)) {
    if ((link.attrs.rel ?? 'alternate') !== 'alternate') continue;
    const href = link.attrs.href ?? '';
    if (/^\s*xmpp:/i.test(href) || (webUrl && (link.attrs.type ?? '') === 'text/html' && !link.attrs.hreflang)) out.remove(link);
  }
  if (webUrl) add(linkElement({ rel: 'alternate', type: 'text/html', href: webUrl }));
  add(linkElement({ rel: 'alternate', href: xmppItemUri(ctx.service, ctx.node, ctx.itemId) }));

  let commentsLinkAdded = false;
  if (ctx.comments && !post.links.some((l) => l.rel === 'replies' && l.title === 'comments')) {
    add(linkElement({ rel: 'replies', title: 'comments', href: xmppNodeUri(ctx.comments.service, ctx.comments.node) }));
    commentsLinkAdded = true;
  }

  let textContentAdded = false;
  const rich = post.contents.find((c) => (c.type === 'xhtml' || c.type === 'html') && c.src === undefined);
  if (rich && !post.contents.some((c) => c.type === 'text')) {
    add(new Element('content', { type: 'text' }, [htmlToText(rich.value)], NS_ATOM));
    textContentAdded = true;
  }

  return { entry: out, post: readEntry(out, ctx.itemId).post, filled, commentsLinkAdded, textContentAdded };
}
