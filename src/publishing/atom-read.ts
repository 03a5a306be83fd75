// Reading an Atom entry (RFC 4287 §4.1.2) as XEP-0277 and XEP-0472 publish it into a typed Post, collecting what is
// wrong with it in words a client developer can act on. readEntry() never throws (pages render stored items with
// it); parseEntry() throws an EntryError when the entry breaks a rule, for the publish path, where the server
// answers <bad-request/> + <invalid-payload xmlns='http://jabber.org/protocol/pubsub#errors'/> with the text.
import type { Element } from '../core/xml/element.js';
import { isRfc3339 } from './dates.js';
import { NS_ATOM, NS_GEOLOC, NS_THREAD, NS_XHTML, type Category, type Content, type InReplyTo, type Link, type Person, type Post, type SeriesMembership, type TextConstruct } from './post.js';
import { SERIES_SCHEME, isSeriesId, positionAttribute } from './series.js';
import { deepText, xhtmlToHtml } from './xhtml.js';

/** The parts of an entry a client may leave out because the server fills them in (normalize.ts). */
export type Fillable = 'id' | 'updated' | 'published' | 'author';

export interface EntryReading {
  post: Post;
  /** Rules the entry breaks, one sentence each, with the section that states the rule. */
  problems: string[];
  /** What the client left out that normalizeEntry() fills in. */
  missing: Fillable[];
  /** XEP-0277 §publish: "If Romeo publishes XHTML content, his client MUST publish two content elements: a text
   *  one, and a XHTML one." True when an XHTML content came alone. */
  xhtmlWithoutText: boolean;
}

export class EntryError extends Error {
  readonly code = 'invalid-entry';
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('; '));
    this.name = 'EntryError';
    this.problems = problems;
  }
}

export interface ParseOptions {
  itemId?: string;
  /** Enforce XEP-0277's text-beside-XHTML rule (default true: XMPP clients must follow it). The HTTP side passes
   *  false and lets normalizeEntry() add the text content. */
  requireTextWithXhtml?: boolean;
  /** Treat a missing id, updated or author as errors instead of leaving them to normalizeEntry() (default false). */
  requireComplete?: boolean;
}

// RFC 3987 IRI, checked as far as matters here: a scheme, then no whitespace or characters IRIs exclude.
const ABSOLUTE_IRI = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/;

export function isAbsoluteIri(value: string): boolean {
  return ABSOLUTE_IRI.test(value);
}

function atomChildren(entry: Element, name: string): Element[] {
  return entry.getChildren(name, NS_ATOM);
}

/** An attribute in a namespace, under whatever prefix the document bound to it. */
function nsAttr(el: Element, ns: string, local: string): string | undefined {
  for (const key in el.attrs) {
    const colon = key.indexOf(':');
    if (colon <= 0 || key.slice(colon + 1) !== local) continue;
    const prefix = key.slice(0, colon);
    if (prefix === 'xmlns') continue;
    for (let at: Element | null = el; at; at = at.parent) {
      const declared = at.attrs['xmlns:' + prefix];
      if (declared !== undefined) {
        if (declared === ns) return el.attrs[key];
        break;
      }
    }
  }
  return undefined;
}

function the(name: string): string {
  return `<${name}/>`;
}

/** RFC 4287 §3.1: a Text construct; xhtml holds one XHTML div (§3.1.1.3) whose children are the text. */
function readText(el: Element, name: string, problems: string[]): TextConstruct {
  const type = el.attrs.type ?? 'text';
  if (type === 'xhtml') {
    const div = el.elements().find((c) => c.ns === NS_XHTML && c.localName === 'div');
    if (!div || el.elements().length !== 1) {
      problems.push(`<${name} type='xhtml'> must hold exactly one <div xmlns='${NS_XHTML}'/> (RFC 4287 §3.1.1.3)`);
      return { type: 'text', value: deepText(el).trim() };
    }
    return { type: 'xhtml', value: xhtmlToHtml(div.children) };
  }
  if (type === 'html') return { type: 'html', value: el.text() };
  if (type !== 'text') problems.push(`<${name}> has type '${type}': a text construct is text, html or xhtml (RFC 4287 §3.1.1)`);
  return { type: 'text', value: deepText(el) };
}

