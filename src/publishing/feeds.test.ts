// Feeds are parsed back with an independent parser (@rowanmanning/feed-parser, built on fast-xml-parser), and the
// Atom feed is also checked against the RFC 4287 rules that can be checked structurally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFeed } from '@rowanmanning/feed-parser';
import { parseStoredXml } from '../core/roster.js';
import type { Element } from '../core/xml/element.js';
import { isAbsoluteIri } from './atom-read.js';
import { isRfc3339 } from './dates.js';
import { atomFeed, jsonFeed, rssFeed } from './feeds.js';
import { NS_ATOM, type Post } from './post.js';
import { hostilePost, testBlog, testPost } from './test-fixtures.js';

const blog = testBlog();
const posts: Post[] = [
  testPost('rich', {
    title: { type: 'text', value: 'Café ✓ & more' },
    contents: [{ type: 'text', value: 'plain' }, { type: 'xhtml', value: '<p>Rich <em>text</em> with <a href="/blog/romeo/other">a link</a> and <img src="img/a.png" alt="a"></p>' }],
    summary: { type: 'text', value: 'A summary' },
    published: '2026-12-02T09:00:00+01:00',
    updated: '2026-12-03T12:30:00Z',
    categories: [{ term: 'xmpp', label: 'XMPP' }, { term: 'verse' }],
    links: [{ rel: 'enclosure', href: 'https://montague.lit/a.mp3', type: 'audio/mpeg', length: 4096, title: 'Reading' }],
  }),
  testPost('micro', { contents: [], title: { type: 'text', value: 'Just a title' } }),
  hostilePost(),
  testPost('reply', { inReplyTo: [{ ref: 'tag:capulet.lit,2026:1', href: 'https://capulet.lit/1' }] }),
];

