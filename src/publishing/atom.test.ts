// Entries as XEP-0277 and XEP-0472 clients publish them: read, checked, normalized, built back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredXml } from '../core/roster.js';
import { EntryError, parseEntry, readEntry } from './atom-read.js';
import { buildEntry } from './atom-build.js';
import { commentsNodeName, entryTagUri, normalizeEntry, type NormalizeContext } from './normalize.js';
import { NODE_MICROBLOG, NS_ATOM, type Post } from './post.js';
import { SERIES_SCHEME } from './series.js';

const ATOM = `xmlns='${NS_ATOM}'`;

function entry(body: string, extra = ''): ReturnType<typeof parseStoredXml> {
  return parseStoredXml(`<entry ${ATOM} ${extra}>${body}</entry>`);
}

function problemsOf(body: string, extra = '', options = {}): string[] {
  try {
    parseEntry(entry(body, extra), options);
    return [];
  } catch (err) {
    assert.ok(err instanceof EntryError);
    assert.equal(err.code, 'invalid-entry');
    assert.equal(err.message, err.problems.join('; '));
    return [...err.problems];
  }
}

// XEP-0277 §publish and §geotagging, §comments, §categories; XEP-0472 §reply.
const ROMEO = `
  <title type='text'>hanging out at the Caf&#233; Napolitano</title>
  <id>tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db</id>
  <published>2008-05-08T18:30:02Z</published>
  <updated>2008-05-08T18:30:02Z</updated>`;

test('an XEP-0277 post is read into a typed post', () => {
  const post = parseEntry(entry(`${ROMEO}
    <author><name>Romeo Montague</name><uri>xmpp:romeo@montague.lit</uri></author>
    <content type='text'>Is lost in the forest.</content>
    <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>Is <em>lost</em><br/>in the forest.</p></div></content>
    <summary>lost</summary>
    <category term='humour'/><category term='xmpp' scheme='https://tags.example/' label='XMPP'/>
    <link rel='replies' title='comments' href='xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fdd88'/>
    <link rel='enclosure' href='https://capulet.lit/upload/romeo.jpg' type='image/jpeg' title='Romeo Portrait' length='12345'/>
    <link href='https://montague.lit/romeo/1' type='text/html'/>
    <link rel='via' href='xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1' ref='tag:montague.lit,2008:1'/>
    <geoloc xmlns='http://jabber.org/protocol/geoloc'><lat>48.171761</lat><lon>-3.3667986</lon></geoloc>
    <generator uri='https://capu.chat' version='42'>CapuChat</generator>`, "xml:lang='en'"), { itemId: '1cb57d9c' });
  assert.equal(post.itemId, '1cb57d9c');
  assert.equal(post.id, 'tag:montague.lit,2008-05-08:posts-1cb57d9c-1c46-11dd-838c-001143d5d5db');
  assert.deepEqual(post.title, { type: 'text', value: 'hanging out at the Café Napolitano' });
  assert.equal(post.published, '2008-05-08T18:30:02Z');
  assert.equal(post.updated, '2008-05-08T18:30:02Z');
  assert.equal(post.lang, 'en');
  assert.deepEqual(post.authors, [{ name: 'Romeo Montague', uri: 'xmpp:romeo@montague.lit' }]);
  assert.deepEqual(post.contents, [{ type: 'text', value: 'Is lost in the forest.' }, { type: 'xhtml', value: '<p>Is <em>lost</em><br>in the forest.</p>' }]);
  assert.deepEqual(post.summary, { type: 'text', value: 'lost' });
  assert.deepEqual(post.categories, [{ term: 'humour' }, { term: 'xmpp', scheme: 'https://tags.example/', label: 'XMPP' }]);
  assert.deepEqual(post.links, [
    { rel: 'replies', title: 'comments', href: 'xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fdd88' },
    { rel: 'enclosure', href: 'https://capulet.lit/upload/romeo.jpg', type: 'image/jpeg', title: 'Romeo Portrait', length: 12345 },
    { rel: 'alternate', href: 'https://montague.lit/romeo/1', type: 'text/html' },
    { rel: 'via', href: 'xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1', ref: 'tag:montague.lit,2008:1' },
  ]);
  assert.equal(post.geoloc?.toString(), '<geoloc xmlns="http://jabber.org/protocol/geoloc"><lat>48.171761</lat><lon>-3.3667986</lon></geoloc>');
  assert.equal(post.series, undefined);
});

