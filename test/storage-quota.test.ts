// Quotas: what an account keeps in its PEP service (items and their earlier revisions) is bounded in bytes and
// items, checked before a write lands, the same over XMPP (<policy-violation/> with a text) and HTTP (507 with a
// JSON or XML body). Exactly at the limit is fine; one byte over is not.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { PUBSUB, errorText, expectError, iq, pubsub, result, roundTrip, xml } from './helpers/pubsub.js';
import { basic, storageUrl } from './helpers/http.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pep:\n  pubsub:\n  storage: { quota_bytes: 1000, quota_items: 4, default_max_revisions: 0 }';

/** A JSON body whose XEP-0335 container, as stored, is exactly `bytes` long. */
function jsonOfSize(bytes: number): string {
  const text = `["${'j'.repeat(bytes - '<json xmlns="urn:xmpp:json:0"></json>'.length - 4)}"]`;
  assert.equal(Buffer.byteLength(`<json xmlns="urn:xmpp:json:0">${text}</json>`), bytes);
  return text;
}

/** An XML payload that is exactly `bytes` long as stored. */
function xmlOfSize(bytes: number) {
  const payload = xml('n', { xmlns: 'urn:q' }, 'x'.repeat(bytes - '<n xmlns="urn:q"></n>'.length));
  assert.equal(Buffer.byteLength(payload.toString()), bytes);
  return payload;
}

