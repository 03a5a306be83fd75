// Publishing on the web, against a live server: posts published by a real XMPP client (@xmpp/client) are pages,
// feeds (read back by @rowanmanning/feed-parser) and EPUB books (checked by Debian's epubcheck when installed),
// with the HTTP semantics of each (Content-Type with charset, ETag and Last-Modified with 304, the CSP, 404 for
// anything not open); posts written over AtomPub and Micropub reach a subscribed XMPP client at once, normalized.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFeed } from '@rowanmanning/feed-parser';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_EVENT, PUBSUB, iq, nextEvent, publish, pubsub, result, roundTrip, subscribe, xml, type X } from './helpers/pubsub.js';
import { basic, bearer } from './helpers/http.js';
import { ATOM, MICROBLOG, atomEntry, epubcheck, runEpubcheck } from './helpers/blog.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  pubsub:\n  storage:\n  adhoc:\n  app_tokens:\n  microblog:\n  social_feed:\n  blog: { page_size: 2 }';
const OPEN = { 'pubsub#access_model': 'open' };

describe('Publishing on the web: pages, feeds, books, AtomPub and Micropub', () => {
  let server: TestServer;
  let alice: XmppClient;
  let bob: XmppClient;
  let site: string;
  const blog = (path = '') => `${site}/blog/alice@localhost/${path}`;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    site = `http://127.0.0.1:${server.httpPort}`;
    for (const user of ['alice', 'bob', 'carol']) await server.createUser(user);
    alice = await connectClient(server, 'alice', undefined, 'desk');
    bob = await connectClient(server, 'bob', undefined, 'phone');
    for (const c of [alice, bob]) await c.send(xml('presence'));
    await Promise.all([alice, bob].map(roundTrip));
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'On gardens', text: 'Roses and thorns.', categories: ['garden'], published: '2026-01-01T10:00:00Z' }), 'gardens', OPEN);
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'The Tempest, act one', xhtml: '<p>Act <em>one</em>.</p>', series: { id: 'tempest', title: 'The Tempest', position: 1 }, published: '2026-01-02T10:00:00Z' }), 'act-1');
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'The Tempest, act two', text: 'Act two.', series: { id: 'tempest', title: 'The Tempest', position: 2 }, categories: ['garden', 'verse'], published: '2026-01-03T10:00:00Z' }), 'act-2');
    await publish(bob, PUBSUB, 'urn:xmpp:microblog:0:comments/gardens', atomEntry({ title: 'Lovely roses, Alice.' }));
  });

  after(async () => {
    await Promise.allSettled([alice, bob].map((c) => c?.stop()));
    await server?.stop();
  });

  test('the index is HTML with the security headers, validators, feed autodiscovery and the writing endpoints', async () => {
    const res = await fetch(blog());
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'none'/);
    assert.doesNotMatch(res.headers.get('content-security-policy') ?? '', /script-src|unsafe-inline/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    const etag = res.headers.get('etag')!;
    const modified = res.headers.get('last-modified')!;
    assert.match(etag, /^"[\w-]+"$/);
    // The newest atom:updated shown, which the server set when the post was stored.
    assert.match(modified, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    assert.ok(Date.parse(modified) <= Date.now());
    const html = await res.text();
    // Newest first, two per page (page_size: 2).
    assert.ok(html.indexOf('The Tempest, act two') < html.indexOf('The Tempest, act one'));
    assert.doesNotMatch(html, /On gardens/);
    assert.match(html, /<a href="[^"]+\/blog\/alice@localhost\/\?page=2" rel="next">Older posts<\/a>/);
    assert.match(html, /<link rel="alternate" type="application\/atom\+xml" title="[^"]*" href="http:\/\/127\.0\.0\.1:\d+\/blog\/alice@localhost\/feed\.atom">/);
    assert.match(html, /<link rel="micropub" href="[^"]+\/blog\/alice@localhost\/micropub">/);
    assert.match(html, /<link rel="service" type="application\/atomsvc\+xml" href="[^"]+\/blog\/alice@localhost\/atompub">/);
    assert.equal((await fetch(blog(), { headers: { 'if-none-match': etag } })).status, 304);
    assert.equal((await fetch(blog(), { headers: { 'if-modified-since': modified } })).status, 304);
    const second = await (await fetch(blog('?page=2'))).text();
    assert.match(second, /On gardens/);
    assert.equal((await fetch(blog('?page=3'))).status, 404);
    const bare = await fetch(`${site}/blog/alice@localhost`, { redirect: 'manual' });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get('location'), blog());
    const css = await fetch(`${site}/blog/style.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
  });

  test('an article shows its comments and the series navigation; tags, the author and the series have pages', async () => {
    const gardens = await (await fetch(blog('gardens'))).text();
    assert.match(gardens, /<h1>On gardens<\/h1>/);
    assert.match(gardens, /Comments \(1\)/);
    assert.match(gardens, /Lovely roses, Alice\./);
    assert.match(gardens, /<span class="author">bob<\/span>/);
    const act1 = await (await fetch(blog('act-1'))).text();
    assert.match(act1, /Chapter 1 of 2 in <a href="[^"]+\/blog\/alice@localhost\/series\/tempest" rel="index">The Tempest<\/a>/);
    assert.match(act1, /<a href="[^"]+\/blog\/alice@localhost\/act-2" rel="next">The Tempest, act two →<\/a>/);
    assert.match(act1, /Act <em>one<\/em>\./);
    const tag = await (await fetch(blog('tag/garden'))).text();
    assert.match(tag, /Tagged “garden”/);
    assert.match(tag, /The Tempest, act two/);
    assert.match(tag, /<link rel="alternate" type="application\/atom\+xml" title="[^"]*garden \(Atom\)" href="[^"]+\/tag\/garden\/feed\.atom">/);
    assert.match(await (await fetch(blog('author'))).text(), /On XMPP: <a href="xmpp:alice@localhost">alice@localhost<\/a>/);
    assert.match(await (await fetch(blog('series/tempest'))).text(), /2 chapters · <a href="[^"]+series\/tempest\.epub"/);
    for (const missing of ['nope', 'tag/unknown', 'series/unknown', 'post/nope']) {
      const res = await fetch(blog(missing));
      assert.equal(res.status, 404, missing);
      assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.ok(res.headers.get('content-security-policy'));
    }
  });

  test('a blog that is not open is a 404 everywhere, like one that does not exist', async () => {
    await publish(bob, undefined, MICROBLOG, atomEntry({ title: 'For my contacts only' }), 'private');
    for (const path of ['bob@localhost/', 'bob@localhost/private', 'bob@localhost/feed.atom', 'bob@localhost/blog.epub', 'nobody@localhost/', 'carol@localhost/', 'pubsub.localhost/urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fgardens/']) {
      const res = await fetch(`${site}/blog/${path}`);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /For my contacts only/);
    }
  });

  test('a post published over XMPP appears on the page at once, and the validators change', async () => {
    const before = await fetch(blog());
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'Fresh from my client', text: 'Typed in Gajim.', published: '2026-02-01T10:00:00Z' }), 'fresh');
    const after = await fetch(blog(), { headers: { 'if-none-match': before.headers.get('etag')! } });
    assert.equal(after.status, 200);
    assert.match(await after.text(), /Fresh from my client/);
    assert.notEqual(after.headers.get('etag'), before.headers.get('etag'));
    assert.ok(Date.parse(after.headers.get('last-modified')!) >= Date.parse(before.headers.get('last-modified')!));
  });

  test('the feeds read back through an independent parser; Atom entries have exactly one content', async () => {
    const atomRes = await fetch(blog('feed.atom'));
    assert.equal(atomRes.headers.get('content-type'), 'application/atom+xml; charset=utf-8');
    const atomText = await atomRes.text();
    const atom = parseFeed(atomText);
    assert.equal(atom.meta.type, 'atom');
    assert.equal(atom.title, 'alice’s blog');
    assert.equal(atom.self, blog('feed.atom'));
    assert.equal(atom.url, blog());
    const titles = atom.items.map((i) => i.title);
    assert.deepEqual(titles, ['Fresh from my client', 'The Tempest, act two', 'The Tempest, act one', 'On gardens']);
    const gardens = atom.items[3];
    assert.equal(gardens.url, blog('gardens'));
    assert.match(gardens.id ?? '', /^tag:alice@localhost,2026-\d\d-\d\d:posts\/gardens$/);
    assert.equal(gardens.published?.toISOString(), '2026-01-01T10:00:00.000Z');
    assert.ok(gardens.updated);
    for (const entry of atomText.split('<entry').slice(1)) assert.equal(entry.split('</entry>')[0].match(/<content[\s>]/g)?.length, 1);

    const rss = parseFeed(await (await fetch(blog('feed.rss'))).text());
    assert.equal(rss.meta.type, 'rss');
    assert.deepEqual(rss.items.map((i) => i.title), titles);
    assert.equal(rss.items[3].url, blog('gardens'));
    assert.equal(rss.items[3].published?.toISOString(), '2026-01-01T10:00:00.000Z');

    const jsonRes = await fetch(blog('feed.json'));
    assert.equal(jsonRes.headers.get('content-type'), 'application/feed+json; charset=utf-8');
    const json = (await jsonRes.json()) as { version: string; items: { id: string; url: string; title: string; date_published: string }[] };
    assert.equal(json.version, 'https://jsonfeed.org/version/1.1');
    assert.deepEqual(json.items.map((i) => i.title), titles);
    assert.equal(json.items[3].date_published, '2026-01-01T10:00:00Z');

    const tagged = parseFeed(await (await fetch(blog('tag/verse/feed.atom'))).text());
    assert.deepEqual(tagged.items.map((i) => i.title), ['The Tempest, act two']);
  });

  test('the series and the whole blog download as EPUB books that epubcheck accepts', async () => {
    for (const path of ['series/tempest.epub', 'blog.epub']) {
      const res = await fetch(blog(path));
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), 'application/epub+zip');
      assert.match(res.headers.get('content-disposition') ?? '', /^attachment; filename="[\w.-]+\.epub"$/);
      const book = Buffer.from(await res.arrayBuffer());
      assert.equal(book.subarray(30, 38).toString(), 'mimetype');
      const again = await fetch(blog(path), { headers: { 'if-none-match': res.headers.get('etag')! } });
      assert.equal(again.status, 304, 'the same posts make the same book');
      if (epubcheck) {
        const check = await runEpubcheck(book);
        assert.equal(check.code, 0, check.output);
      }
    }
  });

  test('AtomPub: the service document, a POST that reaches the XMPP subscriber normalized, then GET, PUT, DELETE', async () => {
    const { token } = await server.running.server.tokens.create('localhost', 'alice', { label: 'editor', scope: 'write', nodes: [MICROBLOG] });
    const service = await fetch(blog('atompub'), { headers: bearer(token) });
    assert.equal(service.status, 200);
    assert.equal(service.headers.get('content-type'), 'application/atomsvc+xml; charset=utf-8');
    assert.match(await service.text(), new RegExp(`<collection href="${blog('atompub/entries').replace(/[.?]/g, '\\$&')}"><atom:title>Posts</atom:title><accept>application/atom\\+xml;type=entry</accept>`));

    await subscribe(bob, 'alice@localhost', MICROBLOG, 'bob@localhost');
    const heard = nextEvent(bob, MICROBLOG, 'alice@localhost');
    const body = `<entry xmlns="${ATOM}"><title>Written in an editor</title><content type="html">&lt;p&gt;Over &lt;b&gt;AtomPub&lt;/b&gt;.&lt;/p&gt;</content></entry>`;
    const created = await fetch(blog('atompub/entries'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/atom+xml;type=entry', slug: 'Written in an Editor' }, body });
    assert.equal(created.status, 201, await created.clone().text());
    const member = blog('atompub/entries/written-in-an-editor');
    assert.equal(created.headers.get('location'), member);
    assert.equal(created.headers.get('content-type'), 'application/atom+xml;type=entry;charset=utf-8');
    const etag = created.headers.get('etag')!;
    assert.match(await created.text(), new RegExp(`<link rel="edit" href="${member.replace(/[.?]/g, '\\$&')}"/>`));

    const item = (await heard).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'written-in-an-editor');
    const entry = item.getChild('entry', ATOM)!;
    const links = entry.getChildren('link').map((l) => l.attrs);
    assert.ok(links.some((l) => l.rel === 'alternate' && l.type === 'text/html' && l.href === `http://localhost:${server.httpPort}/blog/alice@localhost/written-in-an-editor`), JSON.stringify(links));
    assert.ok(links.some((l) => l.rel === 'alternate' && l.href?.startsWith('xmpp:alice@localhost?;node=')));
    assert.ok(links.some((l) => l.rel === 'replies' && l.title === 'comments'));
    assert.ok(entry.getChildren('content').some((c) => c.attrs.type === 'text' && c.text().includes('Over AtomPub.')));

    const got = await fetch(member, { headers: basic('alice') });
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('etag'), etag);
    assert.equal((await fetch(member, { headers: { ...basic('alice'), 'if-none-match': etag } })).status, 304);
    const edited = `<entry xmlns="${ATOM}"><title>Written in an editor, edited</title></entry>`;
    const stale = await fetch(member, { method: 'PUT', headers: { ...bearer(token), 'content-type': 'application/atom+xml', 'if-match': '"not-it"' }, body: edited });
    assert.equal(stale.status, 412);
    const put = await fetch(member, { method: 'PUT', headers: { ...bearer(token), 'content-type': 'application/atom+xml', 'if-match': etag }, body: edited });
    assert.equal(put.status, 200);
    assert.notEqual(put.headers.get('etag'), etag);
    assert.match(await (await fetch(blog('written-in-an-editor'))).text(), /Written in an editor, edited/);

    const list = await (await fetch(blog('atompub/entries'), { headers: bearer(token) })).text();
    assert.match(list, /Written in an editor, edited/);
    assert.equal((await fetch(member, { method: 'DELETE', headers: bearer(token) })).status, 204);
    assert.equal((await fetch(blog('written-in-an-editor'))).status, 404);
  });

  test('AtomPub refuses anonymous writers, read-only tokens, tokens for other nodes and other accounts, and bad entries', async () => {
    const entry = `<entry xmlns="${ATOM}"><title>x</title></entry>`;
    const post = (headers: Record<string, string>, body = entry, type = 'application/atom+xml') => fetch(blog('atompub/entries'), { method: 'POST', headers: { ...headers, 'content-type': type }, body });
    assert.equal((await post({})).status, 401);
    const reader = await server.running.server.tokens.create('localhost', 'alice', { label: 'reader', scope: 'read', nodes: [] });
    assert.equal((await post(bearer(reader.token))).status, 403);
    const other = await server.running.server.tokens.create('localhost', 'alice', { label: 'notes', scope: 'write', nodes: ['urn:example:notes'] });
    assert.equal((await post(bearer(other.token))).status, 403);
    assert.equal((await post(basic('bob'))).status, 403);
    const bad = await post(basic('alice'), `<entry xmlns="${ATOM}"><title>Bad</title><updated>yesterday</updated></entry>`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { text: string }).text, /is not an RFC 3339 date-time/);
    assert.equal((await post(basic('alice'), 'not xml', 'image/png')).status, 415);
  });

  test('Micropub: q=config, a form-encoded note and a JSON article reach the XMPP subscriber; q=source, update and delete', async () => {
    const { token } = await server.running.server.tokens.create('localhost', 'alice', { label: 'micropub', scope: 'write', nodes: [MICROBLOG] });
    const config = await fetch(blog('micropub?q=config'), { headers: bearer(token) });
    assert.equal(config.status, 200);
    assert.deepEqual(((await config.json()) as { 'syndicate-to': unknown[] })['syndicate-to'], []);

    const heard = nextEvent(bob, MICROBLOG, 'alice@localhost');
    const note = await fetch(blog('micropub'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' }, body: 'h=entry&content=A+note+from+my+phone&category[]=phone&mp-slug=phone-note' });
    assert.equal(note.status, 201);
    assert.equal(note.headers.get('location'), blog('phone-note'));
    const entry = (await heard).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.getChild('entry', ATOM)!;
    assert.equal(entry.getChildText('title'), 'A note from my phone');
    assert.equal(entry.getChild('category')?.attrs.term, 'phone');
    assert.match(await (await fetch(blog('phone-note'))).text(), /A note from my phone/);

    const article = await fetch(blog('micropub'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ type: ['h-entry'], properties: { name: ['An article'], content: [{ html: '<p>With <strong>HTML</strong>.</p>' }] } }) });
    assert.equal(article.status, 201);
    assert.match(await (await fetch(article.headers.get('location')!)).text(), /With <strong>HTML<\/strong>\./);

    // §4.1: the token may come in the form body instead.
    const inBody = await fetch(blog('micropub'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `h=entry&content=Token+in+the+body&mp-slug=in-body&access_token=${encodeURIComponent(token)}` });
    assert.equal(inBody.status, 201);
    assert.equal(inBody.headers.get('location'), blog('in-body'));

    // §3.8 q=source: the post's properties, all or some.
    const source = await fetch(`${blog('micropub')}?q=source&url=${encodeURIComponent(blog('phone-note'))}`, { headers: bearer(token) });
    assert.equal(source.status, 200);
    assert.deepEqual(await source.json(), { type: ['h-entry'], properties: { content: ['A note from my phone'], published: [entry.getChildText('published')], category: ['phone'] } });
    const some = await fetch(`${blog('micropub')}?q=source&properties[]=category&url=${encodeURIComponent(blog('phone-note'))}`, { headers: bearer(token) });
    assert.deepEqual(await some.json(), { properties: { category: ['phone'] } });

    // §3.3 update: replace the text, add a category, remove one; the Atom id and the rest stay.
    const changed = nextEvent(bob, MICROBLOG, 'alice@localhost');
    const update = await fetch(blog('micropub'), {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ action: 'update', url: blog('phone-note'), replace: { content: ['An edited note'] }, add: { category: ['edited'] }, delete: { category: ['phone'] } }),
    });
    assert.equal(update.status, 204, await update.text());
    const edited = (await changed).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.getChild('entry', ATOM)!;
    assert.equal(edited.getChildText('title'), 'An edited note');
    assert.deepEqual(edited.getChildren('category').map((c) => c.attrs.term), ['edited']);
    assert.equal(edited.getChildText('id'), entry.getChildText('id'));
    assert.equal(edited.getChildText('published'), entry.getChildText('published'));
    const missing = await fetch(blog('micropub'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ action: 'update', url: blog('no-such-post'), replace: { content: ['x'] } }) });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error: string }).error, 'invalid_request');

    // §3.4 delete, form-encoded: the post is retracted and its page is gone.
    const retracted = nextEvent(bob, MICROBLOG, 'alice@localhost');
    const removed = await fetch(blog('micropub'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/x-www-form-urlencoded' }, body: `action=delete&url=${encodeURIComponent(blog('phone-note'))}` });
    assert.equal(removed.status, 204);
    assert.equal((await retracted).getChild('event', NS_EVENT)!.getChild('items')!.getChild('retract')?.attrs.id, 'phone-note');
    assert.equal((await fetch(blog('phone-note'))).status, 404);
    const undelete = await fetch(blog('micropub'), { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json' }, body: JSON.stringify({ action: 'undelete', url: blog('phone-note') }) });
    assert.equal(undelete.status, 400);
    assert.equal(((await undelete.json()) as { error: string }).error, 'invalid_request');
    const anonymous = await fetch(blog('micropub'), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'h=entry&content=x' });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { error: string }).error, 'unauthorized');
  });

  test('an open social-feed node of pubsub.localhost is a blog too', async () => {
    await iq(bob, 'set', PUBSUB, pubsub(xml('create', { node: 'bob-news' }), xml('configure', {}, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, 'http://jabber.org/protocol/pubsub#node_config')), xml('field', { var: 'pubsub#type' }, xml('value', {}, 'urn:xmpp:pubsub-social-feed:1')), xml('field', { var: 'pubsub#title' }, xml('value', {}, 'Bob’s news'))))));
    await publish(bob, PUBSUB, 'bob-news', atomEntry({ title: 'Town news', text: 'The market opens.' }), 'market');
    const page = await fetch(`${site}/blog/pubsub.localhost/bob-news/`);
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /Bob’s news/);
    assert.match(html, /<a href="[^"]+\/blog\/pubsub\.localhost\/bob-news\/market">Town news<\/a>/);
    const feed = parseFeed(await (await fetch(`${site}/blog/pubsub.localhost/bob-news/feed.atom`)).text());
    assert.deepEqual(feed.items.map((i) => i.title), ['Town news']);
    const reply: X | undefined = result(await iq(bob, 'get', PUBSUB, pubsub(xml('items', { node: 'bob-news' }))));
    assert.ok(reply);
  });
});