test('replies carry thr:in-reply-to (RFC 4685 §3), links thr:count (§4); an xhtml title is kept as HTML', () => {
  const post = parseEntry(entry(`
    <title type='xhtml'><div xmlns="http://www.w3.org/1999/xhtml"><p>hanging out at the <strong>Caf&#233;</strong></p></div></title>
    <thr:in-reply-to ref='tag:montague.lit,2008-05-08:posts-1' type='application/xhtml+xml' href='http://montague.lit/romeo/posts/1'/>
    <thr:in-reply-to ref='tag:montague.lit,2008-05-08:posts-1' href='xmpp:news.montague.lit?;
        node=montague-family;item=1'/>
    <link rel='replies' href='https://montague.lit/romeo/posts/1/replies.atom' thr:count='5' thr:updated='2008-05-08T18:31:21Z'/>`, "xmlns:thr='http://purl.org/syndication/thread/1.0'"));
  assert.deepEqual(post.title, { type: 'xhtml', value: '<p>hanging out at the <strong>Café</strong></p>' });
  assert.deepEqual(post.inReplyTo, [
    { ref: 'tag:montague.lit,2008-05-08:posts-1', type: 'application/xhtml+xml', href: 'http://montague.lit/romeo/posts/1' },
    { ref: 'tag:montague.lit,2008-05-08:posts-1', href: 'xmpp:news.montague.lit?;node=montague-family;item=1' },
  ]);
  assert.deepEqual(post.links, [{ rel: 'replies', href: 'https://montague.lit/romeo/posts/1/replies.atom', count: 5, updated: '2008-05-08T18:31:21Z' }]);
});

test('XHTML that would confuse an HTML parser is written with explicit end tags', () => {
  const post = parseEntry(entry(`<title>t</title><content type='text'>x</content>
    <content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p xml:lang='fr' onclick='x()'/><script/><p>after</p><h:b xmlns:h='http://www.w3.org/1999/xhtml'>b</h:b></div></content>`));
  assert.equal(post.contents[1].value, '<p lang="fr" onclick="x()"></p><script></script><p>after</p><b>b</b>');
});

test('every rule an entry breaks is named, with its section', () => {
  const problems = problemsOf(`
    <id>not an iri</id><id>tag:x,2008:2</id>
    <updated>2008-05-08 18:30:02</updated>
    <published>2008-05-08T18:30:02z</published>
    <author><uri>xmpp:romeo@montague.lit</uri></author>
    <category label='no term'/>
    <link rel='enclosure'/>
    <link rel='enclosure' href='https://x.example/a' length='big'/>
    <link rel='replies' title='comments' href='https://montague.lit/comments'/>
    <content type='image/png'>iVBOR</content>
    <content type='bogus'>x</content>
    <summary>a</summary><summary>b</summary>
    <thr:in-reply-to xmlns:thr='http://purl.org/syndication/thread/1.0' href='xmpp:x'/>`);
  const expected = [
    /exactly one <id\/> \(RFC 4287 §4.1.2\), found 2/,
    /<id>not an iri<\/id> must be an absolute IRI .*RFC 4287 §4.2.6/,
    /needs a <title\/> \(RFC 4287 §4.1.2, XEP-0277 §publish\)/,
    /<updated>2008-05-08 18:30:02<\/updated> is not an RFC 3339 date-time such as 2008-05-08T18:30:02Z/,
    /<published>2008-05-08T18:30:02z<\/published> is not an RFC 3339 date-time/,
    /<author\/> needs exactly one <name\/> \(RFC 4287 §3.2.1\)/,
    /<category\/> needs a term \(RFC 4287 §4.2.2.1\)/,
    /<link\/> needs an href \(RFC 4287 §4.2.7.1\)/,
    /<link length='big'\/> must be a number of octets \(RFC 4287 §4.2.7.6\)/,
    /comments link .* must point to an xmpp: URI .*'https:\/\/montague.lit\/comments' \(XEP-0277 §comments\)/,
    /<content type='image\/png'\/>: Quire accepts inline content of type text, html, xhtml or text\/\*/,
    /<content type='bogus'\/>: a content type is text, html, xhtml or a media type \(RFC 4287 §4.1.3.1\)/,
    /at most one <summary\/> \(RFC 4287 §4.1.2\), found 2/,
    /<thr:in-reply-to\/> needs a ref, .*\(RFC 4685 §3\)/,
  ];
  for (const pattern of expected) assert.ok(problems.some((p) => pattern.test(p)), `${pattern} not in ${JSON.stringify(problems, null, 1)}`);
  assert.equal(problems.length, expected.length, JSON.stringify(problems, null, 1));
});