function withoutDeclaration(xml: string): string {
  assert.ok(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>\n'));
  return xml.slice(xml.indexOf('\n') + 1);
}

function atomChildren(el: Element, name: string): Element[] {
  return el.getChildren(name, NS_ATOM);
}

test('the Atom feed follows RFC 4287 §4.1.1 and §4.1.2 structurally', () => {
  // Quire's strict parser (restricted XML, namespaces) reads it: it is well-formed and namespace-valid.
  const feed = parseStoredXml(withoutDeclaration(atomFeed(blog, posts)));
  assert.equal(feed.localName, 'feed');
  assert.equal(feed.ns, NS_ATOM);
  for (const name of ['id', 'title', 'updated']) assert.equal(atomChildren(feed, name).length, 1, `feed ${name}`);
  assert.ok(isAbsoluteIri(feed.getChildText('id', NS_ATOM)!));
  assert.equal(feed.getChildText('updated', NS_ATOM), '2026-12-03T12:30:00Z', 'the newest entry\'s updated');
  assert.equal(atomChildren(feed, 'author').length, 1);
  const links = atomChildren(feed, 'link');
  assert.deepEqual(links.filter((l) => l.attrs.rel === 'self').map((l) => [l.attrs.href, l.attrs.type]), [['https://montague.lit/blog/romeo/feed.atom', 'application/atom+xml']]);
  assert.deepEqual(links.filter((l) => l.attrs.rel === 'alternate').map((l) => [l.attrs.href, l.attrs.type]), [['https://montague.lit/blog/romeo/', 'text/html']]);
  assert.equal(feed.attrs['xml:base'], 'https://montague.lit/blog/romeo/');
  const entries = atomChildren(feed, 'entry');
  assert.equal(entries.length, posts.length);
  const ids = new Set<string>();
  for (const entry of entries) {
    for (const name of ['id', 'title', 'updated', 'content']) assert.equal(atomChildren(entry, name).length, 1, `entry ${name}: ${entry}`);
    assert.ok(atomChildren(entry, 'published').length <= 1);
    assert.ok(atomChildren(entry, 'summary').length <= 1);
    const id = entry.getChildText('id', NS_ATOM)!;
    assert.ok(isAbsoluteIri(id) && !ids.has(id), id);
    ids.add(id);
    for (const name of ['updated', 'published']) for (const d of atomChildren(entry, name)) assert.ok(isRfc3339(d.text()), d.text());
    const alternates = atomChildren(entry, 'link').filter((l) => (l.attrs.rel ?? 'alternate') === 'alternate');
    assert.equal(alternates.length, 1);
    for (const link of atomChildren(entry, 'link')) assert.match(link.attrs.href, /^https:\/\//, 'only web links reach the feed');
    for (const text of ['title', 'content', 'summary']) for (const t of atomChildren(entry, text)) assert.ok(['text', 'html'].includes(t.attrs.type), `${text} type`);
    for (const category of atomChildren(entry, 'category')) assert.ok(category.attrs.term);
  }
});

test('the Atom feed reads back through an independent parser', () => {
  const feed = parseFeed(atomFeed(blog, posts));
  assert.equal(feed.meta.type, 'atom');
  assert.equal(feed.title, 'Romeo\'s <Journal> & "Notes"');
  assert.equal(feed.description, 'Verses, mostly');
  assert.equal(feed.url, 'https://montague.lit/blog/romeo/');
  assert.equal(feed.self, 'https://montague.lit/blog/romeo/feed.atom');
  assert.equal(feed.language, 'en');
  assert.equal(feed.items.length, 4);
  const [rich, micro, hostile, reply] = feed.items;
  assert.equal(rich.id, 'tag:romeo@montague.lit,2026-12-01:posts/rich');
  assert.equal(rich.title, 'Café ✓ & more');
  assert.equal(rich.url, 'https://montague.lit/blog/romeo/rich');
  assert.equal(rich.published?.toISOString(), '2026-12-02T08:00:00.000Z');
  assert.equal(rich.updated?.toISOString(), '2026-12-03T12:30:00.000Z');
  assert.equal(rich.description, 'A summary');
  assert.equal(rich.content, '<p>Rich <em>text</em> with <a href="https://montague.lit/blog/romeo/other">a link</a> and <img src="https://montague.lit/blog/romeo/img/a.png" alt="a" /></p>');
  assert.deepEqual(rich.categories.map((c) => c.term), ['xmpp', 'verse']);
  assert.deepEqual(rich.authors.map((a) => a.name), ['Romeo Montague']);
  assert.deepEqual(rich.media.map((m) => [m.url, m.mimeType, m.length]), [['https://montague.lit/a.mp3', 'audio/mpeg', 4096]]);
  assert.equal(micro.title, 'Just a title');
  assert.equal(micro.content, '<p>Just a title</p>');
  assert.equal(hostile.title, '<script>alert("title")</script> & \'quotes\' "double"');
  assert.doesNotMatch(hostile.content ?? '', /script|onerror|onclick|javascript|iframe/i);
  assert.match(hostile.content ?? '', /<a href="https:\/\/montague.lit\/rel">relative<\/a>/);
  assert.equal(reply.url, 'https://montague.lit/blog/romeo/reply');
});

test('the RSS 2.0 feed reads back through an independent parser, with guid, RFC 822 dates and full HTML', () => {
  const xml = rssFeed(blog, posts);
  const feed = parseFeed(xml);
  assert.equal(feed.meta.type, 'rss');
  assert.equal(feed.title, 'Romeo\'s <Journal> & "Notes"');
  assert.equal(feed.url, 'https://montague.lit/blog/romeo/');
  assert.equal(feed.self, 'https://montague.lit/blog/romeo/feed.rss');
  assert.equal(feed.items.length, 4);
  const [rich, micro, hostile] = feed.items;
  assert.equal(rich.id, 'tag:romeo@montague.lit,2026-12-01:posts/rich');
  assert.equal(rich.title, 'Café ✓ & more');
  assert.equal(rich.url, 'https://montague.lit/blog/romeo/rich');
  assert.equal(rich.published?.toISOString(), '2026-12-02T08:00:00.000Z');
  assert.match(rich.content ?? '', /^<p>Rich <em>text<\/em>/);
  assert.deepEqual(rich.categories.map((c) => c.label ?? c.term), ['XMPP', 'verse']);
  assert.deepEqual(rich.media.map((m) => [m.url, m.mimeType, m.length]), [['https://montague.lit/a.mp3', 'audio/mpeg', 4096]]);
  assert.equal(micro.content, '<p>Just a title</p>');
  assert.equal(hostile.title, '<script>alert("title")</script> & \'quotes\' "double"');
  assert.doesNotMatch(hostile.content ?? '', /script|onerror|javascript/i);
  // What the parser does not expose, read from the document.
  const rss = parseStoredXml(withoutDeclaration(xml));
  assert.equal(rss.attrs.version, '2.0');
  const items = rss.getChild('channel')!.getChildren('item');
  assert.deepEqual(items[0].getChild('guid')!.attrs, { isPermaLink: 'false' });
  assert.equal(items[0].getChildText('pubDate'), 'Wed, 02 Dec 2026 08:00:00 GMT');
  assert.equal(items[0].getChild('encoded', 'http://purl.org/rss/1.0/modules/content/')?.text(), rich.content);
  assert.equal(items[0].getChildText('creator', 'http://purl.org/dc/elements/1.1/'), 'Romeo Montague');
  assert.equal(rss.getChild('channel')!.getChildText('lastBuildDate'), 'Thu, 03 Dec 2026 12:30:00 GMT');
});

test('a tag feed has its own id, title, links and self link', () => {
  const feed = parseFeed(atomFeed(blog, posts.slice(0, 1), { tag: 'xmpp' }));
  assert.equal(feed.title, 'Romeo\'s <Journal> & "Notes": xmpp');
  assert.equal(feed.url, 'https://montague.lit/blog/romeo/tag/xmpp');
  assert.equal(feed.self, 'https://montague.lit/blog/romeo/tag/xmpp/feed.atom');
  assert.equal(parseFeed(rssFeed(blog, [], { tag: 'xmpp', now: new Date(Date.UTC(2026, 0, 1)) })).self, 'https://montague.lit/blog/romeo/tag/xmpp/feed.rss');
  const empty = parseStoredXml(withoutDeclaration(atomFeed(blog, [], { now: new Date(Date.UTC(2026, 0, 1, 0, 0, 0, 500)) })));
  assert.equal(empty.getChildText('updated', NS_ATOM), '2026-01-01T00:00:00Z');
  assert.equal(empty.getChildText('id', NS_ATOM), blog.id);
});

test('the JSON Feed follows version 1.1', () => {
  const feed = JSON.parse(jsonFeed(blog, posts)) as Record<string, unknown> & { items: Record<string, unknown>[] };
  assert.equal(feed.version, 'https://jsonfeed.org/version/1.1');
  assert.equal(feed.title, 'Romeo\'s <Journal> & "Notes"');
  assert.equal(feed.home_page_url, 'https://montague.lit/blog/romeo/');
  assert.equal(feed.feed_url, 'https://montague.lit/blog/romeo/feed.json');
  assert.deepEqual(feed.authors, [{ name: 'Romeo Montague', url: 'xmpp:romeo@montague.lit' }]);
  assert.equal(feed.items.length, 4);
  for (const item of feed.items) {
    assert.equal(typeof item.id, 'string');
    assert.ok(typeof item.content_html === 'string' && item.content_html !== '');
  }
  assert.deepEqual(feed.items[0], {
    id: 'tag:romeo@montague.lit,2026-12-01:posts/rich', url: 'https://montague.lit/blog/romeo/rich', title: 'Café ✓ & more',
    content_html: '<p>Rich <em>text</em> with <a href="https://montague.lit/blog/romeo/other">a link</a> and <img src="https://montague.lit/blog/romeo/img/a.png" alt="a" /></p>',
    summary: 'A summary', date_published: '2026-12-02T09:00:00+01:00', date_modified: '2026-12-03T12:30:00Z',
    authors: [{ name: 'Romeo Montague', url: 'xmpp:romeo@montague.lit' }], tags: ['xmpp', 'verse'],
    attachments: [{ url: 'https://montague.lit/a.mp3', mime_type: 'audio/mpeg', title: 'Reading', size_in_bytes: 4096 }],
  });
  assert.doesNotMatch(String(feed.items[2].content_html), /script|onerror|javascript/i);
  assert.equal(feed.items[2].external_url, 'https://elsewhere.example/original');
  assert.equal(JSON.parse(jsonFeed(blog, [], { tag: 'x' })).feed_url, 'https://montague.lit/blog/romeo/tag/x/feed.json');
});

test('stored items that missed normalization still make valid feed entries', () => {
  const old = testPost('old', { id: '', updated: 'yesterday', published: '2026-11-30T10:00:00Z' });
  const feed = parseStoredXml(withoutDeclaration(atomFeed(blog, [old], { now: new Date(Date.UTC(2026, 0, 1)) })));
  const entry = feed.getChild('entry', NS_ATOM)!;
  assert.equal(entry.getChildText('id', NS_ATOM), 'https://montague.lit/blog/romeo/old');
  assert.equal(entry.getChildText('updated', NS_ATOM), '2026-11-30T10:00:00Z');
  assert.equal(feed.getChildText('updated', NS_ATOM), '2026-11-30T10:00:00Z');
  const json = JSON.parse(jsonFeed(blog, [old])) as { items: { id: string; date_modified: string }[] };
  assert.deepEqual([json.items[0].id, json.items[0].date_modified], ['https://montague.lit/blog/romeo/old', '2026-11-30T10:00:00Z']);
  const rss = parseFeed(rssFeed(blog, [old]));
  assert.equal(rss.items[0].id, 'https://montague.lit/blog/romeo/old');
  assert.equal(rss.items[0].published?.toISOString(), '2026-11-30T10:00:00.000Z');
});
