// Writing a Post back as an Atom entry (RFC 4287 §4.1.2) in the XEP-0277 shape: for posts written over HTTP
// (AtomPub, Micropub) and imported from feeds. Every value goes through the Element serializer, which escapes it.
import { Element } from '../core/xml/element.js';
import { NS_ATOM, NS_THREAD, type Content, type Link, type Person, type Post, type TextConstruct } from './post.js';
import { seriesCategory } from './series.js';
import { xhtmlDiv } from './xhtml.js';

function atom(name: string, attrs: Record<string, string> = {}, text?: string): Element {
  const el = new Element(name, attrs, [], NS_ATOM);
  if (text !== undefined && text !== '') el.t(text);
  return el;
}

/** A Text construct (RFC 4287 §3.1); xhtml values are HTML and become an XHTML div. */
export function textElement(name: string, text: TextConstruct): Element {
  if (text.type === 'xhtml') {
    const el = atom(name, { type: 'xhtml' });
    el.append(xhtmlDiv(text.value));
    return el;
  }
  return atom(name, { type: text.type }, text.value);
}

export function personElement(name: 'author' | 'contributor', person: Person): Element {
  const el = atom(name);
  el.append(atom('name', {}, person.name));
  if (person.uri) el.append(atom('uri', {}, person.uri));
  if (person.email) el.append(atom('email', {}, person.email));
  return el;
}

export function linkElement(link: Link): Element {
  const attrs: Record<string, string> = { rel: link.rel, href: link.href };
  if (link.type) attrs.type = link.type;
  if (link.hreflang) attrs.hreflang = link.hreflang;
  if (link.title !== undefined) attrs.title = link.title;
  if (link.length !== undefined) attrs.length = String(link.length);
  if (link.ref) attrs.ref = link.ref;
  // RFC 4685 §4.
  if (link.count !== undefined || link.updated) attrs['xmlns:thr'] = NS_THREAD;
  if (link.count !== undefined) attrs['thr:count'] = String(link.count);
  if (link.updated) attrs['thr:updated'] = link.updated;
  return atom('link', attrs);
}

function contentElement(content: Content): Element {
  if (content.src !== undefined) return atom('content', { type: content.type, src: content.src });
  if (content.type === 'xhtml') return textElement('content', { type: 'xhtml', value: content.value });
  return atom('content', { type: content.type }, content.value);
}

/** The entry for a post. Empty id, updated or authors are left out for normalizeEntry() to fill. */
export function buildEntry(post: Post): Element {
  const entry = new Element('entry', { xmlns: NS_ATOM }, [], NS_ATOM);
  if (post.lang) entry.attrs['xml:lang'] = post.lang;
  if (post.inReplyTo.length) entry.attrs['xmlns:thr'] = NS_THREAD;
  entry.append(textElement('title', post.title));
  if (post.id) entry.append(atom('id', {}, post.id));
  if (post.published) entry.append(atom('published', {}, post.published));
  if (post.updated) entry.append(atom('updated', {}, post.updated));
  for (const person of post.authors) entry.append(personElement('author', person));
  for (const person of post.contributors) entry.append(personElement('contributor', person));
  if (post.summary) entry.append(textElement('summary', post.summary));
  for (const content of post.contents) entry.append(contentElement(content));
  for (const category of post.categories) {
    const attrs: Record<string, string> = { term: category.term };
    if (category.scheme) attrs.scheme = category.scheme;
    if (category.label) attrs.label = category.label;
    entry.append(atom('category', attrs));
  }
  if (post.series) entry.append(seriesCategory(post.series));
  for (const link of post.links) entry.append(linkElement(link));
  for (const reply of post.inReplyTo) {
    const attrs: Record<string, string> = { ref: reply.ref };
    if (reply.href) attrs.href = reply.href;
    if (reply.type) attrs.type = reply.type;
    if (reply.source) attrs.source = reply.source;
    entry.append(new Element('thr:in-reply-to', attrs, [], NS_THREAD));
  }
  if (post.rights) entry.append(textElement('rights', post.rights));
  if (post.geoloc) entry.append(post.geoloc.clone());
  return entry;
}