/** RFC 4287 §3.2: exactly one name, at most one uri and one email. */
function readPerson(el: Element, problems: string[]): Person {
  const kind = el.localName;
  const names = atomChildren(el, 'name');
  if (names.length !== 1) problems.push(`<${kind}/> needs exactly one <name/> (RFC 4287 §3.2.1), found ${names.length}`);
  const person: Person = { name: names[0]?.text().trim() ?? '' };
  const uris = atomChildren(el, 'uri');
  if (uris.length > 1) problems.push(`<${kind}/> has ${uris.length} <uri/> elements: at most one (RFC 4287 §3.2.2)`);
  const uri = uris[0]?.text().trim();
  if (uri) {
    if (!isAbsoluteIri(uri)) problems.push(`<${kind}><uri>${uri}</uri> is not an absolute IRI such as xmpp:romeo@montague.lit (RFC 4287 §3.2.2)`);
    person.uri = uri;
  }
  const emails = atomChildren(el, 'email');
  if (emails.length > 1) problems.push(`<${kind}/> has ${emails.length} <email/> elements: at most one (RFC 4287 §3.2.3)`);
  const email = emails[0]?.text().trim();
  if (email) person.email = email;
  return person;
}

function readSeries(el: Element, problems: string[]): SeriesMembership | undefined {
  const id = el.attrs.term ?? '';
  if (!isSeriesId(id)) {
    problems.push(`the series category's term '${id}' must be one path segment of letters, digits, '-', '_' or '.' (Quire series, scheme ${SERIES_SCHEME})`);
    return undefined;
  }
  const series: SeriesMembership = { id };
  if (el.attrs.label) series.title = el.attrs.label;
  const position = positionAttribute(el);
  if (position !== undefined) {
    if (/^[1-9]\d{0,8}$/.test(position)) series.position = Number(position);
    else problems.push(`the series position '${position}' must be a whole number from 1 (Quire series, scheme ${SERIES_SCHEME})`);
  }
  return series;
}

function readLink(el: Element, problems: string[]): Link | undefined {
  const href = el.attrs.href;
  if (!href) {
    problems.push(`<link/> needs an href (RFC 4287 §4.2.7.1)`);
    return undefined;
  }
  // RFC 4287 §4.2.7.2: no rel means alternate.
  const link: Link = { rel: el.attrs.rel || 'alternate', href: href.replace(/\s+/g, '') };
  if (el.attrs.type) link.type = el.attrs.type;
  if (el.attrs.hreflang) link.hreflang = el.attrs.hreflang;
  if (el.attrs.title !== undefined) link.title = el.attrs.title;
  if (el.attrs.ref) link.ref = el.attrs.ref;
  if (el.attrs.length !== undefined) {
    if (/^\d{1,15}$/.test(el.attrs.length)) link.length = Number(el.attrs.length);
    else problems.push(`<link length='${el.attrs.length}'/> must be a number of octets (RFC 4287 §4.2.7.6)`);
  }
  // RFC 4685 §4: thr:count and thr:updated on a replies link.
  const count = nsAttr(el, NS_THREAD, 'count');
  if (count !== undefined && /^\d{1,9}$/.test(count)) link.count = Number(count);
  const updated = nsAttr(el, NS_THREAD, 'updated');
  if (updated !== undefined && isRfc3339(updated)) link.updated = updated;
  // XEP-0277 §comments: the comments link "MUST have rel, title and href attributes, where rel MUST have the
  // replies value; title MUST have the comments value; href MUST be an XMPP URI".
  if (link.rel === 'replies' && link.title === 'comments' && !/^xmpp:/i.test(link.href)) {
    problems.push(`the comments link (rel='replies' title='comments') must point to an xmpp: URI such as xmpp:pubsub.example.org?;node=…, not '${link.href}' (XEP-0277 §comments)`);
  }
  return link;
}

const INLINE_TYPES = new Set(['text', 'html', 'xhtml']);