test('the payload must be an Atom entry', () => {
  const reading = readEntry(parseStoredXml("<entry xmlns='urn:other'><title>x</title></entry>"));
  assert.deepEqual(reading.problems, [`the payload must be an <entry xmlns='${NS_ATOM}'/> (XEP-0277 §publish, RFC 4287 §4.1.2), not <entry xmlns='urn:other'/>`]);
});

test('XEP-0277: an xhtml content needs a text content beside it, unless the caller lets the server add it', () => {
  const body = `<title>t</title><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>x</p></div></content>`;
  assert.deepEqual(problemsOf(body), ['an xhtml <content/> needs a text <content/> beside it, for clients that show text only (XEP-0277 §publish)']);
  assert.deepEqual(problemsOf(body, '', { requireTextWithXhtml: false }), []);
  assert.deepEqual(problemsOf(`<title>t</title><content type='xhtml'>loose text<div xmlns='http://www.w3.org/1999/xhtml'/></content>`, '', { requireTextWithXhtml: false }),
    [`<content type='xhtml'> must hold exactly one <div xmlns='http://www.w3.org/1999/xhtml'/> (RFC 4287 §4.1.3.3)`]);
  assert.match(problemsOf(`<title>t</title><content>a</content><content type='text'>b</content>`)[0], /at most one <content type='text'\/>/);
});

test('an entry needs some text; out-of-line content needs a summary; alternate links are unique per type', () => {
  assert.deepEqual(problemsOf('<title/>'), ['an entry needs some text: a non-empty <title/> or a <content/> (XEP-0277 §publish)']);
  assert.deepEqual(problemsOf(`<title/><content type='text'>body</content>`), []);
  assert.deepEqual(problemsOf(`<title>t</title><content type='video/mp4' src='https://x.example/v.mp4'/>`), ['an entry whose <content/> has a src needs a <summary/> (RFC 4287 §4.1.2)']);
  assert.match(problemsOf(`<title>t</title><link href='https://a.example/1' type='text/html'/><link rel='alternate' href='https://a.example/2' type='text/html'/>`)[0], /at most one alternate link per type and hreflang/);
  assert.deepEqual(problemsOf(`<title>t</title><link href='https://a.example/1' type='text/html'/><link href='https://a.example/fr' type='text/html' hreflang='fr'/>`), []);
});

test('what the server fills in is missing, not wrong; requireComplete makes it wrong', () => {
  const reading = readEntry(entry('<title>t</title>'));
  assert.deepEqual(reading.problems, []);
  assert.deepEqual(reading.missing, ['id', 'updated', 'published', 'author']);
  assert.deepEqual(problemsOf('<title>t</title>', '', { requireComplete: true }), ['the entry has no <id/> (RFC 4287 §4.1.2)', 'the entry has no <updated/> (RFC 4287 §4.1.2)', 'the entry has no <author/> (RFC 4287 §4.1.2)']);
});

test('a series category becomes the series membership, not a tag', () => {
  const post = parseEntry(entry(`<title>Chapter 3</title>
    <category term='the-tempest' scheme='${SERIES_SCHEME}' label='The Tempest' xmlns:q='${SERIES_SCHEME}' q:position='3'/>
    <category term='plays'/>`));
  assert.deepEqual(post.series, { id: 'the-tempest', title: 'The Tempest', position: 3 });
  assert.deepEqual(post.categories, [{ term: 'plays' }]);
  assert.deepEqual(parseEntry(entry(`<title>c</title><category term='w' scheme='${SERIES_SCHEME}' position='3'/>`)).series, { id: 'w' }, 'a position outside the namespace is not the series position');
  const problems = problemsOf(`<title>c</title><category term='a b' scheme='${SERIES_SCHEME}'/><category term='w' scheme='${SERIES_SCHEME}' xmlns:q='${SERIES_SCHEME}' q:position='0'/><category term='v' scheme='${SERIES_SCHEME}'/>`);
  assert.equal(problems.length, 3, JSON.stringify(problems));
  assert.match(problems[0], /term 'a b' must be one path segment/);
  assert.match(problems[1], /series position '0' must be a whole number from 1/);
  assert.match(problems[2], /at most one series; it names 'w' and 'v'/);
});

