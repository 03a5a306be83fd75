// XEP-0442 (MAM on pubsub nodes) with XEP-0431 full-text search, and the Storage API's ?q= search, end to end: Alice
// keeps notes on the pubsub service and in her PEP, Bob reads what he may, over XMPP and over HTTP, and neither face
// answers anything the node's access model keeps from the asker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { NS_DISCO_INFO, NS_EVENT, PUBSUB, createNode, expectError, iq, publish, pubsub, xml } from './helpers/pubsub.js';
import { NS_DATA, NS_MAM, finOf, idsOf, mam, withoutTextSearch, type QueryOutcome } from './helpers/mam.js';
import { STORAGE_MODULES, basic, storageUrl } from './helpers/http.js';

const FULLTEXT = '{urn:xmpp:fulltext:0}fulltext';
const HISTORY_ITEM = '{urn:quire:history:0}item';
const NS_NOTE = 'urn:example:note';
const MODULES = `${STORAGE_MODULES}\n  mam:\n  stanza_id:\n  pubsub_mam:`;

const note = (text: string) => xml('note', { xmlns: NS_NOTE }, text);

/** The notification each result forwards: its <item/> (id, publisher, payload). */
function itemsOf(outcome: QueryOutcome) {
  return outcome.results.map((result) => {
    const forwarded = result.getChild('forwarded', 'urn:xmpp:forward:0')!;
    const items = forwarded.getChild('message')!.getChild('event', NS_EVENT)!.getChild('items')!;
    assert.equal(items.getChildElements().length, 1, 'one item per result message (XEP-0442 §3)');
    const item = items.getChild('item')!;
    return { node: items.attrs.node, id: item.attrs.id, text: item.getChild('note')?.text(), stamp: forwarded.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp };
  });
}

const textsOf = (outcome: QueryOutcome) => itemsOf(outcome).map((i) => i.text);
/** The ItemIDs the results show (a result itself is named by the item and its revision). */
const itemIdsOf = (outcome: QueryOutcome) => itemsOf(outcome).map((i) => i.id);