/** RFC 4287 §4.1.3. Quire shows text, html, xhtml and text/* inline, and anything out of line (src). */
function readContent(el: Element, problems: string[]): Content | undefined {
  const type = el.attrs.type ?? 'text';
  const src = el.attrs.src;
  if (src !== undefined) {
    if (!isAbsoluteIri(src.trim())) problems.push(`<content src='${src}'/> must be an absolute IRI (RFC 4287 §4.1.3.2)`);
    return { type, value: '', src: src.trim() };
  }
  if (type === 'xhtml') {
    const elements = el.elements();
    const div = elements[0];
    // RFC 4287 §4.1.3.3: "the content of atom:content MUST be a single XHTML div element".
    if (elements.length !== 1 || div.ns !== NS_XHTML || div.localName !== 'div' || el.text().trim() !== '') {
      problems.push(`<content type='xhtml'> must hold exactly one <div xmlns='${NS_XHTML}'/> (RFC 4287 §4.1.3.3)`);
      return undefined;
    }
    return { type, value: xhtmlToHtml(div.children) };
  }
  if (type === 'html') return { type, value: el.text() };
  if (type === 'text' || /^text\/[\w.+-]+$/i.test(type)) return { type, value: deepText(el) };
  if (!type.includes('/')) {
    problems.push(`<content type='${type}'/>: a content type is text, html, xhtml or a media type (RFC 4287 §4.1.3.1)`);
  } else {
    problems.push(`<content type='${type}'/>: Quire accepts inline content of type text, html, xhtml or text/*; link other media with <link rel='enclosure'/> or give them a src (RFC 4287 §4.1.3, §4.2.7.2)`);
  }
  return undefined;
}

function readDate(entry: Element, name: 'updated' | 'published', problems: string[]): string | undefined {
  const els = atomChildren(entry, name);
  if (els.length > 1) problems.push(`an entry has at most one <${name}/> (RFC 4287 §4.1.2), found ${els.length}`);
  if (!els.length) return undefined;
  const value = els[0].text().trim();
  if (!isRfc3339(value)) {
    problems.push(`<${name}>${value}</${name}> is not an RFC 3339 date-time such as 2008-05-08T18:30:02Z (RFC 4287 §3.3: uppercase T, and Z or an offset like +02:00)`);
    return undefined;
  }
  return value;
}

