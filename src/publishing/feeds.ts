// A blog, or one of its tags, as Atom 1.0 (RFC 4287), RSS 2.0 and JSON Feed 1.1. Posts come newest first, as the
// caller pages them; their HTML is sanitized (sanitize.ts) with relative URLs resolved against each post's page.
// XML is built as Element trees, so every value is escaped by the serializer; JSON by JSON.stringify.
import { Element, escapeText } from '../core/xml/element.js';
import type { Blog } from './blog.js';
import { isAbsoluteIri } from './atom-read.js';
import { isRfc3339, parseRfc3339, timeOf, toRfc3339, toRfc822 } from './dates.js';
import { NS_ATOM, NS_THREAD, type Link, type Person, type Post } from './post.js';
import { contentToHtml, postHtml, textConstructToText } from './sanitize.js';

export const FEED_MEDIA_TYPES = { atom: 'application/atom+xml', rss: 'application/rss+xml', json: 'application/feed+json' } as const;

const NS_CONTENT = 'http://purl.org/rss/1.0/modules/content/';
const NS_DC = 'http://purl.org/dc/elements/1.1/';
const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>\n';

export interface FeedOptions {
  /** A tag's feed instead of the whole blog's. */
  tag?: string;
  /** The feed's date when it has no posts (default: now). */
  now?: Date;
}

interface Rendered {
  post: Post;
  url: string;
  /** The Atom id, or the page URL for a stored item that has none (published before Quire normalized entries). */
  id: string;
  /** RFC 3339 dates that are valid: updated falls back to published, then to the feed's date. */
  updated: string;
  published?: string;
  title: string;
  /** Sanitized HTML of the body: the best content, or the title as a paragraph for a post that is only a title. */
  html: string;
  /** Sanitized HTML of the summary, when there is one. */
  summaryHtml?: string;
  /** Links a reader can follow (http/https), besides the page itself. */
  links: Link[];
}

function isWebUrl(href: string): boolean {
  return /^https?:\/\//i.test(href);
}

function render(blog: Blog, post: Post, feedDate: string): Rendered {
  const url = blog.urls.post(post);
  const published = post.published && isRfc3339(post.published) ? post.published : undefined;
  const updated = isRfc3339(post.updated) ? post.updated : published ?? feedDate;
  const options = { baseUrl: url, siteOrigin: blog.origin };
  const title = textConstructToText(post.title).trim();
  const html = postHtml(post, options) || `<p>${escapeText(title)}</p>`;
  const summaryHtml = post.summary ? contentToHtml(post.summary, options) : undefined;
  const links = post.links.filter((l) => isWebUrl(l.href) && l.rel !== 'alternate' && l.rel !== 'replies' && l.rel !== 'self');
  return { post, url, id: isAbsoluteIri(post.id) ? post.id : url, updated, ...(published ? { published } : {}), title, html, summaryHtml, links };
}

function feedTitle(blog: Blog, tag: string | undefined): string {
  return tag === undefined ? blog.title : `${blog.title}: ${tag}`;
}

function feedUpdated(posts: readonly Post[], options: FeedOptions): string {
  let newest = '';
  for (const post of posts) {
    const date = timeOf(post.updated) ? post.updated : post.published;
    if (timeOf(date) > timeOf(newest)) newest = date!;
  }
  return newest ? toRfc3339(parseRfc3339(newest)!) : toRfc3339(options.now ?? new Date());
}

function el(name: string, attrs: Record<string, string | undefined> = {}, ...children: (Element | string | undefined)[]): Element {
  const clean: Record<string, string> = {};
  for (const key in attrs) if (attrs[key] !== undefined) clean[key] = attrs[key]!;
  const element = new Element(name, clean);
  for (const child of children) if (child !== undefined && child !== '') element.append(child);
  return element;
}

function atomPerson(name: 'author', person: Person): Element {
  return el(name, {}, el('name', {}, person.name), person.uri ? el('uri', {}, person.uri) : undefined, person.email ? el('email', {}, person.email) : undefined);
}

/** RFC 4287 §4.1.1 feed: id, title, updated, author, self and alternate links; entries with exactly one content. */
export function atomFeed(blog: Blog, posts: readonly Post[], options: FeedOptions = {}): string {
  const { tag } = options;
  const home = tag === undefined ? blog.urls.home : blog.urls.tag(tag);
  const feedDate = feedUpdated(posts, options);
  const feed = el('feed', { xmlns: NS_ATOM, 'xmlns:thr': NS_THREAD, 'xml:lang': blog.language, 'xml:base': home });
  feed.append(el('id', {}, tag === undefined ? blog.id : blog.urls.tag(tag)));
  feed.append(el('title', { type: 'text' }, feedTitle(blog, tag)));
  if (blog.subtitle) feed.append(el('subtitle', { type: 'text' }, blog.subtitle));
  feed.append(el('updated', {}, feedDate));
  // §4.1.1: a feed author makes every entry valid, including entries that name none.
  feed.append(atomPerson('author', blog.author));
  feed.append(el('link', { rel: 'self', type: FEED_MEDIA_TYPES.atom, href: blog.urls.feed('atom', tag) }));
  feed.append(el('link', { rel: 'alternate', type: 'text/html', href: home }));
  feed.append(el('generator', {}, 'Quire'));
  for (const post of posts) {
    const r = render(blog, post, feedDate);
    const entry = el('entry');
    if (post.lang && post.lang !== blog.language) entry.attrs['xml:lang'] = post.lang;
    entry.append(el('id', {}, r.id));
    entry.append(el('title', { type: 'text' }, r.title));
    entry.append(el('updated', {}, r.updated));
    if (r.published) entry.append(el('published', {}, r.published));
    for (const author of post.authors) entry.append(atomPerson('author', author));
    for (const category of post.categories) entry.append(el('category', { term: category.term, scheme: category.scheme, label: category.label }));
    entry.append(el('link', { rel: 'alternate', type: 'text/html', href: r.url }));
    for (const link of r.links) entry.append(el('link', { rel: link.rel, href: link.href, type: link.type, title: link.title, length: link.length?.toString() }));
    for (const reply of post.inReplyTo) entry.append(el('thr:in-reply-to', { ref: reply.ref, href: reply.href && isWebUrl(reply.href) ? reply.href : undefined, type: reply.type }));
    if (post.summary?.type === 'text') entry.append(el('summary', { type: 'text' }, post.summary.value));
    else if (r.summaryHtml) entry.append(el('summary', { type: 'html' }, r.summaryHtml));
    // §4.1.2: at most one content; XEP-0277's text + xhtml pair becomes the single best one, as HTML.
    entry.append(el('content', { type: 'html' }, r.html));
    feed.append(entry);
  }
  return XML_DECLARATION + feed.toString();
}