const CONTEXT: NormalizeContext = {
  service: 'romeo@montague.lit',
  node: NODE_MICROBLOG,
  itemId: '1cb57d9c',
  publisher: { jid: 'romeo@montague.lit', name: 'Romeo Montague' },
  now: new Date(Date.UTC(2026, 11, 4, 20, 0, 0)),
  webUrl: (item) => `https://montague.lit/blog/romeo/${item}`,
  comments: { service: 'pubsub.montague.lit', node: commentsNodeName(NODE_MICROBLOG, '1cb57d9c') },
};

test('normalizing a bare entry adds id, dates, author, the alternate links, the comments link and a text content', () => {
  const { entry: out, post, filled, commentsLinkAdded, textContentAdded } = normalizeEntry(
    entry(`<title>Hello</title><content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>Hello <b>world</b></p><p>again</p></div></content><x xmlns='urn:ext'>kept</x>`), CONTEXT);
  assert.deepEqual(filled, ['updated', 'published', 'id', 'author']);
  assert.equal(commentsLinkAdded, true);
  assert.equal(textContentAdded, true);
  assert.equal(out.toString(), `<entry xmlns="${NS_ATOM}"><title>Hello</title><content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml"><p>Hello <b>world</b></p><p>again</p></div></content><x xmlns="urn:ext">kept</x>`
    + '<updated>2026-12-04T20:00:00Z</updated><published>2026-12-04T20:00:00Z</published>'
    + '<id>tag:romeo@montague.lit,2026-12-04:posts/1cb57d9c</id>'
    + '<author><name>Romeo Montague</name><uri>xmpp:romeo@montague.lit</uri></author>'
    + '<link rel="alternate" href="https://montague.lit/blog/romeo/1cb57d9c" type="text/html"/>'
    + '<link rel="alternate" href="xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c"/>'
    + '<link rel="replies" href="xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2F1cb57d9c" title="comments"/>'
    + '<content type="text">Hello world\n\nagain</content></entry>');
  // The result is a valid entry by XEP-0277's rules too.
  assert.deepEqual(parseEntry(parseStoredXml(out.toString()), { itemId: '1cb57d9c' }), post);
  assert.equal(post.itemId, '1cb57d9c');
});

test('normalizing keeps what the client gave, replaces its alternate links, and keeps a repeat\'s author and comments link', () => {
  const { entry: out, filled, commentsLinkAdded } = normalizeEntry(entry(`${ROMEO}
    <author><name>Romeo Montague</name><uri>xmpp:romeo@montague.lit</uri></author>
    <link rel='alternate' href='xmpp:elsewhere@montague.lit?;node=x;item=y'/>
    <link rel='alternate' type='text/html' href='https://stale.example/1'/>
    <link rel='alternate' type='application/pdf' href='https://montague.lit/1.pdf'/>
    <link rel='replies' title='comments' href='xmpp:pubsub.montague.lit?;node=original'/>`), { ...CONTEXT, service: 'benvolio@montague.lit', publisher: { jid: 'benvolio@montague.lit' } });
  assert.deepEqual(filled, []);
  assert.equal(commentsLinkAdded, false);
  const post = parseEntry(out);
  assert.deepEqual(post.authors, [{ name: 'Romeo Montague', uri: 'xmpp:romeo@montague.lit' }]);
  assert.equal(post.published, '2008-05-08T18:30:02Z');
  assert.deepEqual(post.links.map((l) => `${l.rel} ${l.type ?? ''} ${l.href}`), [
    'alternate application/pdf https://montague.lit/1.pdf',
    'replies  xmpp:pubsub.montague.lit?;node=original',
    'alternate text/html https://montague.lit/blog/romeo/1cb57d9c',
    'alternate  xmpp:benvolio@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c',
  ]);
});

