// Reading an existing blog's feed (Atom 1.0, RSS 2.0, and the RSS 0.9x/1.0 shapes that share its items) into posts
// that keep their ids (atom:id, RSS guid), dates and links, for `quire publish import`. Real feeds are not always
// XML that Quire's restricted parser accepts (DOCTYPEs, HTML entities without a DTD, stray markup), so htmlparser2
// reads them in its forgiving XML mode. Content stays HTML, with relative URLs resolved against the item (or
// xml:base, or the feed's URL); it is sanitized when shown, like every post.
import { createHash } from 'node:crypto';
import { parseDocument, DomUtils } from 'htmlparser2';
import { isAbsoluteIri } from './atom-read.js';
import { parseFeedDate, parseRfc3339, toRfc3339 } from './dates.js';
import { NS_ATOM, NS_THREAD, type Category, type Content, type Link, type Person, type Post, type TextConstruct } from './post.js';
import { htmlToText } from './text.js';

type DomDocument = ReturnType<typeof parseDocument>;
type DomNode = DomDocument['children'][number];
type DomElement = ReturnType<typeof DomUtils.getElementsByTagName>[number];

const NS_RSS_CONTENT = 'http://purl.org/rss/1.0/modules/content/';
const NS_DC = 'http://purl.org/dc/elements/1.1/';
const NS_RSS1 = 'http://purl.org/rss/1.0/';
const NS_XHTML = 'http://www.w3.org/1999/xhtml';

export class ImportError extends Error {
  readonly code = 'invalid-feed';
  constructor(message: string) {
    super(message);
    this.name = 'ImportError';
  }
}

export interface ImportedFeed {
  format: 'atom' | 'rss';
  title: string;
  /** The blog's web page, when the feed names it. */
  homeUrl?: string;
  /** In the feed's order. */
  posts: Post[];
  /** What had to be guessed, one sentence per item concerned. */
  warnings: string[];
}

export interface ImportOptions {
  /** Where the feed came from: relative URLs are resolved against it. */
  feedUrl?: string;
  /** The date given to items that have none, and to the feed's (default: now). */
  now?: Date;
}

// --- namespaces: htmlparser2 keeps prefixed names; the prefix is looked up in the xmlns attributes above. ---

function namespaceOf(el: DomElement): string {
  const colon = el.name.indexOf(':');
  const attr = colon < 0 ? 'xmlns' : `xmlns:${el.name.slice(0, colon)}`;
  for (let at: DomElement | null = el; at; at = at.parent && DomUtils.isTag(at.parent) ? at.parent : null) {
    const declared = at.attribs[attr];
    if (declared !== undefined) return declared;
  }
  return '';
}

function localName(el: DomElement): string {
  return el.name.slice(el.name.indexOf(':') + 1).toLowerCase();
}

function is(el: DomElement, local: string, ns?: string | readonly string[]): boolean {
  if (localName(el) !== local.toLowerCase()) return false;
  if (ns === undefined) return true;
  const actual = namespaceOf(el);
  return typeof ns === 'string' ? actual === ns : ns.includes(actual);
}

function children(el: DomElement, local: string, ns?: string | readonly string[]): DomElement[] {
  return el.children.filter((c): c is DomElement => DomUtils.isTag(c) && is(c, local, ns));
}

function child(el: DomElement, local: string, ns?: string | readonly string[]): DomElement | undefined {
  return children(el, local, ns)[0];
}

function textOf(el: DomElement | undefined): string {
  return el ? DomUtils.textContent(el) : '';
}

/** Text that may hold HTML entities the XML reader left alone (&eacute; without a DTD). */
function decodeEntities(text: string): string {
  if (!/&[A-Za-z][A-Za-z0-9]*;/.test(text)) return text;
  return DomUtils.textContent(parseDocument(text.replace(/</g, '&lt;'), { decodeEntities: true }));
}

