// Item history: republishing an item id keeps the previous revision (up to the node's
// {urn:quire:history:0}max_revisions), listed and fetched over HTTP; PEP nodes keep none unless asked. And a restart on
// the same data folder keeps everything: items, ETags, history, usage and the change log behind the event streams.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NODE_CONFIG, NS_OWNER, PUBSUB, fields, form, iq, owner, publish, pubsub, result, roundTrip, xml } from './helpers/pubsub.js';
import { STORAGE_MODULES, SseReader, basic, storageUrl } from './helpers/http.js';

const HISTORY = '{urn:quire:history:0}max_revisions';

describe('Storage: item history, and a restart', () => {
  let server: TestServer;
  let alice: XmppClient;
  const url = (...segments: string[]) => storageUrl(server, ...segments);
  const json = () => ({ ...basic('alice'), 'content-type': 'application/json' });

  before(async () => {
    server = await startTestServer({ modules: STORAGE_MODULES });
    await server.createUser('alice');
    alice = await connectClient(server, 'alice', undefined, 'desk');
    await alice.send(xml('presence'));
    await roundTrip(alice);
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await server?.stop();
  });

  test('republishing keeps earlier revisions, newest first, whichever face wrote them', async () => {
    assert.equal((await fetch(url(PUBSUB, 'wiki'), { method: 'PUT', headers: json(), body: '{"access_model": "open"}' })).status, 201);
    const etags: string[] = [];
    for (const text of ['one', 'two', 'three']) {
      const put = await fetch(url(PUBSUB, 'wiki', 'home'), { method: 'PUT', headers: json(), body: JSON.stringify({ text }) });
      etags.push(put.headers.get('etag')!);
    }
    await publish(alice, PUBSUB, 'wiki', xml('page', { xmlns: 'urn:example:wiki' }, 'four'), 'home');
    const current = await fetch(url(PUBSUB, 'wiki', 'home'));
    etags.push(current.headers.get('etag')!);
    assert.equal(current.headers.get('link'), `<http://127.0.0.1:${server.httpPort}/storage/pubsub.localhost/wiki/home/revisions>; rel="version-history"`);
    const history = await (await fetch(url(PUBSUB, 'wiki', 'home', 'revisions'))).json();
    assert.equal(history.max_revisions, 10);
    assert.deepEqual(history.revisions.map((r: { etag: string }) => r.etag), [...etags].reverse());
    assert.deepEqual(history.revisions.map((r: { current: boolean }) => r.current), [true, false, false, false]);
    assert.equal(history.revisions[0].xml, '<page xmlns="urn:example:wiki">four</page>');
    assert.deepEqual(history.revisions[3].json, { text: 'one' });
    // One earlier revision, as GET of the item gave it then.
    const rev = etags[1].slice(1, -1);
    const old = await fetch(url(PUBSUB, 'wiki', 'home', 'revisions', rev));
    assert.equal(old.status, 200);
    assert.equal(old.headers.get('etag'), etags[1]);
    assert.equal(old.headers.get('link'), `<http://127.0.0.1:${server.httpPort}/storage/pubsub.localhost/wiki/home>; rel="latest-version"`);
    assert.deepEqual(await old.json(), { text: 'two' });
    assert.equal((await fetch(url(PUBSUB, 'wiki', 'home', 'revisions', 'no-such-rev'))).status, 404);
    const asXml = await (await fetch(url(PUBSUB, 'wiki', 'home', 'revisions'), { headers: { accept: 'application/xml' } })).text();
    assert.match(asXml, /^<revisions service="pubsub.localhost" node="wiki" item="home" max-revisions="10" xmlns="urn:quire:storage:0"><revision id="home" etag="[^"]+" published="[^"]+" publisher="alice@localhost" rev="[^"]+" current="true" href="[^"]+"><page xmlns="urn:example:wiki">four<\/page><\/revision>/);
  });

  test('max_revisions bounds the history; lowering it applies at the next publish; a retraction takes the history with it', async () => {
    const put = (text: string) => fetch(url(PUBSUB, 'wiki', 'home'), { method: 'PUT', headers: json(), body: JSON.stringify({ text }) });
    assert.equal((await fetch(url(PUBSUB, 'wiki'), { method: 'PUT', headers: json(), body: '{"max_revisions": 2}' })).status, 204);
    await put('five');
    const history = await (await fetch(url(PUBSUB, 'wiki', 'home', 'revisions'))).json();
    assert.deepEqual(history.revisions.map((r: { json?: { text: string }; xml?: string }) => r.json?.text ?? r.xml), ['five', '<page xmlns="urn:example:wiki">four</page>', 'three']);
    assert.equal((await fetch(url(PUBSUB, 'wiki', 'home'), { method: 'DELETE', headers: basic('alice') })).status, 204);
    assert.equal((await fetch(url(PUBSUB, 'wiki', 'home', 'revisions'))).status, 404);
    await put('again');
    assert.equal((await (await fetch(url(PUBSUB, 'wiki', 'home', 'revisions'))).json()).revisions.length, 1);
  });

  test('the history field is in the XMPP configuration forms; PEP nodes keep no history unless asked', async () => {
    const pubsubDefault = fields(result(await iq(alice, 'get', PUBSUB, owner(xml('default'))))!.getChild('default')!.getChild('x'));
    assert.deepEqual(pubsubDefault.get(HISTORY)?.values, ['10']);
    assert.equal(pubsubDefault.get(HISTORY)?.type, 'text-single');
    const pepDefault = fields(result(await iq(alice, 'get', 'alice@localhost', owner(xml('default'))))!.getChild('default')!.getChild('x'));
    assert.deepEqual(pepDefault.get(HISTORY)?.values, ['0']);
    // An avatar-like node republished over XMPP grows no history.
    for (const n of ['a', 'b', 'c']) await publish(alice, 'alice@localhost', 'urn:example:status', xml('status', { xmlns: 'urn:example:status' }, n), 'current');
    const pep = await (await fetch(url('alice@localhost', 'urn:example:status', 'current', 'revisions'), { headers: basic('alice') })).json();
    assert.equal(pep.revisions.length, 1);
    assert.equal(pep.max_revisions, 0);
    // Asked for over XMPP, a PEP node keeps some.
    result(await iq(alice, 'set', 'alice@localhost', xml('pubsub', { xmlns: NS_OWNER }, xml('configure', { node: 'urn:example:status' }, form(NODE_CONFIG, { [HISTORY]: '5' })))));
    await publish(alice, 'alice@localhost', 'urn:example:status', xml('status', { xmlns: 'urn:example:status' }, 'd'), 'current');
    assert.equal((await (await fetch(url('alice@localhost', 'urn:example:status', 'current', 'revisions'), { headers: basic('alice') })).json()).revisions.length, 2);
    // Above the service's maximum: refused as any invalid value is (not-acceptable).
    const tooMany = await iq(alice, 'set', 'alice@localhost', xml('pubsub', { xmlns: NS_OWNER }, xml('configure', { node: 'urn:example:status' }, form(NODE_CONFIG, { [HISTORY]: '1000' }))));
    assert.equal(tooMany.attrs.type, 'error');
    assert.equal(tooMany.getChild('error')?.getChild('not-acceptable') !== undefined, true);
    // The history of a node that is not readable is not either.
    assert.equal((await fetch(url('alice@localhost', 'urn:example:status', 'current', 'revisions'))).status, 401);
  });

  test('a restart on the same data folder keeps items, ETags, history, usage and the change log', async () => {
    const stream = await SseReader.open(url(PUBSUB, 'wiki', 'events'));
    const before = await stream.lastId();
    stream.close();
    // A change the reader will have missed, made before the restart.
    const put = await fetch(url(PUBSUB, 'wiki', 'kept'), { method: 'PUT', headers: json(), body: '{"v": 1}' });
    await fetch(url(PUBSUB, 'wiki', 'kept'), { method: 'PUT', headers: json(), body: '{"v": 2}' });
    const etag = (await fetch(url(PUBSUB, 'wiki', 'kept'))).headers.get('etag');
    const history = await (await fetch(url(PUBSUB, 'wiki', 'kept', 'revisions'))).json();
    const usage = (await (await fetch(url('alice@localhost'), { headers: basic('alice') })).json()).usage;
    assert.equal(put.status, 201);
    await alice.stop();
    // A stream still open does not hold the server up: stopping ends it.
    const open = await SseReader.open(url(PUBSUB, 'wiki', 'events'));
    await server.stop({ keepData: true });
    await open.ending();

    server = await startTestServer({ modules: STORAGE_MODULES, dataDir: server.dataDir });
    alice = await connectClient(server, 'alice', undefined, 'desk');
    const got = await fetch(url(PUBSUB, 'wiki', 'kept'));
    assert.deepEqual(await got.json(), { v: 2 });
    assert.equal(got.headers.get('etag'), etag);
    // The same revisions (their URLs name the new port).
    const withoutUrls = (h: { revisions: Record<string, unknown>[] }) => h.revisions.map(({ url: _url, ...rest }) => rest);
    assert.deepEqual(withoutUrls(await (await fetch(url(PUBSUB, 'wiki', 'kept', 'revisions'))).json()), withoutUrls(history));
    assert.deepEqual((await (await fetch(url('alice@localhost'), { headers: basic('alice') })).json()).usage, usage);
    // The reader resumes across the restart and gets both changes, in order.
    const resumed = await SseReader.open(url(PUBSUB, 'wiki', 'events'), { 'last-event-id': before });
    const events = await resumed.count(2);
    assert.deepEqual(events.map((e) => [e.event, JSON.parse(e.data).item]), [['published', 'kept'], ['published', 'kept']]);
    assert.equal(JSON.parse(events[1].data).etag, etag);
    // And live events after the restart have larger ids.
    await fetch(url(PUBSUB, 'wiki', 'kept'), { method: 'PUT', headers: json(), body: '{"v": 3}' });
    const live = await resumed.next((e) => e.event === 'published', 2);
    assert.ok(BigInt(live.id!) > BigInt(events[1].id!));
    resumed.close();
    // The XMPP face sees the same item.
    const items = result(await iq(alice, 'get', PUBSUB, pubsub(xml('items', { node: 'wiki' }, xml('item', { id: 'kept' })))))!.getChild('items')!;
    assert.equal(items.getChild('item')?.getChild('json')?.text(), '{"v": 3}');
  });
});