describe('XEP-0442: MAM on pubsub and PEP nodes, with full-text search', () => {
  let server: TestServer;
  let alice: XmppClient;
  let bob: XmppClient;
  const url = (...segments: string[]) => storageUrl(server, ...segments);

  const NOTES = [
    ['n1', 'Meet Romeo at the balcony'],
    ['n2', 'Buy bread and wine'],
    ['n3', 'Café in Vérone, bientôt'],
    ['n4', 'The balcony needs new flowers'],
    ['n5', 'Nothing to see here'],
  ];

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('alice');
    await server.createUser('bob');
    alice = await connectClient(server, 'alice', undefined, 'desk');
    bob = await connectClient(server, 'bob', undefined, 'phone');
    await createNode(alice, PUBSUB, 'notes', { 'pubsub#access_model': 'open' });
    await createNode(alice, PUBSUB, 'diary', { 'pubsub#access_model': 'whitelist' });
    for (const [id, text] of NOTES) await publish(alice, PUBSUB, 'notes', note(text), id);
    await publish(alice, PUBSUB, 'diary', note('A secret about the balcony'), 'd1');
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await bob?.stop().catch(() => {});
    await server?.stop();
  });

  test('the pubsub service and every account advertise MAM and full-text search', async () => {
    for (const to of [PUBSUB, 'alice@localhost']) {
      const info = await iq(bob, 'get', to, xml('query', { xmlns: NS_DISCO_INFO }));
      const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
      assert.ok(features.includes(NS_MAM), `${to} advertises ${NS_MAM}`);
      assert.ok(features.includes('urn:xmpp:fulltext:0'), `${to} advertises XEP-0431`);
    }
  });

  test('a node archive holds its items in publication order, each forwarded as its notification', async () => {
    const outcome = await mam(bob, { to: PUBSUB, node: 'notes' });
    assert.deepEqual(itemIdsOf(outcome), ['n1', 'n2', 'n3', 'n4', 'n5']);
    assert.deepEqual(textsOf(outcome), NOTES.map(([, text]) => text));
    // Each result is named by its item and revision, the ETag of the HTTP face.
    const etag = (await fetch(url(PUBSUB, 'notes', 'n1'))).headers.get('etag');
    assert.equal(idsOf(outcome)[0], `n1@${etag?.slice(1, -1)}`);
    for (const item of itemsOf(outcome)) {
      assert.equal(item.node, 'notes');
      assert.match(item.stamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.equal(outcome.messages[0].attrs.from, PUBSUB);
    assert.deepEqual(finOf(outcome), { complete: true, first: idsOf(outcome)[0], index: '0', last: idsOf(outcome)[4], count: 5 });
  });

  test('pages with XEP-0059, forward and from the end', async () => {
    const first = await mam(bob, { to: PUBSUB, node: 'notes', max: 2 });
    assert.deepEqual(itemIdsOf(first), ['n1', 'n2']);
    assert.equal(finOf(first).complete, false);
    const second = await mam(bob, { to: PUBSUB, node: 'notes', max: 2, after: finOf(first).last });
    assert.deepEqual(itemIdsOf(second), ['n3', 'n4']);
    const last = await mam(bob, { to: PUBSUB, node: 'notes', max: 2, before: '' });
    assert.deepEqual(itemIdsOf(last), ['n4', 'n5']);
    assert.deepEqual(finOf(last), { complete: false, first: idsOf(last)[0], index: '3', last: idsOf(last)[1], count: 5 });
    const back = await mam(bob, { to: PUBSUB, node: 'notes', max: 2, before: finOf(second).first });
    assert.deepEqual(itemIdsOf(back), ['n1', 'n2']);
    expectError(await mam(bob, { to: PUBSUB, node: 'notes', after: 'no-such-item' }).then((o) => o.reply), 'cancel', 'item-not-found');
  });

  test('XEP-0431: the fulltext field finds the items whose text holds every word, any case, no accents', async () => {
    const balcony = await mam(bob, { to: PUBSUB, node: 'notes', fields: { [FULLTEXT]: 'BALCONY' } });
    assert.deepEqual(itemIdsOf(balcony), ['n1', 'n4']);
    assert.equal(finOf(balcony).count, 2);
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'notes', fields: { [FULLTEXT]: 'balcony flowers' } })), ['n4']);
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'notes', fields: { [FULLTEXT]: 'cafe verone' } })), ['n3']);
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'notes', fields: { [FULLTEXT]: 'bre*' } })), ['n2']);
    // Element names and namespaces are not text.
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'notes', fields: { [FULLTEXT]: 'note' } })), []);
  });

  test('over HTTP, ?q= searches the same items with the same rules, and the next page keeps the search', async () => {
    const response = await fetch(`${url(PUBSUB, 'notes')}?q=balcony&order=oldest&limit=1`);
    assert.equal(response.status, 200);
    const body = await response.json();
    assert.deepEqual(body.items.map((i: { id: string }) => i.id), ['n1']);
    assert.equal(body.count, 2);
    assert.equal(body.complete, false);
    const next = await (await fetch(body.next)).json();
    assert.deepEqual(next.items.map((i: { id: string }) => i.id), ['n4']);
    assert.equal(next.complete, true);
    const newest = await (await fetch(`${url(PUBSUB, 'notes')}?q=${encodeURIComponent('Café')}`)).json();
    assert.deepEqual(newest.items.map((i: { id: string }) => i.id), ['n3']);
    // A search with no words matches nothing.
    assert.deepEqual((await (await fetch(`${url(PUBSUB, 'notes')}?q=%20`)).json()).items, []);
  });

  test('a search answers only what the asker may read: the whitelist node is Alice’s', async () => {
    expectError((await mam(bob, { to: PUBSUB, node: 'diary', fields: { [FULLTEXT]: 'balcony' } })).reply, 'cancel', 'not-allowed', 'closed-node');
    assert.equal((await fetch(`${url(PUBSUB, 'diary')}?q=balcony`)).status, 401);
    assert.equal((await fetch(`${url(PUBSUB, 'diary')}?q=balcony`, { headers: basic('bob') })).status, 403);
    const own = await mam(alice, { to: PUBSUB, node: 'diary', fields: { [FULLTEXT]: 'balcony' } });
    assert.deepEqual(itemIdsOf(own), ['d1']);
    const overHttp = await (await fetch(`${url(PUBSUB, 'diary')}?q=secret`, { headers: basic('alice') })).json();
    assert.deepEqual(overHttp.items.map((i: { id: string }) => i.id), ['d1']);
  });

  test('a republished item moves to the end; a retracted one leaves the archive and the search', async () => {
    await createNode(alice, PUBSUB, 'moving', { 'pubsub#access_model': 'open' });
    for (const id of ['a', 'b', 'c']) await publish(alice, PUBSUB, 'moving', note(`item ${id} wandering`), id);
    await publish(alice, PUBSUB, 'moving', note('item a again, wandering'), 'a');
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'moving' })), ['b', 'c', 'a']);
    const retract = await iq(alice, 'set', PUBSUB, pubsub(xml('retract', { node: 'moving' }, xml('item', { id: 'b' }))));
    assert.equal(retract.attrs.type, 'result');
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'moving', fields: { [FULLTEXT]: 'wandering' } })), ['c', 'a']);
  });

  test('the with field names the publisher, where the node shows publishers', async () => {
    await createNode(alice, PUBSUB, 'shared', { 'pubsub#access_model': 'open', 'pubsub#publish_model': 'open', 'pubsub#itemreply': 'publisher' });
    await publish(alice, PUBSUB, 'shared', note('from alice 1'), 's1');
    await publish(bob, PUBSUB, 'shared', note('from bob'), 's2');
    await publish(alice, PUBSUB, 'shared', note('from alice 2'), 's3');
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'shared', fields: { with: 'alice@localhost' } })), ['s1', 's3']);
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'shared', fields: { with: 'bob@localhost/phone' } })), ['s2']);
    const page = await mam(bob, { to: PUBSUB, node: 'shared', fields: { with: 'alice@localhost' }, max: 1 });
    assert.deepEqual(itemIdsOf(page), ['s1']);
    assert.deepEqual(finOf(page), { complete: false, first: idsOf(page)[0], index: '0', last: idsOf(page)[0], count: 2 });
    // A node that hides its publishers (itemreply owner) does not let a reader test them one by one.
    await createNode(alice, PUBSUB, 'discreet', { 'pubsub#access_model': 'open', 'pubsub#publish_model': 'open', 'pubsub#itemreply': 'owner' });
    await publish(bob, PUBSUB, 'discreet', note('who wrote this?'), 'q1');
    expectError((await mam(bob, { to: PUBSUB, node: 'discreet', fields: { with: 'bob@localhost' } })).reply, 'cancel', 'not-allowed');
    assert.deepEqual(itemIdsOf(await mam(bob, { to: PUBSUB, node: 'discreet' })), ['q1']);
  });

  test('with pages through a node larger than one read of the store, forward and from the end', async () => {
    await createNode(alice, PUBSUB, 'big', { 'pubsub#access_model': 'open', 'pubsub#publish_model': 'open', 'pubsub#itemreply': 'publisher', 'pubsub#max_items': '1000' });
    const bobs: string[] = [];
    for (let i = 0; i < 250; i++) {
      const id = `b${i}`;
      if (i % 10 === 7) bobs.push(id);
      await publish(i % 10 === 7 ? bob : alice, PUBSUB, 'big', note(`entry ${i}`), id);
    }
    const first = await mam(bob, { to: PUBSUB, node: 'big', fields: { with: 'bob@localhost' }, max: 10 });
    assert.deepEqual(itemIdsOf(first), bobs.slice(0, 10));
    assert.deepEqual({ ...finOf(first), first: undefined, last: undefined }, { complete: false, first: undefined, index: '0', last: undefined, count: 25 });
    const next = await mam(bob, { to: PUBSUB, node: 'big', fields: { with: 'bob@localhost' }, max: 10, after: finOf(first).last });
    assert.deepEqual(itemIdsOf(next), bobs.slice(10, 20));
    const end = await mam(bob, { to: PUBSUB, node: 'big', fields: { with: 'bob@localhost' }, max: 10, before: '' });
    assert.deepEqual(itemIdsOf(end), bobs.slice(15));
    assert.equal(finOf(end).index, '15');
    const before = await mam(bob, { to: PUBSUB, node: 'big', fields: { with: 'bob@localhost' }, max: 10, before: finOf(end).first });
    assert.deepEqual(itemIdsOf(before), bobs.slice(5, 15));
  });

  test('a republished item is a new entry: a client syncing from where it was finds what came since; a stale name is item-not-found', async () => {
    await createNode(alice, PUBSUB, 'sync', { 'pubsub#access_model': 'open' });
    for (const id of ['x1', 'x2', 'x3']) await publish(alice, PUBSUB, 'sync', note(`first ${id}`), id);
    const seen = await mam(bob, { to: PUBSUB, node: 'sync' });
    const [, oldX2, lastSeen] = idsOf(seen);
    await publish(alice, PUBSUB, 'sync', note('new x4'), 'x4');
    await publish(alice, PUBSUB, 'sync', note('edited x2'), 'x2');
    const since = await mam(bob, { to: PUBSUB, node: 'sync', after: lastSeen });
    assert.deepEqual(textsOf(since), ['new x4', 'edited x2']);
    assert.notEqual(idsOf(since)[1], oldX2);
    expectError((await mam(bob, { to: PUBSUB, node: 'sync', after: oldX2 })).reply, 'cancel', 'item-not-found');
    expectError((await mam(bob, { to: PUBSUB, node: 'sync', fields: { ids: oldX2 } })).reply, 'cancel', 'item-not-found');
    assert.deepEqual(textsOf(await mam(bob, { to: PUBSUB, node: 'sync', fields: { ids: idsOf(since)[1] } })), ['edited x2']);
  });

  test('an item’s history: its earlier revisions and the current one, oldest first, named by revision as over HTTP', async () => {
    for (const text of ['draft one', 'draft two', 'final text']) await publish(alice, PUBSUB, 'notes', note(text), 'page');
    const history = await mam(bob, { to: PUBSUB, node: 'notes', fields: { [HISTORY_ITEM]: 'page' } });
    assert.deepEqual(textsOf(history), ['draft one', 'draft two', 'final text']);
    assert.deepEqual(itemsOf(history).map((i) => i.id), ['page', 'page', 'page']);
    const revisions = await (await fetch(url(PUBSUB, 'notes', 'page', 'revisions'))).json();
    assert.deepEqual(idsOf(history), revisions.revisions.map((r: { rev: string }) => `page@${r.rev}`).reverse());
    assert.equal(finOf(history).count, 3);
    const drafts = await mam(bob, { to: PUBSUB, node: 'notes', fields: { [HISTORY_ITEM]: 'page', [FULLTEXT]: 'draft' }, max: 1 });
    assert.deepEqual(textsOf(drafts), ['draft one']);
    assert.deepEqual(finOf(drafts), { complete: false, first: idsOf(history)[0], index: '0', last: idsOf(history)[0], count: 2 });
    const after = await mam(bob, { to: PUBSUB, node: 'notes', fields: { [HISTORY_ITEM]: 'page' }, after: idsOf(history)[0] });
    assert.deepEqual(textsOf(after), ['draft two', 'final text']);
    expectError((await mam(bob, { to: PUBSUB, node: 'notes', fields: { [HISTORY_ITEM]: 'nothing-here' } })).reply, 'cancel', 'item-not-found');
    // The history is read with the node's access rules.
    expectError((await mam(bob, { to: PUBSUB, node: 'diary', fields: { [HISTORY_ITEM]: 'd1' } })).reply, 'cancel', 'not-allowed', 'closed-node');
    assert.deepEqual(itemIdsOf(await mam(alice, { to: PUBSUB, node: 'diary', fields: { [HISTORY_ITEM]: 'd1' } })), ['d1']);
  });

  test('PEP: a query with a node goes to the node, one without it to the account’s message archive', async () => {
    // PEP nodes keep one item unless configured otherwise (XEP-0163 §4.3).
    await createNode(alice, 'alice@localhost', 'urn:example:journal', { 'pubsub#max_items': '10' });
    await publish(alice, 'alice@localhost', 'urn:example:journal', note('Dear diary, the balcony again'), 'j1');
    await publish(alice, 'alice@localhost', 'urn:example:journal', note('Dear diary, a quiet day'), 'j2');
    const all = await mam(alice, { to: 'alice@localhost', node: 'urn:example:journal' });
    assert.deepEqual(itemIdsOf(all), ['j1', 'j2'], all.reply.toString());
    const journal = await mam(alice, { to: 'alice@localhost', node: 'urn:example:journal', fields: { [FULLTEXT]: 'balcony' } });
    assert.deepEqual(itemIdsOf(journal), ['j1']);
    assert.equal(journal.messages[0].attrs.from, 'alice@localhost');
    const messages = await mam(alice, {});
    assert.equal(messages.reply.attrs.type, 'result', 'the account archive still answers');
    assert.equal(messages.results.length, 0);
    // PEP nodes default to the presence access model: Bob is not subscribed to Alice's presence.
    expectError((await mam(bob, { to: 'alice@localhost', node: 'urn:example:journal' })).reply, 'auth', 'not-authorized', 'presence-subscription-required');
    expectError((await mam(bob, { to: 'nobody@localhost', node: 'urn:example:journal' })).reply, 'cancel', 'service-unavailable');
    // Without a node, the query is for Alice's own message archive, which is hers alone (XEP-0313 §8.1).
    expectError((await mam(bob, { to: 'alice@localhost' })).reply, 'auth', 'forbidden');
  });

  test('errors: no node, an unknown node, an unknown field; the form lists the fields', async () => {
    expectError((await mam(bob, { to: PUBSUB })).reply, 'modify', 'bad-request', 'nodeid-required');
    expectError((await mam(bob, { to: PUBSUB, node: 'no-such-node' })).reply, 'cancel', 'item-not-found');
    expectError((await mam(bob, { to: PUBSUB, node: 'notes', fields: { 'urn:example:unknown': 'x' } })).reply, 'cancel', 'feature-not-implemented');
    const reply = await iq(bob, 'get', PUBSUB, xml('query', { xmlns: NS_MAM, node: 'notes' }));
    const fields = reply.getChild('query')!.getChild('x', NS_DATA)!.getChildren('field').map((f) => f.attrs.var);
    for (const name of ['FORM_TYPE', 'with', 'start', 'end', FULLTEXT, HISTORY_ITEM]) assert.ok(fields.includes(name), `the form offers ${name}`);
    assert.ok(!fields.includes('include-groupchat'), 'a node has no groupchat');
  });
});