test('a re-publish keeps the id and publication date of the version it replaces; a private node gets no web link', () => {
  const previous = parseEntry(entry(ROMEO));
  const { post, filled } = normalizeEntry(entry(`<title>edited</title><updated>2026-12-04T19:00:00Z</updated>`), { ...CONTEXT, previous, webUrl: () => undefined, comments: undefined });
  assert.deepEqual(filled, ['published', 'id', 'author']);
  assert.equal(post.id, previous.id);
  assert.equal(post.published, previous.published);
  assert.equal(post.updated, '2026-12-04T19:00:00Z');
  assert.deepEqual(post.links.map((l) => l.href), ['xmpp:romeo@montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0;item=1cb57d9c']);
  // A new post whose client gave only updated is published then.
  assert.equal(normalizeEntry(entry(`<title>t</title><updated>2026-12-01T10:00:00+01:00</updated>`), CONTEXT).post.published, '2026-12-01T10:00:00+01:00');
});

test('normalizing refuses an invalid entry', () => {
  assert.throws(() => normalizeEntry(entry('<title>t</title><updated>soon</updated>'), CONTEXT), EntryError);
});

test('tag: ids follow RFC 4151 for PEP accounts and services', () => {
  const date = new Date(Date.UTC(2008, 4, 8));
  assert.equal(entryTagUri('romeo@montague.lit', NODE_MICROBLOG, 'a b', date), 'tag:romeo@montague.lit,2008-05-08:posts/a%20b');
  assert.equal(entryTagUri('news.montague.lit', 'montague-family', '1', date), 'tag:news.montague.lit,2008-05-08:montague-family/1');
  assert.equal(entryTagUri('ro+meo@montague.lit', 'urn:x:y', '1', date), 'tag:montague.lit,2008-05-08:ro%2Bmeo/urn:x:y/1');
});

test('a post built from scratch reads back the same', () => {
  const post: Post = {
    id: 'tag:montague.lit,2026:1', title: { type: 'text', value: 'A <b> & "quotes"' }, updated: '2026-12-04T20:00:00Z', published: '2026-12-04T19:00:00Z', lang: 'en',
    contents: [{ type: 'text', value: 'plain & <simple>' }, { type: 'xhtml', value: '<p>rich<br>text &amp; <img src="https://x.example/a.png" alt="a"></p>' }],
    summary: { type: 'html', value: '<p>sum</p>' },
    authors: [{ name: 'Romeo', uri: 'xmpp:romeo@montague.lit', email: 'romeo@montague.lit' }], contributors: [{ name: 'Juliet' }],
    categories: [{ term: 'xmpp', label: 'XMPP', scheme: 'https://tags.example/' }],
    links: [{ rel: 'enclosure', href: 'https://x.example/a.mp3', type: 'audio/mpeg', length: 1000, title: 'Audio' }, { rel: 'replies', href: 'https://x.example/r', count: 2, updated: '2026-12-04T20:00:00Z' }],
    inReplyTo: [{ ref: 'tag:x,2026:0', href: 'https://x.example/0' }],
    rights: { type: 'text', value: 'CC BY 4.0' },
    series: { id: 'the-tempest', title: 'The Tempest', position: 2 },
  };
  const element = buildEntry(post);
  const back = parseEntry(parseStoredXml(element.toString()));
  assert.deepEqual(back, post);
});

test('an entry written with a prefix gets its additions in the Atom namespace', () => {
  const prefixed = parseStoredXml(`<a:entry xmlns:a='${NS_ATOM}' xmlns='urn:other'><a:title>t</a:title><a:content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'><p>x</p></div></a:content></a:entry>`);
  const { entry: out } = normalizeEntry(prefixed, CONTEXT);
  const post = parseEntry(parseStoredXml(out.toString()), { itemId: '1cb57d9c' });
  assert.equal(post.id, 'tag:romeo@montague.lit,2026-12-04:posts/1cb57d9c');
  assert.deepEqual(post.authors, [{ name: 'Romeo Montague', uri: 'xmpp:romeo@montague.lit' }]);
  assert.equal(post.links.length, 3);
  assert.deepEqual(post.contents.map((c) => c.type), ['xhtml', 'text']);
});
