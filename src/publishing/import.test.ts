import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEntry } from './atom-read.js';
import { buildEntry } from './atom-build.js';
import { atomFeed, rssFeed } from './feeds.js';
import { ImportError, importItemId, nameUuid, parseFeedForImport, resolveHtmlUrls } from './import.js';
import { testBlog, testPost } from './test-fixtures.js';

const NOW = new Date(Date.UTC(2026, 11, 4, 12, 0, 0));

const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0" xml:base="https://old.example/blog/">
  <title type="html">Old &lt;i&gt;Blog&lt;/i&gt;</title>
  <link href="https://old.example/blog/"/>
  <link rel="self" href="https://old.example/blog/atom.xml"/>
  <updated>2020-05-01T00:00:00Z</updated>
  <author><name>Romeo</name><uri>https://old.example/</uri></author>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <entry xml:lang="it">
    <title>First &amp; foremost</title>
    <link rel="alternate" type="text/html" href="posts/first"/>
    <link rel="edit" href="https://old.example/api/1"/>
    <link rel="enclosure" href="media/a.mp3" type="audio/mpeg" length="1234"/>
    <id>tag:old.example,2020:first</id>
    <published>2020-04-01T10:00:00+02:00</published>
    <updated>2020-04-02T10:00:00Z</updated>
    <category term="xmpp" label="XMPP"/>
    <summary>Short</summary>
    <content type="html" xml:base="https://old.example/blog/posts/">&lt;p&gt;See &lt;a href="second"&gt;next&lt;/a&gt; &lt;img src="/i.png"&gt;&lt;/p&gt;</content>
  </entry>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Second <b>one</b></div></title>
    <id>tag:old.example,2020:second</id>
    <updated>2020-04-03T10:00:00Z</updated>
    <author><name>Juliet</name></author>
    <content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hi <a href="/x">x</a> &amp; caf&#233;</p></div></content>
    <thr:in-reply-to ref="tag:old.example,2020:first" href="posts/first"/>
  </entry>
  <entry>
    <title>No id, no date</title>
    <content>plain text body</content>
  </entry>