/** Reads an entry; never throws. */
export function readEntry(entry: Element, itemId?: string): EntryReading {
  const problems: string[] = [];
  const missing: Fillable[] = [];
  const post: Post = { id: '', title: { type: 'text', value: '' }, contents: [], updated: '', authors: [], contributors: [], categories: [], links: [], inReplyTo: [] };
  if (itemId !== undefined) post.itemId = itemId;
  if (entry.localName !== 'entry' || entry.ns !== NS_ATOM) {
    problems.push(`the payload must be an <entry xmlns='${NS_ATOM}'/> (XEP-0277 §publish, RFC 4287 §4.1.2), not <${entry.localName} xmlns='${entry.ns}'/>`);
    return { post, problems, missing, xhtmlWithoutText: false };
  }
  const lang = entry.attrs['xml:lang'];
  if (lang) post.lang = lang;

  // RFC 4287 §4.1.2: exactly one atom:id, absolute (§4.2.6).
  const ids = atomChildren(entry, 'id');
  if (ids.length > 1) problems.push(`an entry has exactly one <id/> (RFC 4287 §4.1.2), found ${ids.length}`);
  const id = ids[0]?.text().trim();
  if (id === undefined || id === '') missing.push('id');
  else if (!isAbsoluteIri(id)) problems.push(`<id>${id}</id> must be an absolute IRI such as tag:example.org,2008-05-08:posts-1 (RFC 4287 §4.2.6)`);
  else post.id = id;

  // RFC 4287 §4.1.2: exactly one atom:title (XEP-0277 §publish repeats it).
  const titles = atomChildren(entry, 'title');
  if (titles.length !== 1) problems.push(titles.length ? `an entry has exactly one <title/> (RFC 4287 §4.1.2), found ${titles.length}` : `an entry needs a <title/> (RFC 4287 §4.1.2, XEP-0277 §publish)`);
  if (titles.length) post.title = readText(titles[0], 'title', problems);

  const updated = readDate(entry, 'updated', problems);
  const published = readDate(entry, 'published', problems);
  if (updated) post.updated = updated;
  else if (!atomChildren(entry, 'updated').length) missing.push('updated');
  if (published) post.published = published;
  else if (!atomChildren(entry, 'published').length) missing.push('published');
  if (!post.updated && post.published) post.updated = post.published;

  for (const el of atomChildren(entry, 'author')) post.authors.push(readPerson(el, problems));
  if (!post.authors.length) missing.push('author');
  for (const el of atomChildren(entry, 'contributor')) post.contributors.push(readPerson(el, problems));

  for (const el of atomChildren(entry, 'category')) {
    const term = el.attrs.term;
    if (!term) {
      problems.push(`<category/> needs a term (RFC 4287 §4.2.2.1)`);
      continue;
    }
    if (el.attrs.scheme === SERIES_SCHEME) {
      const series = readSeries(el, problems);
      if (series && post.series) problems.push(`a post belongs to at most one series; it names '${post.series.id}' and '${series.id}' (Quire series)`);
      else if (series) post.series = series;
      continue;
    }
    const category: Category = { term };
    if (el.attrs.scheme) category.scheme = el.attrs.scheme;
    if (el.attrs.label) category.label = el.attrs.label;
    post.categories.push(category);
  }

  for (const el of atomChildren(entry, 'link')) {
    const link = readLink(el, problems);
    if (link) post.links.push(link);
  }
  // RFC 4287 §4.1.2: no two alternate links with the same type and hreflang.
  const alternates = new Set<string>();
  for (const link of post.links) {
    if (link.rel !== 'alternate') continue;
    const key = `${link.type ?? ''} ${link.hreflang ?? ''}`;
    if (alternates.has(key)) problems.push(`an entry has at most one alternate link per type and hreflang; two have type '${link.type ?? ''}' and hreflang '${link.hreflang ?? ''}' (RFC 4287 §4.1.2)`);
    alternates.add(key);
  }

  for (const el of atomChildren(entry, 'content')) {
    const content = readContent(el, problems);
    if (!content) continue;
    if (post.contents.some((c) => c.type === content.type && (c.src === undefined) === (content.src === undefined))) {
      problems.push(`an entry has at most one <content type='${content.type}'/>; XEP-0277 pairs one text content with one xhtml content (RFC 4287 §4.1.2, XEP-0277 §publish)`);
      continue;
    }
    post.contents.push(content);
  }

  const summaries = atomChildren(entry, 'summary');
  if (summaries.length > 1) problems.push(`an entry has at most one <summary/> (RFC 4287 §4.1.2), found ${summaries.length}`);
  if (summaries.length) post.summary = readText(summaries[0], 'summary', problems);
  // RFC 4287 §4.1.2: a summary is required when the content is out of line.
  if (!post.summary && post.contents.some((c) => c.src !== undefined)) problems.push(`an entry whose <content/> has a src needs a <summary/> (RFC 4287 §4.1.2)`);

  const rights = atomChildren(entry, 'rights');
  if (rights.length > 1) problems.push(`an entry has at most one <rights/> (RFC 4287 §4.1.2), found ${rights.length}`);
  if (rights.length) post.rights = readText(rights[0], 'rights', problems);

  for (const el of entry.getChildren('in-reply-to', NS_THREAD)) {
    const ref = el.attrs.ref?.trim();
    if (!ref) {
      problems.push(`<thr:in-reply-to/> needs a ref, the Atom id of the post it answers (RFC 4685 §3)`);
      continue;
    }
    const reply: InReplyTo = { ref };
    if (el.attrs.href) reply.href = el.attrs.href.replace(/\s+/g, '');
    if (el.attrs.type) reply.type = el.attrs.type;
    if (el.attrs.source) reply.source = el.attrs.source;
    post.inReplyTo.push(reply);
  }

  const geoloc = entry.getChild('geoloc', NS_GEOLOC);
  if (geoloc) post.geoloc = geoloc.clone();

  const hasText = post.title.value.trim() !== '' || post.contents.length > 0;
  if (titles.length === 1 && !hasText) problems.push(`an entry needs some text: a non-empty <title/> or a <content/> (XEP-0277 §publish)`);

  const xhtmlWithoutText = post.contents.some((c) => c.type === 'xhtml') && !post.contents.some((c) => c.type === 'text');
  return { post, problems, missing, xhtmlWithoutText };
}

/** Reads an entry for publishing: throws an EntryError naming every rule it breaks. */
export function parseEntry(entry: Element, options: ParseOptions = {}): Post {
  const reading = readEntry(entry, options.itemId);
  const problems = [...reading.problems];
  if (reading.xhtmlWithoutText && options.requireTextWithXhtml !== false) {
    problems.push(`an xhtml <content/> needs a text <content/> beside it, for clients that show text only (XEP-0277 §publish)`);
  }
  if (options.requireComplete) {
    for (const part of reading.missing) if (part !== 'published') problems.push(`the entry has no ${the(part)} (RFC 4287 §4.1.2)`);
  }
  if (problems.length) throw new EntryError(problems);
  return reading.post;
}
