// `quire publish import` as a real process: from a file with the server stopped (through the engine started by the
// command), and from a URL (a local HTTP server stands in for the old blog) into a running server over AtomPub,
// where a subscribed XMPP client hears each post at once. Dates and ids are kept; a second run changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFeed } from '@rowanmanning/feed-parser';
import { connectClient, startTestServer } from './helpers/server.js';
import { NS_EVENT, collect, roundTrip, subscribe, xml } from './helpers/pubsub.js';
import { ATOM, MICROBLOG, PUBLISHING_MODULES } from './helpers/blog.js';

const cli = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

function quire(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }));
  });
}

const ATOM_FEED = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="${ATOM}">
  <title>Old Garden Blog</title>
  <id>https://old.example/</id>
  <updated>2019-05-02T09:00:00Z</updated>
  <link href="https://old.example/"/>
  <author><name>Alice</name></author>
  <entry>
    <title>Second spring</title>
    <id>https://old.example/2019/second-spring</id>
    <link href="https://old.example/2019/second-spring"/>
    <published>2019-05-02T09:00:00Z</published>
    <updated>2019-05-03T10:00:00Z</updated>
    <content type="html">&lt;p&gt;See &lt;a href="/2018/first-spring"&gt;last year&lt;/a&gt;.&lt;/p&gt;</content>
    <category term="garden"/>
  </entry>
  <entry>
    <title>First spring</title>
    <id>https://old.example/2018/first-spring</id>
    <link href="https://old.example/2018/first-spring"/>
    <published>2018-04-01T08:00:00+02:00</published>
    <updated>2018-04-01T08:00:00+02:00</updated>
    <content type="html">&lt;p&gt;Tulips!&lt;/p&gt;</content>
  </entry>
</feed>`;

const RSS_FEED = `<?xml version="1.0"?>
<rss version="2.0"><channel>
  <title>Bob's Notes</title><link>https://bob.example/</link><description>Notes</description>
  <item><title>On ferries</title><link>https://bob.example/ferries</link><guid>https://bob.example/ferries</guid>
    <pubDate>Tue, 10 Mar 2020 12:00:00 GMT</pubDate><description>&lt;p&gt;Slow and good.&lt;/p&gt;</description></item>
  <item><title>On trains</title><link>https://bob.example/trains</link><guid>https://bob.example/trains</guid>
    <pubDate>Mon, 09 Mar 2020 12:00:00 GMT</pubDate><description>&lt;p&gt;Fast.&lt;/p&gt;</description></item>
</channel></rss>`;

test('import from a file with the server stopped: posts keep their ids and dates, a second run changes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-publish-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(config, `hosts: [localhost]\ndata_dir: data\n${PUBLISHING_MODULES}\n`);
  writeFileSync(join(dir, 'feed.xml'), ATOM_FEED);
  const c = ['--config', config];
  assert.equal((await quire(['user', 'add', 'alice@localhost', '--password', 'secret-password', ...c])).code, 0);

  const dry = await quire(['publish', 'import', 'alice@localhost', join(dir, 'feed.xml'), '--dry-run', ...c]);
  assert.equal(dry.code, 0, dry.stderr);
  assert.match(dry.stdout, /^first-spring-[0-9a-f]{10}\t2018-04-01T08:00:00\+02:00\tFirst spring\nsecond-spring-[0-9a-f]{10}\t2019-05-02T09:00:00Z\tSecond spring\ndry run: 2 posts from "Old Garden Blog" \(atom\) would go to alice@localhost\/urn:xmpp:microblog:0\n$/);

  const first = await quire(['publish', 'import', 'alice@localhost', join(dir, 'feed.xml'), ...c]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'imported 2 posts from "Old Garden Blog" into alice@localhost/urn:xmpp:microblog:0: 2 new, 0 updated, 0 unchanged\n');
  // Not a terminal: one plain progress line per post.
  assert.match(first.stderr, /^1\/2 created: First spring\n2\/2 created: Second spring\n$/);
  const again = await quire(['publish', 'import', 'alice@localhost', join(dir, 'feed.xml'), ...c]);
  assert.equal(again.stdout, 'imported 2 posts from "Old Garden Blog" into alice@localhost/urn:xmpp:microblog:0: 0 new, 0 updated, 2 unchanged\n');
  const missing = await quire(['publish', 'import', 'alice@localhost', join(dir, 'nope.xml'), ...c]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.xml/);

  const server = await startTestServer({ modules: PUBLISHING_MODULES, dataDir: join(dir, 'data') });
  try {
    const blog = `http://127.0.0.1:${server.httpPort}/blog/alice@localhost/`;
    const feed = parseFeed(await (await fetch(`${blog}feed.atom`)).text());
    assert.deepEqual(feed.items.map((i) => [i.title, i.id, i.published?.toISOString()]), [
      ['Second spring', 'https://old.example/2019/second-spring', '2019-05-02T09:00:00.000Z'],
      ['First spring', 'https://old.example/2018/first-spring', '2018-04-01T06:00:00.000Z'],
    ]);
    assert.equal(feed.items[0].updated?.toISOString(), '2019-05-03T10:00:00.000Z');
    const page = await (await fetch(feed.items[0].url!)).text();
    // The relative link was resolved against the old blog; the original page is kept as a via link.
    assert.match(page, /<a href="https:\/\/old\.example\/2018\/first-spring"[^>]*>last year<\/a>/);
  } finally {
    await server.stop({ keepData: true });
  }
});

