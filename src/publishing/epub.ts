// A series, or a whole blog, as an EPUB 3 book (EPUB 3.3: OCF container, package document, XHTML content
// documents, navigation document). The ZIP is written by yazl: `mimetype` first and stored, without extra fields
// (OCF §4.3.2); the other files compressed. Chapters are the posts' sanitized HTML turned into XHTML.
import yazl from 'yazl';
import { Element, type Node } from '../core/xml/element.js';
import type { Blog } from './blog.js';
import { toRfc3339, timeOf } from './dates.js';
import { NS_XHTML, type Post } from './post.js';
import { postHtml, textConstructToText } from './sanitize.js';
import { orderSeries, type SeriesSummary } from './series.js';
import { htmlToXhtml } from './xhtml.js';
import { repairXhtml } from './xhtml-repair.js';

export const EPUB_MEDIA_TYPE = 'application/epub+zip';

const NS_OPF = 'http://www.idpf.org/2007/opf';
const NS_DC = 'http://purl.org/dc/elements/1.1/';
const NS_OPS = 'http://www.idpf.org/2007/ops';
const NS_CONTAINER = 'urn:oasis:names:tc:opendocument:xmlns:container';
const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export interface EpubChapter {
  title: string;
  /** Sanitized HTML (sanitize.ts). */
  html: string;
  /** BCP 47, when it differs from the book's. */
  language?: string;
}

export interface EpubBook {
  /** dc:identifier, the package's unique-identifier: a URL or URN that stays the same across editions. */
  identifier: string;
  title: string;
  language: string;
  creators: string[];
  /** dcterms:modified (EPUB 3.3 §5.5.6), required. */
  modified: Date;
  /** dc:date: first publication. */
  date?: string;
  description?: string;
  /** dc:source: where the text is published (the blog or series page). */
  source?: string;
  chapters: EpubChapter[];
}

const STYLESHEET = `body { font-family: serif; line-height: 1.5; margin: 0 5%; }
h1 { font-size: 1.6em; margin: 1.5em 0 1em; line-height: 1.2; }
pre { white-space: pre-wrap; font-size: 0.9em; }
blockquote { margin: 1em 1.5em; font-style: italic; }
figure { margin: 1em 0; }
table { border-collapse: collapse; }
th, td { border: 1px solid #888; padding: 0.2em 0.4em; }
nav ol { list-style: none; padding: 0; }
`;

function xhtml(name: string, attrs: Record<string, string> = {}, ...children: (Node | undefined)[]): Element {
  const el = new Element(name, attrs, [], NS_XHTML);
  for (const child of children) if (child !== undefined) el.append(child);
  return el;
}

/** What EPUB readers cannot have: remote images (EPUB 3.3 §3.6: images must be in the container) become links,
 *  data: images their alternative text; rel attributes mean nothing offline. */
function fitForEpub(nodes: Node[]): Node[] {
  const out: Node[] = [];
  for (const node of nodes) {
    if (typeof node === 'string') {
      out.push(node);
      continue;
    }
    if (node.name === 'img') {
      const src = node.attrs.src ?? '';
      const alt = node.attrs.alt || 'image';
      out.push(/^https?:/i.test(src) ? xhtml('a', { href: src }, `[${alt}]`) : xhtml('span', {}, `[${alt}]`));
      continue;
    }
    delete node.attrs.rel;
    const children = fitForEpub(node.children);
    node.children = [];
    for (const child of children) node.append(child);
    out.push(node);
  }
  return out;
}

function document(title: string, language: string, body: Element): string {
  const html = xhtml('html', { xmlns: NS_XHTML, 'xmlns:epub': NS_OPS, 'xml:lang': language, lang: language },
    xhtml('head', {}, xhtml('meta', { charset: 'UTF-8' }), xhtml('title', {}, title), xhtml('link', { rel: 'stylesheet', type: 'text/css', href: 'style.css' })),
    body);
  return XML_DECLARATION + '<!DOCTYPE html>\n' + html.toString();
}

function chapterFile(index: number): string {
  return `chapter-${String(index + 1).padStart(3, '0')}.xhtml`;
}

function chapterDocument(book: EpubBook, chapter: EpubChapter): string {
  const section = xhtml('section', { 'epub:type': 'chapter' }, xhtml('h1', {}, chapter.title));
  if (chapter.language && chapter.language !== book.language) Object.assign(section.attrs, { 'xml:lang': chapter.language, lang: chapter.language });
  for (const node of repairXhtml(fitForEpub(htmlToXhtml(chapter.html)))) section.append(node);
  return document(chapter.title, book.language, xhtml('body', {}, section));
}

/** EPUB 3.3 §7: the navigation document, with the table of contents. */
function navDocument(book: EpubBook): string {
  const list = xhtml('ol');
  book.chapters.forEach((chapter, i) => list.append(xhtml('li', {}, xhtml('a', { href: chapterFile(i) }, chapter.title))));
  const nav = xhtml('nav', { 'epub:type': 'toc', id: 'toc' }, xhtml('h1', {}, book.title));
  if (book.chapters.length) nav.append(list);
  else nav.append(xhtml('p', {}, 'No chapters yet.'));
  return document(book.title, book.language, xhtml('body', {}, nav));
}

