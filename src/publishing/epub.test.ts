// The book is unzipped again with yauzl and its structure checked; then Debian's epubcheck validates it, when it
// is installed (`apt-get install epubcheck`; .ci/run installs it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import yauzl from 'yauzl';
import { parseStoredXml } from '../core/roster.js';
import type { Element } from '../core/xml/element.js';
import { blogBook, buildEpub, seriesBook } from './epub.js';
import type { Post } from './post.js';
import { collectSeries } from './series.js';
import { hostilePost, testBlog, testPost } from './test-fixtures.js';

interface ZipEntry {
  name: string;
  compressionMethod: number;
  extraFieldLength: number;
  data: Buffer;
}

function unzip(buffer: Buffer): Promise<ZipEntry[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (err, zip) => {
      if (err || !zip) return reject(err ?? new Error('no zip'));
      const entries: ZipEntry[] = [];
      zip.on('entry', (entry: yauzl.Entry) => {
        zip.openReadStream(entry, (error, stream) => {
          if (error || !stream) return reject(error ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('end', () => {
            entries.push({ name: entry.fileName, compressionMethod: entry.compressionMethod, extraFieldLength: entry.extraFieldLength, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(entries));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

/** Quire's strict parser reads the XML documents: they are well-formed, with their namespaces bound. */
function xmlOf(entry: ZipEntry | undefined): Element {
  assert.ok(entry, 'missing file');
  let text = entry.data.toString('utf8');
  assert.ok(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n'));
  text = text.slice(text.indexOf('\n') + 1);
  if (text.startsWith('<!DOCTYPE html>\n')) text = text.slice(text.indexOf('\n') + 1);
  return parseStoredXml(text);
}

const blog = testBlog();
const chapters: Post[] = [
  testPost('one', {
    title: { type: 'text', value: 'Act I: The <Storm> & "Ship"' },
    series: { id: 'tempest', title: 'The Tempest' }, published: '2026-12-01T10:00:00Z',
    contents: [{ type: 'xhtml', value: '<h2>Scene 1</h2><p>On a ship<br>at sea &amp; <em>storm</em>.</p><figure><img src="/img/ship.png" alt="A ship"><figcaption>The ship</figcaption></figure><p><img src="data:image/png;base64,iVBORw0KGgo=" alt="dot"></p><table><tr><th>Who</th><td>Prospero</td></tr></table><pre><code>if (a &lt; b) {}</code></pre><ul><li>one</li></ul><p lang="it">Ciao <a href="https://other.example/">elsewhere</a> and <a href="xmpp:prospero@island.lit">chat</a>.</p>' }],
  }),
  testPost('two', { title: { type: 'text', value: 'Act II' }, series: { id: 'tempest', title: 'The Tempest' }, published: '2026-12-02T10:00:00Z', updated: '2026-12-04T08:00:00Z', lang: 'fr' }),
  { ...hostilePost(), series: { id: 'tempest' }, published: '2026-12-03T10:00:00Z' },
];
const series = collectSeries(chapters).get('tempest')!;

test('an EPUB has the OCF structure: mimetype first and stored, container, package, navigation, chapters', async () => {
  const epub = await buildEpub(seriesBook(blog, series));
  assert.equal(epub.subarray(30, 38).toString('ascii'), 'mimetype', 'the first local file header names mimetype');
  assert.equal(epub.subarray(38, 58).toString('ascii'), 'application/epub+zip');
  const entries = await unzip(epub);
  assert.deepEqual(entries.map((e) => e.name), ['mimetype', 'META-INF/container.xml', 'EPUB/package.opf', 'EPUB/nav.xhtml', 'EPUB/style.css', 'EPUB/chapter-001.xhtml', 'EPUB/chapter-002.xhtml', 'EPUB/chapter-003.xhtml']);
  assert.deepEqual([entries[0].compressionMethod, entries[0].extraFieldLength, entries[0].data.toString()], [0, 0, 'application/epub+zip']);
  const byName = new Map(entries.map((e) => [e.name, e]));

  const rootfile = xmlOf(byName.get('META-INF/container.xml')).getChild('rootfiles')!.getChild('rootfile')!;
  assert.deepEqual(rootfile.attrs, { 'full-path': 'EPUB/package.opf', 'media-type': 'application/oebps-package+xml' });

  const pkg = xmlOf(byName.get('EPUB/package.opf'));
  assert.equal(pkg.attrs.version, '3.0');
  const metadata = pkg.getChild('metadata')!;
  const dc = (name: string): string[] => metadata.getChildren(name, 'http://purl.org/dc/elements/1.1/').map((e) => e.text());
  const identifier = metadata.getChildren('identifier').find((e) => e.attrs.id === pkg.attrs['unique-identifier']);
  assert.equal(identifier?.text(), 'https://montague.lit/blog/romeo/series/tempest');
  assert.deepEqual(dc('title'), ['The Tempest']);
  assert.deepEqual(dc('language'), ['en']);
  assert.deepEqual(dc('creator'), ['Romeo Montague', '<img src=x onerror=alert(7)>']);
  assert.deepEqual(dc('date'), ['2026-12-01T10:00:00Z']);
  assert.deepEqual(metadata.getChildren('meta').filter((m) => m.attrs.property === 'dcterms:modified').map((m) => m.text()), ['2026-12-04T08:00:00Z']);
  const items = pkg.getChild('manifest')!.getChildren('item');
  for (const item of items) assert.ok(byName.has(`EPUB/${item.attrs.href}`), item.attrs.href);
  assert.deepEqual(items.filter((i) => i.attrs.properties === 'nav').map((i) => i.attrs.href), ['nav.xhtml']);
  const ids = new Set(items.map((i) => i.attrs.id));
  const spine = pkg.getChild('spine')!.getChildren('itemref').map((r) => r.attrs.idref);
  assert.deepEqual(spine, ['nav', 'chapter-1', 'chapter-2', 'chapter-3']);
  for (const idref of spine) assert.ok(ids.has(idref));

  const nav = xmlOf(byName.get('EPUB/nav.xhtml'));
  const toc = nav.getChild('body')!.getChild('nav')!;
  assert.equal(toc.attrs['epub:type'], 'toc');
  assert.deepEqual(toc.getChild('ol')!.getChildren('li').map((li) => [li.getChild('a')!.attrs.href, li.getChild('a')!.text()]),
    [['chapter-001.xhtml', 'Act I: The <Storm> & "Ship"'], ['chapter-002.xhtml', 'Act II'], ['chapter-003.xhtml', '<script>alert("title")</script> & \'quotes\' "double"']]);
});

test('chapters are XHTML built from the sanitized content, without remote or inline images', async () => {
  const entries = await unzip(await buildEpub(seriesBook(blog, series)));
  const first = entries.find((e) => e.name === 'EPUB/chapter-001.xhtml')!;
  const html = xmlOf(first);
  assert.equal(html.ns, 'http://www.w3.org/1999/xhtml');
  assert.equal(html.getChild('head')!.getChildText('title'), 'Act I: The <Storm> & "Ship"');
  const section = html.getChild('body')!.getChild('section')!;
  assert.equal(section.attrs['epub:type'], 'chapter');
  const text = first.data.toString();
  assert.match(text, /<p>On a ship<br\/>at sea &amp; <em>storm<\/em>\.<\/p>/);
  assert.match(text, /<figure><a href="https:\/\/montague.lit\/img\/ship.png">\[A ship\]<\/a><figcaption>The ship<\/figcaption><\/figure>/);
  assert.match(text, /<p><span>\[dot\]<\/span><\/p>/);
  assert.match(text, /<p xml:lang="it" lang="it">Ciao <a href="https:\/\/other.example\/">elsewhere<\/a>/);
  assert.match(text, /<code>if \(a &lt; b\) \{\}<\/code>/);
  const second = entries.find((e) => e.name === 'EPUB/chapter-002.xhtml')!.data.toString();
  assert.match(second, /<section epub:type="chapter" xml:lang="fr" lang="fr">/);
  const hostile = entries.find((e) => e.name === 'EPUB/chapter-003.xhtml')!.data.toString();
  assert.doesNotMatch(hostile, /<script|<iframe|onerror=|onclick=|javascript:/i);
});

test('a blog becomes a book, oldest post first', async () => {
  const book = blogBook(blog, [testPost('new', { published: '2026-12-05T00:00:00Z' }), testPost('old', { published: '2026-11-01T00:00:00Z' })], new Date(0));
  assert.deepEqual(book.chapters.map((c) => c.title), ['Post old', 'Post new']);
  assert.equal(book.identifier, blog.id);
  assert.equal(book.description, 'Verses, mostly');
  const empty = blogBook(blog, [], new Date(Date.UTC(2026, 0, 1)));
  assert.equal(empty.modified.toISOString(), '2026-01-01T00:00:00.000Z');
  const entries = await unzip(await buildEpub(empty));
  assert.match(entries.find((e) => e.name === 'EPUB/nav.xhtml')!.data.toString(), /No chapters yet\./);
});

function findOnPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, command))) return join(dir, command);
  return undefined;
}

/** Debian installs epubcheck as a symbolic link to its jar (run through binfmt_misc where that is set up): the jar
 *  is run with java here, which works in containers too. */
function epubcheckCommand(): string[] | undefined {
  const path = findOnPath('epubcheck');
  if (!path) return undefined;
  const real = realpathSync(path);
  if (!real.endsWith('.jar')) return [real];
  const java = findOnPath('java');
  return java ? [java, '-jar', real] : undefined;
}

const epubcheck = epubcheckCommand();

test('epubcheck finds no error or warning in a series and a blog', { skip: epubcheck ? false : 'epubcheck (and java) not found: apt-get install -y epubcheck to run it' }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'quire-epub-'));
  try {
    // Content as imported blogs have it: elements out of place, blocks in phrasing content, links in links.
    const messy = testPost('messy', { contents: [{ type: 'html', value: '<li>stray</li><td>cell</td><figcaption>f</figcaption><p><p>nested</p></p><p><div>div in p</div></p><summary>s</summary><dt>t</dt><caption>c</caption><tr><td>x</td></tr><h1><p>x</p></h1><a href="https://x.example/"><a href="https://y.example/">nested a</a></a><rt>r</rt><col><ul>text<p>p</p></ul><table><p>t</p></table><em><blockquote>q</blockquote></em>' }] });
    const books = { series: seriesBook(blog, series), blog: blogBook(blog, [...chapters, messy]) };
    for (const [name, book] of Object.entries(books)) {
      const path = join(dir, `${name}.epub`);
      await writeFile(path, await buildEpub(book));
      const result = await new Promise<{ code: number; output: string }>((resolve) => {
        execFile(epubcheck![0], [...epubcheck!.slice(1), path], { timeout: 180_000 }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, output: stdout + stderr }));
      });
      assert.equal(result.code, 0, result.output);
      assert.match(result.output, /No errors or warnings detected/, result.output);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