/** RSS titles are text in principle and HTML in practice: tags go, entities are decoded. */
function rssText(text: string): string {
  return /[<&]/.test(text) ? htmlToText(text) : text.trim();
}

// --- URLs ---

function resolveUrl(value: string, base: string | undefined): string {
  const trimmed = value.trim();
  if (!base) return trimmed;
  try {
    return new URL(trimmed, base).href;
  } catch {
    return trimmed;
  }
}

/** The base URL in effect at an element: the feed's URL, changed by each xml:base on the way down (XML Base). */
function baseAt(el: DomElement, feedUrl: string | undefined): string | undefined {
  const bases: string[] = [];
  for (let at: DomElement | null = el; at; at = at.parent && DomUtils.isTag(at.parent) ? at.parent : null) {
    if (at.attribs['xml:base'] !== undefined) bases.unshift(at.attribs['xml:base']);
  }
  let base = feedUrl;
  for (const b of bases) base = base ? resolveUrl(b, base) : b;
  return base;
}

const URL_ATTRIBUTES: Record<string, string[]> = { a: ['href'], img: ['src'], source: ['src'], video: ['src', 'poster'], audio: ['src'], q: ['cite'], blockquote: ['cite'], del: ['cite'], ins: ['cite'] };

/** HTML with its relative URLs made absolute. */
export function resolveHtmlUrls(html: string, base: string | undefined): string {
  if (!base) return html;
  const document = parseDocument(html, { decodeEntities: true });
  for (const el of DomUtils.findAll(() => true, document.children)) {
    for (const attr of URL_ATTRIBUTES[el.name.toLowerCase()] ?? []) {
      const value = el.attribs[attr];
      // Values with a scheme stay as they are (the sanitizer judges them later); fragments stay on the page.
      if (value !== undefined && !/^\s*([a-z][a-z0-9+.-]*:|#)/i.test(value)) el.attribs[attr] = resolveUrl(value, base);
    }
  }
  return DomUtils.getOuterHTML(document.children, { encodeEntities: 'utf8' });
}

// --- ids ---

/** RFC 9562 §5.5 name-based UUID (SHA-1) in the URL namespace: a stable urn:uuid for items whose guid is not an
 *  IRI, or that have none. */
export function nameUuid(name: string, namespaceUuid = '6ba7b811-9dad-11d1-80b4-00c04fd430c8'): string {
  const namespace = Buffer.from(namespaceUuid.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(namespace).update(name, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `urn:uuid:${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A stable ItemID for an imported post: a slug of its title and a hash of its id, so importing the same feed
 *  again replaces the posts instead of doubling them. */
export function importItemId(post: Post): string {
  const title = post.title.type === 'text' ? post.title.value : htmlToText(post.title.value);
  const slug = title.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 48).replace(/-+$/, '');
  const hash = createHash('sha256').update(post.id).digest('hex').slice(0, 10);
  return slug ? `${slug}-${hash}` : hash;
}

// --- dates ---

/** A feed date as RFC 3339: kept as written when it already is (offset included), else converted to UTC. */
function dateOf(text: string): string | undefined {
  const trimmed = text.trim();
  if (parseRfc3339(trimmed)) return trimmed;
  const date = parseFeedDate(trimmed);
  return date ? toRfc3339(date) : undefined;
}

// --- Atom ---

function atomText(el: DomElement): TextConstruct {
  const type = (el.attribs.type ?? 'text').toLowerCase();
  if (type === 'xhtml') {
    const div = children(el, 'div')[0];
    return { type: 'xhtml', value: div ? DomUtils.getInnerHTML(div, { encodeEntities: 'utf8' }) : textOf(el) };
  }
  if (type === 'html' || type === 'text/html') return { type: 'html', value: textOf(el) };
  return { type: 'text', value: decodeEntities(textOf(el)) };
}

function atomPerson(el: DomElement): Person {
  const person: Person = { name: textOf(child(el, 'name', NS_ATOM)).trim() };
  const uri = textOf(child(el, 'uri', NS_ATOM)).trim();
  const email = textOf(child(el, 'email', NS_ATOM)).trim();
  if (uri) person.uri = uri;
  if (email) person.email = email;
  return person;
}

function atomEntry(entry: DomElement, feedAuthors: Person[], options: ImportOptions, fallbackDate: string, warnings: string[]): Post {
  const base = baseAt(entry, options.feedUrl);
  const links: Link[] = [];
  let page: string | undefined;
  for (const el of children(entry, 'link', NS_ATOM)) {
    if (!el.attribs.href) continue;
    const rel = el.attribs.rel || 'alternate';
    if (rel === 'self' || rel === 'edit' || rel === 'edit-media') continue;
    const href = resolveUrl(el.attribs.href, baseAt(el, options.feedUrl));
    // The original page becomes the post's source: the blog's own page is the alternate now.
    if (rel === 'alternate' && (!el.attribs.type || /html/i.test(el.attribs.type)) && page === undefined) {
      page = href;
      links.push({ rel: 'via', href, type: 'text/html' });
      continue;
    }
    const link: Link = { rel, href };
    if (el.attribs.type) link.type = el.attribs.type;
    if (el.attribs.title) link.title = el.attribs.title;
    if (el.attribs.hreflang) link.hreflang = el.attribs.hreflang;
    if (el.attribs.length && /^\d+$/.test(el.attribs.length)) link.length = Number(el.attribs.length);
    links.push(link);
  }
  const titleEl = child(entry, 'title', NS_ATOM);
  const title = titleEl ? atomText(titleEl) : { type: 'text' as const, value: '' };
  const contents: Content[] = [];
  const contentEl = child(entry, 'content', NS_ATOM);
  if (contentEl) {
    if (contentEl.attribs.src) contents.push({ type: contentEl.attribs.type ?? 'text/html', value: '', src: resolveUrl(contentEl.attribs.src, baseAt(contentEl, options.feedUrl)) });
    else {
      const text = atomText(contentEl);
      const contentBase = baseAt(contentEl, options.feedUrl) ?? page;
      contents.push(text.type === 'text' ? { type: 'text', value: text.value } : { type: 'html', value: resolveHtmlUrls(text.value, contentBase) });
    }
  }
  const summaryEl = child(entry, 'summary', NS_ATOM);
  let summary: TextConstruct | undefined;
  if (summaryEl) {
    const text = atomText(summaryEl);
    summary = text.type === 'text' ? text : { type: 'html', value: resolveHtmlUrls(text.value, baseAt(summaryEl, options.feedUrl) ?? page) };
  }
  const rawId = textOf(child(entry, 'id', NS_ATOM)).trim();
  let id = rawId;
  if (!isAbsoluteIri(id)) {
    id = page ?? nameUuid(`${options.feedUrl ?? ''}#${rawId || title.value}`);
    warnings.push(`"${title.value.slice(0, 60)}": its id ${rawId ? `'${rawId}' is not an IRI` : 'is missing'}; it is now ${id}`);
  }
  const updated = dateOf(textOf(child(entry, 'updated', NS_ATOM)));
  const published = dateOf(textOf(child(entry, 'published', NS_ATOM)));
  if (!updated && !published) warnings.push(`"${title.value.slice(0, 60)}": no date; it is dated ${fallbackDate}`);
  const authors = children(entry, 'author', NS_ATOM).map(atomPerson).filter((p) => p.name);
  const categories: Category[] = children(entry, 'category', NS_ATOM).filter((c) => c.attribs.term).map((c) => {
    const category: Category = { term: c.attribs.term };
    if (c.attribs.scheme) category.scheme = c.attribs.scheme;
    if (c.attribs.label) category.label = c.attribs.label;
    return category;
  });
  const post: Post = {
    id, title, contents, updated: updated ?? published ?? fallbackDate, published: published ?? updated ?? fallbackDate,
    authors: authors.length ? authors : feedAuthors, contributors: children(entry, 'contributor', NS_ATOM).map(atomPerson).filter((p) => p.name),
    categories, links,
    inReplyTo: children(entry, 'in-reply-to', NS_THREAD).filter((r) => r.attribs.ref).map((r) => ({ ref: r.attribs.ref, ...(r.attribs.href ? { href: resolveUrl(r.attribs.href, base) } : {}) })),
  };
  if (summary) post.summary = summary;
  if (entry.attribs['xml:lang']) post.lang = entry.attribs['xml:lang'];
  return post;
}

function readAtom(feed: DomElement, options: ImportOptions, now: string): ImportedFeed {
  const warnings: string[] = [];
  const feedAuthors = children(feed, 'author', NS_ATOM).map(atomPerson).filter((p) => p.name);
  const feedDate = dateOf(textOf(child(feed, 'updated', NS_ATOM))) ?? now;
  const home = children(feed, 'link', NS_ATOM).find((l) => (l.attribs.rel ?? 'alternate') === 'alternate' && l.attribs.href);
  const posts = children(feed, 'entry', NS_ATOM).map((entry) => atomEntry(entry, feedAuthors, options, feedDate, warnings));
  const titleEl = child(feed, 'title', NS_ATOM);
  const title = titleEl ? atomText(titleEl) : { type: 'text' as const, value: '' };
  return {
    format: 'atom',
    title: (title.type === 'text' ? title.value : htmlToText(title.value)).trim(),
    ...(home ? { homeUrl: resolveUrl(home.attribs.href, baseAt(home, options.feedUrl)) } : {}),
    posts, warnings,
  };
}

// --- RSS ---

const RSS_NS = ['', NS_RSS1];

/** RSS 2.0 author is "email (Name)"; dc:creator is a name. */
function rssAuthor(text: string): Person | undefined {
  const value = decodeEntities(text).trim();
  if (!value) return undefined;
  const m = /^(\S+@\S+)\s*\((.+)\)$/.exec(value);
  return m ? { name: m[2].trim(), email: m[1] } : { name: value };
}

function rssItem(item: DomElement, channelLink: string | undefined, options: ImportOptions, fallbackDate: string, warnings: string[]): Post {
  const rawLink = textOf(child(item, 'link', RSS_NS)).trim() || item.attribs['rdf:about'] || '';
  const link = rawLink ? resolveUrl(rawLink, options.feedUrl ?? channelLink) : undefined;
  const htmlBase = link ?? options.feedUrl ?? channelLink;
  const title = rssText(decodeEntities(textOf(child(item, 'title', RSS_NS))));
  const guidEl = child(item, 'guid', RSS_NS);
  const guid = textOf(guidEl).trim();
  let id: string;
  if (guid) {
    const permalink = (guidEl?.attribs.ispermalink ?? guidEl?.attribs.isPermaLink ?? 'true').toLowerCase() !== 'false';
    const candidate = permalink ? resolveUrl(guid, options.feedUrl ?? channelLink) : guid;
    id = isAbsoluteIri(candidate) ? candidate : nameUuid(`${channelLink ?? options.feedUrl ?? ''}#${guid}`);
  } else if (link) {
    id = link;
  } else {
    id = nameUuid(`${channelLink ?? options.feedUrl ?? ''}#${title}#${textOf(child(item, 'pubDate'))}`);
    warnings.push(`"${title.slice(0, 60)}": no guid and no link; its id is ${id}`);
  }
  const encoded = child(item, 'encoded', NS_RSS_CONTENT);
  const description = child(item, 'description', RSS_NS);
  const contents: Content[] = [];
  let summary: TextConstruct | undefined;
  if (encoded && textOf(encoded).trim()) {
    contents.push({ type: 'html', value: resolveHtmlUrls(textOf(encoded), htmlBase) });
    if (description && textOf(description).trim()) summary = { type: 'html', value: resolveHtmlUrls(textOf(description), htmlBase) };
  } else if (description && textOf(description).trim()) {
    contents.push({ type: 'html', value: resolveHtmlUrls(textOf(description), htmlBase) });
  }
  const date = dateOf(textOf(child(item, 'pubDate')) || textOf(child(item, 'date', NS_DC)));
  if (!date) warnings.push(`"${title.slice(0, 60)}": no date; it is dated ${fallbackDate}`);
  const authors: Person[] = [];
  for (const el of [...children(item, 'author'), ...children(item, 'creator', NS_DC)]) {
    const person = rssAuthor(textOf(el));
    if (person && !authors.some((a) => a.name === person.name)) authors.push(person);
  }
  const links: Link[] = link ? [{ rel: 'via', href: link, type: 'text/html' }] : [];
  for (const enclosure of children(item, 'enclosure')) {
    if (!enclosure.attribs.url) continue;
    const l: Link = { rel: 'enclosure', href: resolveUrl(enclosure.attribs.url, htmlBase) };
    if (enclosure.attribs.type) l.type = enclosure.attribs.type;
    if (enclosure.attribs.length && /^\d+$/.test(enclosure.attribs.length) && enclosure.attribs.length !== '0') l.length = Number(enclosure.attribs.length);
    links.push(l);
  }
  const categories: Category[] = [...children(item, 'category'), ...children(item, 'subject', NS_DC)]
    .map((c) => ({ term: decodeEntities(textOf(c)).trim(), ...(c.attribs.domain ? { scheme: c.attribs.domain } : {}) }))
    .filter((c) => c.term);
  const post: Post = {
    id, title: { type: 'text', value: title }, contents, published: date ?? fallbackDate, updated: date ?? fallbackDate,
    authors, contributors: [], categories, links, inReplyTo: [],
  };
  if (summary) post.summary = summary;
  return post;
}

function readRss(root: DomElement, document: DomDocument, options: ImportOptions, now: string): ImportedFeed {
  const warnings: string[] = [];
  const channel = DomUtils.findOne((el) => is(el, 'channel'), [root]);
  const channelLink = channel ? textOf(child(channel, 'link', RSS_NS)).trim() || undefined : undefined;
  const homeUrl = channelLink ? resolveUrl(channelLink, options.feedUrl) : undefined;
  const feedDate = channel ? dateOf(textOf(child(channel, 'lastBuildDate')) || textOf(child(channel, 'pubDate')) || textOf(child(channel, 'date', NS_DC))) ?? now : now;
  // RSS 2.0 puts items in the channel, RSS 1.0 beside it: both are found wherever they are.
  const items = DomUtils.findAll((el) => is(el, 'item', RSS_NS), document.children);
  const posts = items.map((item) => rssItem(item, homeUrl, options, feedDate, warnings));
  return {
    format: 'rss',
    title: channel ? rssText(decodeEntities(textOf(child(channel, 'title', RSS_NS)))) : '',
    ...(homeUrl ? { homeUrl } : {}),
    posts, warnings,
  };
}

/** Reads a feed's text. Throws an ImportError when it is neither Atom nor RSS. */
export function parseFeedForImport(text: string, options: ImportOptions = {}): ImportedFeed {
  const now = toRfc3339(options.now ?? new Date());
  const document = parseDocument(text.replace(/^\uFEFF/, ''), { xmlMode: true, decodeEntities: true });
  const root = document.children.find((c: DomNode): c is DomElement => DomUtils.isTag(c));
  if (!root) throw new ImportError('the file holds no XML element: is it a feed?');
  if (is(root, 'feed', [NS_ATOM, ''])) return readAtom(root, options, now);
  if (is(root, 'rss') || is(root, 'rdf')) return readRss(root, document, options, now);
  if (is(root, 'html', ['', NS_XHTML])) throw new ImportError('this is an HTML page, not a feed: give the address of its Atom or RSS feed (the page names it in <link rel="alternate">)');
  throw new ImportError(`<${root.name}> is neither an Atom <feed> nor an RSS <rss>`);
}