function packageDocument(book: EpubBook): string {
  const dc = (name: string, text: string, attrs: Record<string, string> = {}): Element => new Element(`dc:${name}`, attrs, [text], NS_DC);
  const metadata = new Element('metadata', { 'xmlns:dc': NS_DC }, [], NS_OPF);
  metadata.append(dc('identifier', book.identifier, { id: 'book-id' }));
  metadata.append(dc('title', book.title));
  metadata.append(dc('language', book.language));
  book.creators.forEach((creator) => metadata.append(dc('creator', creator)));
  if (book.date) metadata.append(dc('date', book.date));
  if (book.description) metadata.append(dc('description', book.description));
  if (book.source) metadata.append(dc('source', book.source));
  metadata.append(new Element('meta', { property: 'dcterms:modified' }, [toRfc3339(book.modified)], NS_OPF));
  const manifest = new Element('manifest', {}, [], NS_OPF);
  manifest.append(new Element('item', { id: 'nav', href: 'nav.xhtml', 'media-type': 'application/xhtml+xml', properties: 'nav' }, [], NS_OPF));
  manifest.append(new Element('item', { id: 'style', href: 'style.css', 'media-type': 'text/css' }, [], NS_OPF));
  const spine = new Element('spine', {}, [], NS_OPF);
  spine.append(new Element('itemref', { idref: 'nav' }, [], NS_OPF));
  book.chapters.forEach((_, i) => {
    const id = `chapter-${i + 1}`;
    manifest.append(new Element('item', { id, href: chapterFile(i), 'media-type': 'application/xhtml+xml' }, [], NS_OPF));
    spine.append(new Element('itemref', { idref: id }, [], NS_OPF));
  });
  const pkg = new Element('package', { xmlns: NS_OPF, version: '3.0', 'unique-identifier': 'book-id', 'xml:lang': book.language }, [metadata, manifest, spine], NS_OPF);
  return XML_DECLARATION + pkg.toString();
}

const CONTAINER = XML_DECLARATION + new Element('container', { version: '1.0', xmlns: NS_CONTAINER }, [
  new Element('rootfiles', {}, [new Element('rootfile', { 'full-path': 'EPUB/package.opf', 'media-type': 'application/oebps-package+xml' })]),
]).toString();

/** The .epub file of a book. */
export function buildEpub(book: EpubBook): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  const options = { mtime: book.modified, forceDosTimestamp: true };
  // OCF §4.3.2: the first file, named mimetype, stored uncompressed, with no extra field.
  zip.addBuffer(Buffer.from(EPUB_MEDIA_TYPE, 'ascii'), 'mimetype', { ...options, compress: false });
  zip.addBuffer(Buffer.from(CONTAINER), 'META-INF/container.xml', options);
  zip.addBuffer(Buffer.from(packageDocument(book)), 'EPUB/package.opf', options);
  zip.addBuffer(Buffer.from(navDocument(book)), 'EPUB/nav.xhtml', options);
  zip.addBuffer(Buffer.from(STYLESHEET), 'EPUB/style.css', options);
  book.chapters.forEach((chapter, i) => zip.addBuffer(Buffer.from(chapterDocument(book, chapter)), `EPUB/${chapterFile(i)}`, options));
  zip.end();
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('error', reject);
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

function chapterOf(blog: Blog, post: Post): EpubChapter {
  const title = textConstructToText(post.title).trim() || 'Untitled';
  const chapter: EpubChapter = { title, html: postHtml(post, { baseUrl: blog.urls.post(post), siteOrigin: blog.origin }) };
  if (post.lang) chapter.language = post.lang;
  return chapter;
}

function newest(posts: readonly Post[], fallback: Date): Date {
  const time = Math.max(0, ...posts.map((p) => timeOf(p.updated)));
  return time ? new Date(time) : fallback;
}

function creators(blog: Blog, posts: readonly Post[]): string[] {
  const names = new Set<string>();
  for (const post of posts) for (const author of post.authors) if (author.name) names.add(author.name);
  return names.size ? [...names] : [blog.author.name];
}

/** A series as a book: its chapters in reading order, identified by the series page. */
export function seriesBook(blog: Blog, series: SeriesSummary, now: Date = new Date()): EpubBook {
  const chapters = orderSeries(series.chapters);
  const first = chapters[0]?.published;
  return {
    identifier: blog.urls.series(series.id),
    title: series.title,
    language: blog.language,
    creators: creators(blog, chapters),
    modified: newest(chapters, now),
    ...(first ? { date: first } : {}),
    source: blog.urls.series(series.id),
    chapters: chapters.map((post) => chapterOf(blog, post)),
  };
}

/** A whole blog as a book, oldest post first. */
export function blogBook(blog: Blog, posts: readonly Post[], now: Date = new Date()): EpubBook {
  const ordered = [...posts].sort((a, b) => timeOf(a.published ?? a.updated) - timeOf(b.published ?? b.updated));
  return {
    identifier: blog.id,
    title: blog.title,
    language: blog.language,
    creators: [blog.author.name],
    modified: newest(ordered, now),
    ...(blog.subtitle ? { description: blog.subtitle } : {}),
    source: blog.urls.home,
    chapters: ordered.map((post) => chapterOf(blog, post)),
  };
}