/** RSS 2.0 with atom:link rel=self, guid (isPermaLink only when the Atom id is the page URL), RFC 822 dates,
 *  categories, dc:creator (RSS's author wants an email address) and content:encoded with the full HTML. */
export function rssFeed(blog: Blog, posts: readonly Post[], options: FeedOptions = {}): string {
  const { tag } = options;
  const home = tag === undefined ? blog.urls.home : blog.urls.tag(tag);
  const feedDate = feedUpdated(posts, options);
  const channel = el('channel', {},
    el('title', {}, feedTitle(blog, tag)),
    el('link', {}, home),
    el('description', {}, blog.subtitle || feedTitle(blog, tag)),
    el('language', {}, blog.language),
    el('lastBuildDate', {}, toRfc822(parseRfc3339(feedDate)!)),
    el('generator', {}, 'Quire'),
    el('docs', {}, 'https://www.rssboard.org/rss-specification'),
    el('atom:link', { href: blog.urls.feed('rss', tag), rel: 'self', type: FEED_MEDIA_TYPES.rss }));
  for (const post of posts) {
    const r = render(blog, post, feedDate);
    const item = el('item', {}, el('title', {}, r.title), el('link', {}, r.url));
    item.append(el('guid', { isPermaLink: r.id === r.url ? 'true' : 'false' }, r.id));
    const date = parseRfc3339(r.published ?? r.updated);
    if (date) item.append(el('pubDate', {}, toRfc822(date)));
    for (const author of post.authors) item.append(el('dc:creator', {}, author.name));
    for (const category of post.categories) item.append(el('category', { domain: category.scheme }, category.label || category.term));
    item.append(el('description', {}, r.summaryHtml ?? r.html));
    item.append(el('content:encoded', {}, r.html));
    // RSS 2.0 allows one enclosure per item, with url, length and type.
    const enclosure = r.links.find((l) => l.rel === 'enclosure');
    if (enclosure) item.append(el('enclosure', { url: enclosure.href, length: String(enclosure.length ?? 0), type: enclosure.type ?? 'application/octet-stream' }));
    channel.append(item);
  }
  const rss = el('rss', { version: '2.0', 'xmlns:atom': NS_ATOM, 'xmlns:content': NS_CONTENT, 'xmlns:dc': NS_DC }, channel);
  return XML_DECLARATION + rss.toString();
}

interface JsonFeedAuthor {
  name: string;
  url?: string;
}

function jsonAuthor(person: Person): JsonFeedAuthor {
  return person.uri ? { name: person.name, url: person.uri } : { name: person.name };
}

/** JSON Feed 1.1 (https://www.jsonfeed.org/version/1.1/): content_html, summary, dates in RFC 3339, authors, tags,
 *  attachments for enclosures. */
export function jsonFeed(blog: Blog, posts: readonly Post[], options: FeedOptions = {}): string {
  const { tag } = options;
  const feedDate = feedUpdated(posts, options);
  const items = posts.map((post) => {
    const r = render(blog, post, feedDate);
    const item: Record<string, unknown> = { id: r.id, url: r.url, title: r.title, content_html: r.html };
    if (post.summary) item.summary = textConstructToText(post.summary);
    if (r.published) item.date_published = r.published;
    item.date_modified = r.updated;
    if (post.authors.length) item.authors = post.authors.map(jsonAuthor);
    if (post.categories.length) item.tags = post.categories.map((c) => c.term);
    if (post.lang) item.language = post.lang;
    const via = r.links.find((l) => l.rel === 'via');
    if (via) item.external_url = via.href;
    const attachments = r.links.filter((l) => l.rel === 'enclosure').map((l) => {
      const a: Record<string, unknown> = { url: l.href, mime_type: l.type ?? 'application/octet-stream' };
      if (l.title) a.title = l.title;
      if (l.length !== undefined) a.size_in_bytes = l.length;
      return a;
    });
    if (attachments.length) item.attachments = attachments;
    return item;
  });
  const feed: Record<string, unknown> = {
    version: 'https://jsonfeed.org/version/1.1',
    title: feedTitle(blog, tag),
    home_page_url: tag === undefined ? blog.urls.home : blog.urls.tag(tag),
    feed_url: blog.urls.feed('json', tag),
  };
  if (blog.subtitle) feed.description = blog.subtitle;
  feed.language = blog.language;
  feed.authors = [jsonAuthor(blog.author)];
  feed.items = items;
  return JSON.stringify(feed, null, 2);
}
