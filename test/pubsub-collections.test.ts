// XEP-0248 collection nodes at pubsub.localhost: a subscription to a collection delivers its leaves'
// notifications (with a SHIM Collection header), disco walks the hierarchy, items come per leaf, and the
// configuration keeps the graph a DAG.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NODE_CONFIG,
  NS_DATA,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_EVENT,
  NS_SHIM,
  PUBSUB,
  SUBSCRIBE_OPTIONS,
  collect,
  createNode,
  entry,
  expectError,
  fields,
  form,
  iq,
  nextEvent,
  owner,
  publish,
  pubsub,
  result,
  roundTrip,
  subscribe,
  xml,
} from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pubsub:';

describe('XEP-0248 collection nodes', () => {
  let server: TestServer;
  let hamlet: XmppClient;
  let francisco: XmppClient;
  let bernardo: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['hamlet', 'francisco', 'bernardo']) await server.createUser(user);
    hamlet = await connectClient(server, 'hamlet', undefined, 'elsinore');
    francisco = await connectClient(server, 'francisco', undefined, 'barracks');
    bernardo = await connectClient(server, 'bernardo', undefined, 'wall');
    for (const c of [hamlet, francisco, bernardo]) await c.send(xml('presence'));
    await Promise.all([hamlet, francisco, bernardo].map(roundTrip));
  });

  after(async () => {
    await Promise.allSettled([hamlet, francisco, bernardo].map((c) => c?.stop()));
    await server?.stop();
  });

  test('§5.1: create a collection; leaves join it with pubsub#collection', async () => {
    await createNode(hamlet, PUBSUB, 'blogs', { 'pubsub#node_type': 'collection', 'pubsub#title': 'Weblog updates' });
    await createNode(hamlet, PUBSUB, 'princely_musings', { 'pubsub#collection': 'blogs' });
    await createNode(hamlet, PUBSUB, 'kingly_ravings', { 'pubsub#collection': 'blogs' });
    await createNode(hamlet, PUBSUB, 'news');
    const info = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO, node: 'blogs' })))!;
    assert.equal(info.getChild('identity')!.attrs.type, 'collection');
    const conf = fields(result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'blogs' }))))!.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(conf.get('pubsub#node_type')?.values, ['collection']);
    assert.deepEqual(conf.get('pubsub#children')?.values, ['kingly_ravings', 'princely_musings']);
    const leaf = fields(result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'princely_musings' }))))!.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(leaf.get('pubsub#collection')?.values, ['blogs']);
  });

  test('§3.2: disco#items of the service shows first-level nodes; of a collection, its children', async () => {
    const top = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS })))!;
    assert.deepEqual(top.getChildren('item').map((i) => i.attrs.node).sort(), ['blogs', 'news']);
    assert.equal(top.getChildren('item').find((i) => i.attrs.node === 'blogs')!.attrs.name, 'Weblog updates');
    const second = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS, node: 'blogs' })))!;
    assert.equal(second.attrs.node, 'blogs');
    assert.deepEqual(second.getChildren('item').map((i) => [i.attrs.jid, i.attrs.node]), [[PUBSUB, 'kingly_ravings'], [PUBSUB, 'princely_musings']]);
  });

  test('§3.3: a subscriber of the collection gets its leaves\' items, with the Collection header', async () => {
    const sub = await subscribe(francisco, PUBSUB, 'blogs', 'francisco@localhost');
    assert.equal(sub.attrs.node, 'blogs');
    assert.equal(sub.attrs.subscription, 'subscribed');
    const notified = nextEvent(francisco, 'princely_musings');
    await publish(hamlet, PUBSUB, 'princely_musings', entry('Soliloquy'), 'ae890ac52d0df67ed7cfdf51b644e901');
    const message = await notified;
    const items = message.getChild('event', NS_EVENT)!.getChild('items')!;
    assert.equal(items.attrs.node, 'princely_musings', 'the node is the leaf, not the collection');
    assert.equal(items.getChild('item')!.attrs.id, 'ae890ac52d0df67ed7cfdf51b644e901');
    const headers = message.getChild('headers', NS_SHIM)!.getChildren('header');
    assert.deepEqual(headers.map((h) => [h.attrs.name, h.text()]), [['Collection', 'blogs']]);
  });

  test('§4.1: subscription_type nodes gets node events only; depth bounds the descent', async () => {
    await createNode(hamlet, PUBSUB, 'library', { 'pubsub#node_type': 'collection' });
    await createNode(hamlet, PUBSUB, 'shelf', { 'pubsub#node_type': 'collection', 'pubsub#collection': 'library' });
    await createNode(hamlet, PUBSUB, 'book', { 'pubsub#collection': 'shelf' });
    // Depth 1 under library: the book (depth 2) is out of reach; "all" reaches it.
    await subscribe(bernardo, PUBSUB, 'library', 'bernardo@localhost');
    const deep = result(
      await iq(
        francisco,
        'set',
        PUBSUB,
        pubsub(xml('subscribe', { node: 'library', jid: 'francisco@localhost' }), xml('options', {}, form(SUBSCRIBE_OPTIONS, { 'pubsub#subscription_type': 'items', 'pubsub#subscription_depth': 'all' })))),
    )!;
    assert.deepEqual(fields(deep.getChild('options')!.getChild('x', NS_DATA)).get('pubsub#subscription_depth')?.values, ['all']);
    const shallow = collect(bernardo, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'book');
    const reached = nextEvent(francisco, 'book');
    await publish(hamlet, PUBSUB, 'book', entry('Chapter 1'), 'ch1');
    const message = await reached;
    assert.equal(message.getChild('headers', NS_SHIM)!.getChild('header')!.text(), 'library');
    await roundTrip(hamlet);
    await roundTrip(bernardo);
    assert.equal(shallow.length, 0);
    // A nodes subscription hears of children coming: <collection><associate/></collection> (§3.4).
    const told = nextStanza(bernardo, 'library');
    await createNode(hamlet, PUBSUB, 'shelf2', { 'pubsub#node_type': 'collection', 'pubsub#collection': 'library' });
    const collection = (await told).getChild('event', NS_EVENT)!.getChild('collection')!;
    assert.equal(collection.attrs.node, 'library');
    assert.equal(collection.getChild('associate')!.attrs.node, 'shelf2');
  });

  test('§4.2: items of a collection come as one <items/> per leaf', async () => {
    await publish(hamlet, PUBSUB, 'kingly_ravings', entry('Rant'), 'r1');
    const reply = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'blogs' }))))!;
    const groups = reply.getChildren('items').map((items) => [items.attrs.node, items.getChildren('item').map((i) => i.attrs.id)]);
    assert.deepEqual(groups, [['kingly_ravings', ['r1']], ['princely_musings', ['ae890ac52d0df67ed7cfdf51b644e901']]]);
  });

  test('§5.2.3: leaves have no children, collections do not become leaves, and no cycles', async () => {
    const leafParent = await iq(hamlet, 'set', PUBSUB, pubsub(xml('create', { node: 'orphan' }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#collection': 'news' }))));
    expectError(leafParent, 'cancel', 'not-allowed', 'invalid-options');
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'blogs' }, form(NODE_CONFIG, { 'pubsub#node_type': 'leaf' })))), 'cancel', 'not-allowed', 'invalid-options');
    // library -> shelf; making library a child of shelf would close a cycle.
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'library' }, form(NODE_CONFIG, { 'pubsub#collection': 'shelf' })))), 'cancel', 'not-allowed', 'invalid-options');
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('collection', { node: 'shelf' }, xml('associate', { node: 'library' })))), 'cancel', 'not-allowed', 'invalid-options');
    // pubsub#children_max
    await createNode(hamlet, PUBSUB, 'tiny', { 'pubsub#node_type': 'collection', 'pubsub#children_max': '1' });
    await createNode(hamlet, PUBSUB, 'first', { 'pubsub#collection': 'tiny' });
    const tooMany = await iq(hamlet, 'set', PUBSUB, pubsub(xml('create', { node: 'second' }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#collection': 'tiny' }))));
    expectError(tooMany, 'cancel', 'not-allowed', 'max-nodes-exceeded');
    // Only an owner of the collection adds to it.
    const foreign = await iq(francisco, 'set', PUBSUB, pubsub(xml('create', { node: 'intruder' }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#collection': 'blogs' }))));
    expectError(foreign, 'auth', 'forbidden');
  });

  test('§5.5, §5.6: associate and dissociate; pubsub#children sets the whole list', async () => {
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('collection', { node: 'blogs' }, xml('associate', { node: 'news' })))));
    let children = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS, node: 'blogs' })))!.getChildren('item').map((i) => i.attrs.node);
    assert.deepEqual(children, ['kingly_ravings', 'news', 'princely_musings']);
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('collection', { node: 'blogs' }, xml('dissociate', { node: 'news' })))));
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('collection', { node: 'blogs' }, xml('dissociate', { node: 'news' })))), 'modify', 'bad-request');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'blogs' }, form(NODE_CONFIG, { 'pubsub#children': ['princely_musings', 'news'] })))));
    children = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS, node: 'blogs' })))!.getChildren('item').map((i) => i.attrs.node);
    assert.deepEqual(children, ['news', 'princely_musings']);
    const top = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS })))!.getChildren('item').map((i) => i.attrs.node);
    assert.ok(top.includes('kingly_ravings'), 'a node left without parents is top-level again');
  });

  test('§5.2.4: a leaf may become a collection, losing its items', async () => {
    await createNode(hamlet, PUBSUB, 'grows');
    await publish(hamlet, PUBSUB, 'grows', entry('soon gone'), 'g1');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'grows' }, form(NODE_CONFIG, { 'pubsub#node_type': 'collection' })))));
    const info = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO, node: 'grows' })))!;
    assert.equal(info.getChild('identity')!.attrs.type, 'collection');
    const items = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'grows' }))))!;
    assert.equal(items.getChild('items')!.getChildElements().length, 0);
  });

  test('§7.2: deleting a collection leaves its children without it', async () => {
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('delete', { node: 'blogs' }))));
    const leaf = fields(result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'princely_musings' }))))!.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(leaf.get('pubsub#collection')?.values, []);
  });
});

/** The next event message of a client about a node (collection events name the collection). */
function nextStanza(client: XmppClient, node: string) {
  return nextEvent(client, node);
}