describe('Storage quotas on both faces', () => {
  let server: TestServer;
  let alice: XmppClient;
  const url = (...segments: string[]) => storageUrl(server, ...segments);
  const put = (node: string, id: string, bytes: number, headers: Record<string, string> = {}) =>
    fetch(url('alice@localhost', node, id), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json', ...headers }, body: jsonOfSize(bytes) });
  const publishOver = (node: string, id: string, bytes: number) =>
    iq(alice, 'set', 'alice@localhost', pubsub(xml('publish', { node }, xml('item', { id }, xmlOfSize(bytes)))));
  const usage = async () => (await (await fetch(url('alice@localhost'), { headers: basic('alice') })).json()).usage as { items: number; bytes: number; revisions: number };

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('alice');
    alice = await connectClient(server, 'alice', undefined, 'desk');
    await alice.send(xml('presence'));
    await roundTrip(alice);
    const created = await fetch(url('alice@localhost', 'docs'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: '{"access_model": "whitelist", "max_items": 100}' });
    assert.equal(created.status, 201);
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await server?.stop();
  });

  test('items: the fourth fits, the fifth is refused on both faces; replacing one adds none', async () => {
    for (const id of ['i1', 'i2', 'i3', 'i4']) assert.equal((await put('docs', id, 41)).status, 201);
    const refused = await put('docs', 'i5', 41);
    assert.equal(refused.status, 507);
    assert.deepEqual(await refused.json(), { error: 'quota-exceeded', text: 'storage quota exceeded: alice@localhost may store 4 items; it stores 4' });
    const overXmpp = await publishOver('docs', 'i5', 41);
    expectError(overXmpp, 'modify', 'policy-violation');
    assert.equal(errorText(overXmpp), 'storage quota exceeded: alice@localhost may store 4 items; it stores 4');
    assert.equal((await put('docs', 'i4', 42)).status, 204);
    for (const id of ['i1', 'i2', 'i3', 'i4']) assert.equal((await fetch(url('alice@localhost', 'docs', id), { method: 'DELETE', headers: basic('alice') })).status, 204);
    assert.deepEqual(await usage(), { items: 0, bytes: 0, revisions: 0 });
  });

  test('bytes: exactly at the limit is fine, one byte over is refused, over HTTP and over XMPP', async () => {
    assert.equal((await put('docs', 'a', 500)).status, 201);
    result(await publishOver('docs', 'b', 400));
    assert.equal((await put('docs', 'c', 100)).status, 201);
    assert.deepEqual(await usage(), { items: 3, bytes: 1000, revisions: 0 });
    // Replacing c by one more byte: 1001.
    const over = await put('docs', 'c', 101, { accept: 'application/xml' });
    assert.equal(over.status, 507);
    assert.equal(over.headers.get('content-type'), 'application/xml; charset=utf-8');
    assert.equal(await over.text(), '<error xmlns="urn:quire:http:0" condition="quota-exceeded">storage quota exceeded: alice@localhost may store 1000 bytes; it stores 1000 and this needs 1 more</error>');
    const overXmpp = await publishOver('docs', 'b', 401);
    expectError(overXmpp, 'modify', 'policy-violation');
    assert.match(errorText(overXmpp) ?? '', /may store 1000 bytes; it stores 1000 and this needs 1 more/);
    // The same size again is no change.
    assert.equal((await put('docs', 'c', 100)).status, 204);
    // Freeing space lets the write through.
    assert.equal((await fetch(url('alice@localhost', 'docs', 'a'), { method: 'DELETE', headers: basic('alice') })).status, 204);
    assert.equal((await put('docs', 'c', 101)).status, 204);
    assert.deepEqual(await usage(), { items: 2, bytes: 501, revisions: 0 });
    const overview = await (await fetch(url('alice@localhost'), { headers: basic('alice') })).json();
    assert.deepEqual(overview.limits, { bytes: 1000, items: 4 });
  });

  test('earlier revisions count in bytes: a node that keeps them grows with every republish, within max_revisions', async () => {
    const created = await fetch(url('alice@localhost', 'history'), { method: 'PUT', headers: { ...basic('alice'), 'content-type': 'application/json' }, body: '{"access_model": "whitelist", "max_revisions": 1}' });
    assert.equal(created.status, 201);
    assert.equal((await put('history', 'r', 200)).status, 201);
    assert.deepEqual(await usage(), { items: 3, bytes: 701, revisions: 0 });
    assert.equal((await put('history', 'r', 200)).status, 204);
    assert.deepEqual(await usage(), { items: 3, bytes: 901, revisions: 1 });
    // The oldest revision goes as the newest comes: no growth.
    assert.equal((await put('history', 'r', 200)).status, 204);
    assert.deepEqual(await usage(), { items: 3, bytes: 901, revisions: 1 });
    // 200 more for the kept revision would be over.
    assert.equal((await put('history', 'r', 300)).status, 507);
    // Retracting takes the item and its revisions out of the count.
    assert.equal((await fetch(url('alice@localhost', 'history', 'r'), { method: 'DELETE', headers: basic('alice') })).status, 204);
    assert.deepEqual(await usage(), { items: 2, bytes: 501, revisions: 0 });
  });

  test('nodes on pubsub.<host> are the service\'s storage, not the account\'s: no quota there', async () => {
    const headers = { ...basic('alice'), 'content-type': 'application/json' };
    assert.equal((await fetch(url(PUBSUB, 'big'), { method: 'PUT', headers, body: '{"max_items": 10}' })).status, 201);
    assert.equal((await fetch(url(PUBSUB, 'big', 'one'), { method: 'PUT', headers, body: jsonOfSize(5000) })).status, 201);
    assert.deepEqual(await usage(), { items: 2, bytes: 501, revisions: 0 });
  });

  test('usage survives a purge and a node deletion (they free everything the node stored)', async () => {
    result(await iq(alice, 'set', 'alice@localhost', xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' }, xml('purge', { node: 'docs' }))));
    assert.deepEqual(await usage(), { items: 0, bytes: 0, revisions: 0 });
    assert.equal((await put('history', 'h', 100)).status, 201);
    assert.equal((await put('history', 'h', 100)).status, 204);
    assert.deepEqual(await usage(), { items: 1, bytes: 200, revisions: 1 });
    assert.equal((await fetch(url('alice@localhost', 'history'), { method: 'DELETE', headers: basic('alice') })).status, 204);
    assert.deepEqual(await usage(), { items: 0, bytes: 0, revisions: 0 });
  });
});