test('import from a URL into a running server over AtomPub: a subscribed XMPP client hears each post at once', async (t) => {
  const feedServer = createServer((req, res) => {
    if (req.url !== '/feed.rss') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(RSS_FEED);
  });
  await new Promise<void>((done) => feedServer.listen(0, '127.0.0.1', done));
  t.after(() => feedServer.close());
  const feedUrl = `http://127.0.0.1:${(feedServer.address() as AddressInfo).port}/feed.rss`;
  const server = await startTestServer({ modules: PUBLISHING_MODULES });
  t.after(() => server.stop());
  await server.createUser('bob');
  await server.createUser('carol');
  const { token } = await server.running.server.tokens.create('localhost', 'bob', { label: 'import', scope: 'write', nodes: [MICROBLOG] });
  const carol = await connectClient(server, 'carol');
  t.after(() => carol.stop());
  await carol.send(xml('presence'));
  await roundTrip(carol);
  const dir = mkdtempSync(join(tmpdir(), 'quire-cli-publish-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const config = join(dir, 'quire.yaml');
  writeFileSync(config, 'hosts: [localhost]\n');
  const site = `http://127.0.0.1:${server.httpPort}`;

  // The first post creates Bob's blog (open, as over AtomPub); Carol subscribes once it exists.
  const first = await quire(['publish', 'import', 'bob@localhost', feedUrl, '--server', site, '--token', token, '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(first.stdout, 'imported 2 posts from "Bob\'s Notes" into bob@localhost/urn:xmpp:microblog:0: 2 new, 0 updated, 0 unchanged\n');
  await subscribe(carol, 'bob@localhost', MICROBLOG, 'carol@localhost');
  const heard = collect(carol, (s) => s.is('message') && s.getChild('event', NS_EVENT) !== undefined);
  const changed = RSS_FEED.replace('Slow and good.', 'Slow, and very good.');
  const server2 = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(changed));
  await new Promise<void>((done) => server2.listen(0, '127.0.0.1', done));
  t.after(() => server2.close());
  const second = await quire(['publish', 'import', 'bob@localhost', `http://127.0.0.1:${(server2.address() as AddressInfo).port}/feed.rss`, '--server', site, '--token', token, '--config', config]);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, 'imported 2 posts from "Bob\'s Notes" into bob@localhost/urn:xmpp:microblog:0: 0 new, 1 updated, 1 unchanged\n');
  await roundTrip(carol);
  await server.settle(() => roundTrip(carol));
  assert.equal(heard.length, 1, heard.map((s) => s.toString()).join('\n'));
  const entry = heard[0].getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.getChild('entry', ATOM)!;
  assert.equal(entry.getChildText('title'), 'On ferries');
  assert.equal(entry.getChildText('id'), 'https://bob.example/ferries');
  const page = await (await fetch(`${site}/blog/bob@localhost/`)).text();
  assert.match(page, /Slow, and very good\./);
  assert.ok(page.indexOf('On ferries') < page.indexOf('On trains'));
});