</feed>`;

test('an Atom blog is read with its ids, dates, authors, categories and links; relative URLs resolved through xml:base', () => {
  const feed = parseFeedForImport(ATOM, { feedUrl: 'https://old.example/blog/atom.xml', now: NOW });
  assert.equal(feed.format, 'atom');
  assert.equal(feed.title, 'Old Blog');
  assert.equal(feed.homeUrl, 'https://old.example/blog/');
  assert.equal(feed.posts.length, 3);
  const [first, second, third] = feed.posts;
  assert.deepEqual(first, {
    id: 'tag:old.example,2020:first', title: { type: 'text', value: 'First & foremost' },
    contents: [{ type: 'html', value: '<p>See <a href="https://old.example/blog/posts/second">next</a> <img src="https://old.example/i.png"></p>' }],
    summary: { type: 'text', value: 'Short' },
    published: '2020-04-01T10:00:00+02:00', updated: '2020-04-02T10:00:00Z',
    authors: [{ name: 'Romeo', uri: 'https://old.example/' }], contributors: [],
    categories: [{ term: 'xmpp', label: 'XMPP' }],
    links: [{ rel: 'via', href: 'https://old.example/blog/posts/first', type: 'text/html' }, { rel: 'enclosure', href: 'https://old.example/blog/media/a.mp3', type: 'audio/mpeg', length: 1234 }],
    inReplyTo: [], lang: 'it',
  });
  assert.deepEqual(second.title, { type: 'xhtml', value: 'Second <b>one</b>' });
  assert.deepEqual(second.contents, [{ type: 'html', value: '<p>Hi <a href="https://old.example/x">x</a> &amp; café</p>' }]);
  assert.deepEqual(second.authors, [{ name: 'Juliet' }]);
  assert.equal(second.published, '2020-04-03T10:00:00Z');
  assert.deepEqual(second.inReplyTo, [{ ref: 'tag:old.example,2020:first', href: 'https://old.example/blog/posts/first' }]);
  assert.match(third.id, /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(third.updated, '2020-05-01T00:00:00Z', 'the feed\'s date when the entry has none');
  assert.deepEqual(third.contents, [{ type: 'text', value: 'plain text body' }]);
  assert.equal(feed.warnings.length, 2);
  assert.match(feed.warnings[0], /"No id, no date": its id is missing; it is now urn:uuid:/);
  assert.match(feed.warnings[1], /"No id, no date": no date; it is dated 2020-05-01T00:00:00Z/);
  // Every imported post makes a valid entry.
  for (const post of feed.posts) parseEntry(buildEntry(post), { requireTextWithXhtml: false, requireComplete: true });
});

const RSS = `<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Caf&eacute; &amp; Notes&nbsp;</title>
  <link>https://old.example/</link>
  <description>d</description>
  <lastBuildDate>Sat, 02 May 2020 08:00:00 GMT</lastBuildDate>
  <item>
    <title>Hello &lt;b&gt;world&lt;/b&gt; &eacute;t&eacute;</title>
    <link>/2020/hello</link>
    <guid isPermaLink="true">/2020/hello</guid>
    <pubDate>Fri, 01 May 2020 09:30:00 +0200</pubDate>
    <author>romeo@old.example (Romeo M.)</author>
    <category domain="https://old.example/tags">verse</category>
    <description>&lt;p&gt;Teaser &lt;a href="more"&gt;more&lt;/a&gt;&lt;/p&gt;</description>
    <content:encoded><![CDATA[<p>Full <img src="img/a.png" alt="a"> text&nbsp;here</p><script>alert(1)</script>]]></content:encoded>
    <enclosure url="/media/a.mp3" length="0" type="audio/mpeg"/>
  </item>
  <item>
    <title>Guid that is not a URL</title>
    <guid isPermaLink="false">post-42</guid>
    <dc:date>2020-04-30T10:00:00Z</dc:date>
    <dc:creator>Juliet</dc:creator>
    <description>Plain &amp; simple, with &lt;em&gt;HTML&lt;/em&gt;</description>
  </item>
  <item>
    <title>Nothing at all</title>
  </item>
