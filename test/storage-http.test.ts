// The Storage API and XMPP on one store: a document written over HTTP reaches XMPP subscribers with the same id, an
// XMPP publish shows up over HTTP with the same id and ETag, and both faces apply the same access rules. A real
// XMPP client (@xmpp/client) and a real HTTP client (fetch) talk to one server in each test.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_EVENT, PUBSUB, iq, nextEvent, owner, publish, pubsub, result, roundTrip, subscribe, xml, type X } from './helpers/pubsub.js';
import { STORAGE_MODULES, SseReader, basic, storageUrl } from './helpers/http.js';

const NS_JSON = 'urn:xmpp:json:0';
const ATOM = 'http://www.w3.org/2005/Atom';

describe('Storage API: one store, two faces', () => {
  let server: TestServer;
  let alice: XmppClient;
  let bob: XmppClient;
  const url = (...segments: string[]) => storageUrl(server, ...segments);

  before(async () => {
    server = await startTestServer({ modules: STORAGE_MODULES });
    for (const user of ['alice', 'bob', 'carol']) await server.createUser(user);
    alice = await connectClient(server, 'alice', undefined, 'desk');
    bob = await connectClient(server, 'bob', undefined, 'phone');
    for (const c of [alice, bob]) await c.send(xml('presence'));
    await Promise.all([alice, bob].map(roundTrip));
  });

  after(async () => {
    await Promise.allSettled([alice, bob].map((c) => c?.stop()));
    await server?.stop();
  });

  test('a PUT over HTTP reaches the XMPP subscriber with the same item id, payload and a matching ETag', async () => {
    const created = await fetch(url(PUBSUB, 'notes'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ access_model: 'open', title: 'Notes' }) });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('location'), `http://127.0.0.1:${server.httpPort}/storage/pubsub.localhost/notes`);
    await subscribe(bob, PUBSUB, 'notes', 'bob@localhost');
    const event = nextEvent(bob, 'notes');
    const put = await fetch(url(PUBSUB, 'notes', 'first'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: '{"text": "hello", "done": false}' });
    assert.equal(put.status, 201);
    const etag = put.headers.get('etag');
    assert.match(etag ?? '', /^"[A-Za-z0-9_-]{16}"$/);
    const item = (await event).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'first');
    assert.equal(item.getChild('json', NS_JSON)?.text(), '{"text": "hello", "done": false}');
    // Anyone reads an open node, and gets the JSON as it was written, with the same ETag.
    const got = await fetch(url(PUBSUB, 'notes', 'first'));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(got.headers.get('etag'), etag);
    assert.equal(got.headers.get('vary'), 'Accept');
    assert.deepEqual(await got.json(), { text: 'hello', done: false });
    // The XMPP face has it too.
    const items = result(await iq(bob, 'get', PUBSUB, pubsub(xml('items', { node: 'notes' }))))!.getChild('items')!;
    assert.deepEqual(items.getChildren('item').map((i) => i.attrs.id), ['first']);
  });

  test('an XMPP publish shows up over HTTP with the same id and ETag, in XML as it was published', async () => {
    await publish(alice, PUBSUB, 'notes', xml('entry', { xmlns: ATOM }, xml('title', {}, 'From XMPP')), 'x1');
    const got = await fetch(url(PUBSUB, 'notes', 'x1'));
    assert.equal(got.status, 200);
    assert.equal(got.headers.get('content-type'), 'application/xml; charset=utf-8');
    assert.equal(await got.text(), '<entry xmlns="http://www.w3.org/2005/Atom"><title>From XMPP</title></entry>');
    const listing = await (await fetch(url(PUBSUB, 'notes'))).json();
    assert.deepEqual(listing.items.map((i: { id: string }) => i.id), ['x1', 'first']);
    assert.equal(listing.items[0].etag, got.headers.get('etag'));
    assert.equal(listing.items[0].xml, '<entry xmlns="http://www.w3.org/2005/Atom"><title>From XMPP</title></entry>');
    assert.deepEqual(listing.items[1].json, { text: 'hello', done: false });
    // pubsub.<host> nodes name the publisher (itemreply publisher, as notifications do).
    assert.equal(listing.items[0].publisher, 'alice@localhost');
    // Asked for XML, the listing is XML with the payloads in it.
    const asXml = await fetch(url(PUBSUB, 'notes'), { headers: { accept: 'application/xml' } });
    const text = await asXml.text();
    assert.match(text, /^<items service="pubsub.localhost" node="notes" order="newest" count="2" complete="true" last-event-id="\d+" xmlns="urn:quire:storage:0"><item id="x1" etag="&quot;[^"]+&quot;" published="[^"]+" publisher="alice@localhost" href="[^"]+"><entry xmlns="http:\/\/www.w3.org\/2005\/Atom"><title>From XMPP<\/title><\/entry><\/item><item id="first"/);
  });

  test('content negotiation: a JSON item as its XEP-0335 container on request; an XML item never as JSON (406)', async () => {
    const container = await fetch(url(PUBSUB, 'notes', 'first'), { headers: { accept: 'application/xml' } });
    assert.equal(await container.text(), '<json xmlns="urn:xmpp:json:0">{"text": "hello", "done": false}</json>');
    const refused = await fetch(url(PUBSUB, 'notes', 'x1'), { headers: { accept: 'application/json' } });
    assert.equal(refused.status, 406);
    assert.equal((await refused.json()).error, 'not-acceptable');
    const either = await fetch(url(PUBSUB, 'notes', 'x1'), { headers: { accept: 'application/json, application/xml;q=0.5' } });
    assert.equal(either.headers.get('content-type'), 'application/xml; charset=utf-8');
  });

  test('POST makes up an id: 201 with Location and ETag; the new item is there', async () => {
    const posted = await fetch(url(PUBSUB, 'notes'), { method: 'POST', headers: { ...basic('alice'), 'content-type': 'application/xml' }, body: `<?xml version="1.0" encoding="UTF-8"?>\n<note xmlns="urn:example:notes">posted</note>` });
    assert.equal(posted.status, 201);
    const body = await posted.json();
    assert.equal(posted.headers.get('location'), body.url);
    assert.equal(posted.headers.get('etag'), body.etag);
    const got = await fetch(body.url);
    assert.equal(await got.text(), '<note xmlns="urn:example:notes">posted</note>');
    assert.equal(got.headers.get('etag'), body.etag);
  });

  test('conditional requests: If-None-Match: * creates only, If-Match needs the current ETag, 304 for a known one', async () => {
    const headers = { ...basic('alice'), 'content-type': 'application/json' };
    const current = (await fetch(url(PUBSUB, 'notes', 'first'))).headers.get('etag')!;
    assert.equal((await fetch(url(PUBSUB, 'notes', 'first'), { method: 'PUT', headers: { ...headers, 'if-none-match': '*' }, body: '{"v": 0}' })).status, 412);
    const stale = await fetch(url(PUBSUB, 'notes', 'first'), { method: 'PUT', headers: { ...headers, 'if-match': '"not-it"' }, body: '{"v": 1}' });
    assert.equal(stale.status, 412);
    assert.equal((await stale.json()).error, 'precondition-failed');
    const updated = await fetch(url(PUBSUB, 'notes', 'first'), { method: 'PUT', headers: { ...headers, 'if-match': current }, body: '{"v": 2}' });
    assert.equal(updated.status, 204);
    const next = updated.headers.get('etag')!;
    assert.notEqual(next, current);
    const cached = await fetch(url(PUBSUB, 'notes', 'first'), { headers: { 'if-none-match': next } });
    assert.equal(cached.status, 304);
    assert.equal((await fetch(url(PUBSUB, 'notes', 'first'), { method: 'DELETE', headers: { ...basic('alice'), 'if-match': current } })).status, 412);
    // An If-Match write to a node that does not exist fails without creating it.
    assert.equal((await fetch(url(PUBSUB, 'nowhere', 'x'), { method: 'PUT', headers: { ...headers, 'if-match': current }, body: '{}' })).status, 412);
    assert.equal((await fetch(url(PUBSUB, 'nowhere'), { headers: basic('alice') })).status, 404);
    // Creating with If-None-Match: * works once.
    assert.equal((await fetch(url(PUBSUB, 'notes', 'once'), { method: 'PUT', headers: { ...headers, 'if-none-match': '*' }, body: '[1]' })).status, 201);
    assert.equal((await fetch(url(PUBSUB, 'notes', 'once'), { method: 'PUT', headers: { ...headers, 'if-none-match': '*' }, body: '[2]' })).status, 412);
  });

  test('a DELETE over HTTP is a retraction for XMPP subscribers; the item is gone on both faces', async () => {
    const event = nextEvent(bob, 'notes');
    const deleted = await fetch(url(PUBSUB, 'notes', 'once'), { method: 'DELETE', headers: basic('alice') });
    assert.equal(deleted.status, 204);
    const retract = (await event).getChild('event', NS_EVENT)!.getChild('items')!.getChild('retract');
    assert.equal(retract?.attrs.id, 'once');
    assert.equal((await fetch(url(PUBSUB, 'notes', 'once'))).status, 404);
    assert.equal((await fetch(url(PUBSUB, 'notes', 'once'), { method: 'DELETE', headers: basic('alice') })).status, 404);
  });

  test('access: an open node is readable anonymously; a whitelist node only by its owner and members', async () => {
    const json = { ...basic('alice'), 'content-type': 'application/json' };
    assert.equal((await fetch(url('alice@localhost', 'diary'), { method: 'PUT', headers: json, body: '{"access_model": "whitelist"}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'diary', 'd1'), { method: 'PUT', headers: json, body: '{"mood": "fine"}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'public'), { method: 'PUT', headers: json, body: '{"access_model": "open"}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'public', 'p1'), { method: 'PUT', headers: json, body: '{"hello": "world"}' })).status, 201);
    assert.equal((await fetch(url('alice@localhost', 'public', 'p1'))).status, 200);
    // Anonymous: 401 with a challenge, the same for a node that exists and one that does not.
    for (const path of [url('alice@localhost', 'diary'), url('alice@localhost', 'diary', 'd1'), url('alice@localhost', 'nothing-here'), url('alice@localhost', 'diary', 'events')]) {
      const anonymous = await fetch(path);
      assert.equal(anonymous.status, 401, path);
      assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm="Quire"/);
    }
    // Bob is neither owner nor member: what XMPP would tell him (XEP-0060 §6.5.9.?: not-allowed, closed-node).
    const bobReads = await fetch(url('alice@localhost', 'diary', 'd1'), { headers: basic('bob') });
    assert.equal(bobReads.status, 403);
    assert.match((await bobReads.json()).text, /closed-node/);
    assert.equal((await fetch(url('alice@localhost', 'nothing-here'), { headers: basic('bob') })).status, 404);
    // Alice makes bob a member over XMPP; now he reads, carol still does not.
    result(await iq(alice, 'set', 'alice@localhost', owner(xml('affiliations', { node: 'diary' }, xml('affiliation', { jid: 'bob@localhost', affiliation: 'member' })))));
    assert.deepEqual(await (await fetch(url('alice@localhost', 'diary', 'd1'), { headers: basic('bob') })).json(), { mood: 'fine' });
    assert.equal((await fetch(url('alice@localhost', 'diary', 'd1'), { headers: basic('carol') })).status, 403);
    assert.equal((await fetch(url('alice@localhost', 'diary', 'd1'), { headers: basic('alice') })).status, 200);
    // Members read; they do not write.
    assert.equal((await fetch(url('alice@localhost', 'diary', 'd2'), { method: 'PUT', headers: { ...basic('bob'), 'content-type': 'application/json' }, body: '{}' })).status, 403);
    // The overview lists what the requester may see.
    const anonymousView = await (await fetch(url('alice@localhost'))).json();
    assert.deepEqual(anonymousView.nodes.map((n: { node: string }) => n.node), ['public']);
    assert.equal(anonymousView.usage, undefined);
    const own = await (await fetch(url('alice@localhost'), { headers: basic('alice') })).json();
    assert.deepEqual(own.nodes.map((n: { node: string }) => n.node), ['diary', 'public']);
    // Bytes are those of the stored payloads, XEP-0335 containers as XMPP clients see them.
    const bytes = ['{"mood": "fine"}', '{"hello": "world"}'].reduce((n, j) => n + Buffer.byteLength(`<json xmlns="urn:xmpp:json:0">${j}</json>`), 0);
    assert.deepEqual(own.usage, { items: 2, bytes, revisions: 0 });
    assert.deepEqual(own.limits, { bytes: 104857600, items: 100000 });
  });

  test('writes need credentials; wrong ones are refused; a password over plain HTTP from this machine is fine', async () => {
    const anonymous = await fetch(url('alice@localhost', 'public', 'p2'), { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);
    const wrong = await fetch(url('alice@localhost', 'public', 'p2'), { method: 'PUT', headers: { ...basic('alice', 'nope'), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(wrong.status, 401);
    // Over the TLS listener (how a password travels from anywhere but this machine).
    const overTls = await fetch(`https://127.0.0.1:${server.httpsPort}/storage/alice@localhost/public/p2`, { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: '{"tls": true}' });
    assert.equal(overTls.status, 201);
    assert.equal(overTls.headers.get('location'), `https://127.0.0.1:${server.httpsPort}/storage/alice@localhost/public/p2`);
    // Someone else's PEP service: only its account publishes there (XEP-0163 §3).
    const bobWrites = await fetch(url('alice@localhost', 'public', 'p3'), { method: 'PUT', headers: { ...basic('bob'), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(bobWrites.status, 403);
  });

  test('bad bodies: 400 or 415 with a text that says why', async () => {
    const put = (type: string, body: string) => fetch(url(PUBSUB, 'notes', 'bad'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': type }, body });
    const cases: [string, string, number, RegExp][] = [
      ['application/xml', '<!DOCTYPE x><x xmlns="urn:x"/>', 400, /doctype/i],
      ['application/xml', '<x xmlns="urn:x"/><y xmlns="urn:x"/>', 400, /exactly one element/],
      ['application/xml', 'text <x xmlns="urn:x"/>', 400, /one element/],
      ['application/xml', '<x/>', 400, /namespace/],
      ['application/xml', '<x xmlns="urn:x"><!-- no --></x>', 400, /comments/],
      ['application/xml', '<x xmlns="urn:x">', 400, /not acceptable/],
      ['application/json', '42', 400, /object or an array/],
      ['application/json', '{"a": ', 400, /not JSON/],
      ['text/plain', 'hello', 415, /application\/xml/],
    ];
    for (const [type, body, status, text] of cases) {
      const answer = await put(type, body);
      assert.equal(answer.status, status, `${type} ${body}`);
      assert.match((await answer.json()).text, text, `${type} ${body}`);
    }
  });

  test('max_payload_size is the same limit on both faces: 413 over HTTP', async () => {
    result(await iq(alice, 'set', PUBSUB, owner(xml('configure', { node: 'notes' }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' }, xml('field', { var: 'pubsub#max_payload_size' }, xml('value', {}, '100')))))));
    const big = await fetch(url(PUBSUB, 'notes', 'big'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: JSON.stringify({ text: 'x'.repeat(200) }) });
    assert.equal(big.status, 413);
    assert.match((await big.json()).text, /payload-too-big/);
  });

  test('paging: newest first by default, `before`/`after` cursors, a next link and a complete flag', async () => {
    const json = { ...basic('alice'), 'content-type': 'application/json' };
    await fetch(url(PUBSUB, 'pages'), { method: 'PUT', headers: json, body: '{"access_model": "open", "max_items": 100}' });
    for (let i = 1; i <= 5; i++) assert.equal((await fetch(url(PUBSUB, 'pages', `p${i}`), { method: 'PUT', headers: json, body: `{"n": ${i}}` })).status, 201);
    const first = await fetch(url(PUBSUB, 'pages') + '?limit=2');
    const page1 = await first.json();
    assert.deepEqual(page1.items.map((i: { id: string }) => i.id), ['p5', 'p4']);
    assert.equal(page1.complete, false);
    assert.equal(page1.count, 5);
    assert.equal(first.headers.get('link'), `<${page1.next}>; rel="next"`);
    const page2 = await (await fetch(page1.next)).json();
    assert.deepEqual(page2.items.map((i: { id: string }) => i.id), ['p3', 'p2']);
    const page3 = await (await fetch(page2.next)).json();
    assert.deepEqual(page3.items.map((i: { id: string }) => i.id), ['p1']);
    assert.equal(page3.complete, true);
    assert.equal(page3.next, null);
    const oldest = await (await fetch(url(PUBSUB, 'pages') + '?order=oldest&limit=3')).json();
    assert.deepEqual(oldest.items.map((i: { id: string }) => i.id), ['p1', 'p2', 'p3']);
    const rest = await (await fetch(oldest.next)).json();
    assert.deepEqual(rest.items.map((i: { id: string }) => i.id), ['p4', 'p5']);
    assert.equal(rest.complete, true);
    const newer = await (await fetch(url(PUBSUB, 'pages') + '?after=p2')).json();
    assert.deepEqual(newer.items.map((i: { id: string }) => i.id), ['p5', 'p4', 'p3']);
    const byId = await (await fetch(url(PUBSUB, 'pages') + '?id=p2&id=p4')).json();
    assert.deepEqual(byId.items.map((i: { id: string }) => i.id).sort(), ['p2', 'p4']);
    assert.equal((await fetch(url(PUBSUB, 'pages') + '?after=nope')).status, 400);
    assert.equal((await fetch(url(PUBSUB, 'pages') + '?limit=0')).status, 400);
    // ?q= lists the items whose text holds the words (the JSON text of these: n and the number).
    const search = await fetch(url(PUBSUB, 'pages') + '?q=3');
    assert.equal(search.status, 200);
    assert.deepEqual((await search.json()).items.map((i: { id: string }) => i.id), ['p3']);
    assert.deepEqual((await (await fetch(url(PUBSUB, 'pages') + '?q=hello')).json()).items, []);
  });

  test('node management: the owner sees and changes the configuration; deleting the node tells XMPP subscribers', async () => {
    const json = { ...basic('alice'), 'content-type': 'application/json' };
    const view = await (await fetch(url(PUBSUB, 'pages'), { headers: basic('alice') })).json();
    assert.equal(view.config.access_model, 'open');
    assert.equal(view.config.max_items, 100);
    assert.equal(view.config.max_revisions, 10);
    assert.equal(view.config.deliver_payloads, true);
    assert.equal((await (await fetch(url(PUBSUB, 'pages'))).json()).config, undefined);
    assert.equal((await fetch(url(PUBSUB, 'pages'), { method: 'PUT', headers: json, body: '{"title": "Pages", "max_revisions": 3}' })).status, 204);
    // The XMPP configuration form says the same, the history field included.
    const form = result(await iq(alice, 'get', PUBSUB, owner(xml('configure', { node: 'pages' }))))!.getChild('configure')!.getChild('x')!;
    const value = (name: string) => form.getChildren('field').find((f: X) => f.attrs.var === name)?.getChildText('value');
    assert.equal(value('pubsub#title'), 'Pages');
    assert.equal(value('{urn:quire:history:0}max_revisions'), '3');
    const typo = await fetch(url(PUBSUB, 'pages'), { method: 'PUT', headers: json, body: '{"acess_model": "open"}' });
    assert.equal(typo.status, 400);
    assert.match((await typo.json()).text, /acess_model/);
    assert.equal((await fetch(url(PUBSUB, 'pages'), { method: 'PUT', headers: { ...json, 'if-none-match': '*' }, body: '{}' })).status, 412);
    // Someone else may read but not configure or delete.
    assert.equal((await fetch(url(PUBSUB, 'pages'), { method: 'PUT', headers: { ...basic('bob'), 'content-type': 'application/json' }, body: '{"title": "mine"}' })).status, 403);
    assert.equal((await fetch(url(PUBSUB, 'pages'), { method: 'PUT', headers: basic('bob') })).status, 403);
    assert.equal((await fetch(url(PUBSUB, 'pages'), { method: 'DELETE', headers: basic('bob') })).status, 403);
    await subscribe(bob, PUBSUB, 'pages', 'bob@localhost');
    const event = nextStanza(bob, (s) => s.getChild('event', NS_EVENT)?.getChild('delete') !== undefined);
    assert.equal((await fetch(url(PUBSUB, 'pages'), { method: 'DELETE', headers: basic('alice') })).status, 204);
    assert.equal((await event).getChild('event', NS_EVENT)!.getChild('delete')?.attrs.node, 'pages');
    assert.equal((await fetch(url(PUBSUB, 'pages'), { headers: basic('alice') })).status, 404);
    // The XMPP face agrees.
    const reply = await iq(alice, 'get', PUBSUB, pubsub(xml('items', { node: 'pages' })));
    assert.equal(reply.attrs.type, 'error');
  });

  test('HTTP semantics: 405 with Allow, 404 for what this server does not serve, HEAD', async () => {
    const patch = await fetch(url(PUBSUB, 'notes', 'x1'), { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get('allow'), 'GET, HEAD, PUT, DELETE, OPTIONS');
    const putEvents = await fetch(url(PUBSUB, 'notes', 'events'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: '{}' });
    assert.equal(putEvents.status, 405);
    assert.equal(putEvents.headers.get('allow'), 'GET, OPTIONS');
    assert.equal((await fetch(url('pubsub.elsewhere.example'))).status, 404);
    assert.equal((await fetch(url('nobody@localhost'), { headers: basic('alice') })).status, 404);
    const head = await fetch(url(PUBSUB, 'notes', 'x1'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.ok(head.headers.get('etag'));
  });

  test('CORS: a page on another origin may call the API with the headers it needs (cors_origins, default any)', async () => {
    const preflight = await fetch(url(PUBSUB, 'notes', 'x1'), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'PUT', 'access-control-request-headers': 'authorization, content-type, if-match' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.equal(preflight.headers.get('access-control-allow-methods'), 'GET, HEAD, PUT, DELETE, OPTIONS');
    assert.equal(preflight.headers.get('access-control-allow-headers'), 'Authorization, Content-Type, If-Match, If-None-Match, Last-Event-ID');
    const got = await fetch(url(PUBSUB, 'notes', 'x1'), { headers: { origin: 'https://app.example' } });
    assert.equal(got.headers.get('access-control-allow-origin'), '*');
    assert.match(got.headers.get('access-control-expose-headers') ?? '', /ETag/);
    const refused = await fetch(url(PUBSUB, 'notes', 'nothing'), { headers: { origin: 'https://app.example' } });
    assert.equal(refused.status, 404);
    assert.equal(refused.headers.get('access-control-allow-origin'), '*');
    const stream = await SseReader.open(url(PUBSUB, 'notes', 'events'), { origin: 'https://app.example' });
    assert.equal(stream.response.headers.get('access-control-allow-origin'), '*');
    stream.close();
    // Without an Origin, no CORS headers.
    assert.equal((await fetch(url(PUBSUB, 'notes', 'x1'))).headers.get('access-control-allow-origin'), null);
  });
});