describe('XEP-0442 and ?q= on storage that cannot search', () => {
  let server: TestServer;
  let alice: XmppClient | undefined;

  after(async () => {
    await alice?.stop();
    await server?.stop();
  });

  test('node archives still answer; search is neither advertised nor accepted', async () => {
    server = await startTestServer({ modules: MODULES, wrapStorage: withoutTextSearch });
    await server.createUser('alice');
    alice = await connectClient(server, 'alice', undefined, 'desk');
    await createNode(alice, PUBSUB, 'notes', { 'pubsub#access_model': 'open' });
    await publish(alice, PUBSUB, 'notes', note('Meet Romeo at the balcony'), 'n1');
    const info = await iq(alice, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO }));
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_MAM) && !features.includes('urn:xmpp:fulltext:0'), features.join(' '));
    assert.deepEqual(itemIdsOf(await mam(alice, { to: PUBSUB, node: 'notes' })), ['n1']);
    expectError((await mam(alice, { to: PUBSUB, node: 'notes', fields: { [FULLTEXT]: 'balcony' } })).reply, 'cancel', 'feature-not-implemented');
    const search = await fetch(`${storageUrl(server, PUBSUB, 'notes')}?q=balcony`);
    assert.equal(search.status, 501);
    assert.equal((await search.json()).error, 'not-implemented');
  });
});