</channel>
</rss>`;

test('an RSS blog is read despite its DOCTYPE and HTML entities, with guids, dates, authors and resolved links', () => {
  const feed = parseFeedForImport(RSS, { feedUrl: 'https://old.example/feed.rss', now: NOW });
  assert.equal(feed.format, 'rss');
  assert.equal(feed.title, 'Café & Notes');
  assert.equal(feed.homeUrl, 'https://old.example/');
  const [hello, guid, nothing] = feed.posts;
  assert.equal(hello.id, 'https://old.example/2020/hello');
  assert.deepEqual(hello.title, { type: 'text', value: 'Hello world été' });
  assert.equal(hello.published, '2020-05-01T07:30:00Z');
  assert.equal(hello.updated, '2020-05-01T07:30:00Z');
  assert.deepEqual(hello.authors, [{ name: 'Romeo M.', email: 'romeo@old.example' }]);
  assert.deepEqual(hello.categories, [{ term: 'verse', scheme: 'https://old.example/tags' }]);
  assert.deepEqual(hello.contents, [{ type: 'html', value: '<p>Full <img src="https://old.example/2020/img/a.png" alt="a"> text&nbsp;here</p><script>alert(1)</script>' }], 'content:encoded wins; sanitizing comes later');
  assert.deepEqual(hello.summary, { type: 'html', value: '<p>Teaser <a href="https://old.example/2020/more">more</a></p>' });
  assert.deepEqual(hello.links, [{ rel: 'via', href: 'https://old.example/2020/hello', type: 'text/html' }, { rel: 'enclosure', href: 'https://old.example/media/a.mp3', type: 'audio/mpeg' }]);
  assert.equal(guid.id, nameUuid('https://old.example/#post-42'));
  assert.equal(guid.published, '2020-04-30T10:00:00Z');
  assert.deepEqual(guid.authors, [{ name: 'Juliet' }]);
  assert.deepEqual(guid.contents, [{ type: 'html', value: 'Plain &amp; simple, with <em>HTML</em>' }]);
  assert.equal(nothing.updated, '2020-05-02T08:00:00Z');
  assert.deepEqual(nothing.contents, []);
  assert.equal(feed.warnings.length, 2, JSON.stringify(feed.warnings));
  // Valid entries; an item without an author gets the importing account from normalizeEntry().
  for (const post of feed.posts) parseEntry(buildEntry(post));
});

test('RSS 1.0 items beside the channel are found', () => {
  const feed = parseFeedForImport(`<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
    <channel rdf:about="https://old.example/"><title>R</title><link>https://old.example/</link></channel>
    <item rdf:about="https://old.example/1"><title>One</title><link>https://old.example/1</link><dc:date>2020-01-01T00:00:00Z</dc:date></item>
  </rdf:RDF>`, { now: NOW });
  assert.equal(feed.title, 'R');
  assert.deepEqual(feed.posts.map((p) => [p.id, p.title.value, p.published]), [['https://old.example/1', 'One', '2020-01-01T00:00:00Z']]);
});

test('Quire\'s own feeds import back with their ids and dates', () => {
  const blog = testBlog();
  const posts = [testPost('a', { published: '2026-12-01T10:00:00+01:00', updated: '2026-12-02T10:00:00Z', categories: [{ term: 'x' }] })];
  for (const text of [atomFeed(blog, posts), rssFeed(blog, posts)]) {
    const [post] = parseFeedForImport(text, { now: NOW }).posts;
    assert.equal(post.id, posts[0].id);
    assert.equal(post.title.value, 'Post a');
    assert.deepEqual(post.categories.map((c) => c.term), ['x']);
    assert.deepEqual(post.links.filter((l) => l.rel === 'via').map((l) => l.href), ['https://montague.lit/blog/romeo/a']);
  }
});

test('what is not a feed is refused with a hint', () => {
  assert.throws(() => parseFeedForImport('<!DOCTYPE html><html><head><title>x</title></head></html>'), (err: unknown) => err instanceof ImportError && /HTML page, not a feed/.test(err.message));
  assert.throws(() => parseFeedForImport('{"version": "https://jsonfeed.org/version/1.1"}'), /holds no XML element/);
  assert.throws(() => parseFeedForImport('<opml/>'), /<opml> is neither an Atom <feed> nor an RSS <rss>/);
});

test('imported posts get stable, readable ItemIDs; relative URLs in HTML resolve', () => {
  const post = testPost('x', { id: 'https://old.example/2020/hello', title: { type: 'text', value: 'Été à Vérone: a “story”!' } });
  assert.match(importItemId(post), /^ete-a-verone-a-story-[0-9a-f]{10}$/);
  assert.equal(importItemId(post), importItemId({ ...post }));
  assert.notEqual(importItemId(post), importItemId({ ...post, id: 'https://old.example/other' }));
  assert.match(importItemId({ ...post, title: { type: 'text', value: '日本' } }), /^[0-9a-f]{10}$/);
  // RFC 9562 Appendix A.4: the DNS namespace and www.example.com.
  assert.equal(nameUuid('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), 'urn:uuid:2ed6657d-e927-568b-95e1-2665a8aea6a2');
  assert.equal(resolveHtmlUrls('<a href="a">a</a><a href="#f">f</a><a href="mailto:x@y">m</a>', 'https://x.example/b/'), '<a href="https://x.example/b/a">a</a><a href="#f">f</a><a href="mailto:x@y">m</a>');
  assert.equal(resolveHtmlUrls('<p>a &lt; b</p>', undefined), '<p>a &lt; b</p>');
});
