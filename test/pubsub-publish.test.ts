// XEP-0060 publisher use cases (§7) at pubsub.localhost: publishing with and without ItemIDs, notifications
// with and without payloads, publish-options preconditions (§7.1.5, XEP-0223), max_items, payload limits,
// retraction, and the error cases of §7.1.3 and §7.2.3.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NODE_CONFIG,
  NS_DATA,
  NS_EVENT,
  NS_PUBSUB,
  PUBLISH_OPTIONS,
  PUBSUB,
  collect,
  createNode,
  entry,
  errorText,
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
  type X,
} from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pubsub: { max_items: 50 }';

/** The <item/> elements of an items result, as [id, title]. */
function itemsOf(reply: X): [string, string | undefined][] {
  const items = result(reply)!.getChild('items')!;
  return items.getChildren('item').map((i) => [i.attrs.id, i.getChild('entry')?.getChildText('title') ?? undefined]);
}

describe('XEP-0060 publisher use cases', () => {
  let server: TestServer;
  let hamlet: XmppClient;
  let francisco: XmppClient;
  let bernardo: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['hamlet', 'francisco', 'bernardo']) await server.createUser(user);
    hamlet = await connectClient(server, 'hamlet', undefined, 'blogbot');
    francisco = await connectClient(server, 'francisco', undefined, 'barracks');
    bernardo = await connectClient(server, 'bernardo', undefined, 'wall');
    for (const c of [hamlet, francisco, bernardo]) await c.send(xml('presence'));
    await Promise.all([hamlet, francisco, bernardo].map(roundTrip));
    await createNode(hamlet, PUBSUB, 'princely_musings');
    await subscribe(francisco, PUBSUB, 'princely_musings', 'francisco@localhost');
    await subscribe(bernardo, PUBSUB, 'princely_musings', 'bernardo@localhost');
  });

  after(async () => {
    await Promise.allSettled([hamlet, francisco, bernardo].map((c) => c?.stop()));
    await server?.stop();
  });

  test('§7.1.2: a publish with an ItemID succeeds; every subscriber gets the payload (§7.1.2.1)', async () => {
    const toFrancisco = nextEvent(francisco, 'princely_musings');
    const toBernardo = nextEvent(bernardo, 'princely_musings');
    const payload = xml(
      'entry',
      { xmlns: 'http://www.w3.org/2005/Atom' },
      xml('title', {}, 'Soliloquy'),
      xml('summary', {}, 'To be, or not to be: that is the question'),
      xml('link', { rel: 'alternate', type: 'text/html', href: 'http://denmark.lit/2003/12/13/atom03' }),
    );
    const reply = await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'princely_musings' }, xml('item', { id: 'bnd81g37d61f49fgn581' }, payload))));
    const published = result(reply)!.getChild('publish')!;
    assert.equal(published.attrs.node, 'princely_musings');
    assert.equal(published.getChild('item')?.attrs.id, 'bnd81g37d61f49fgn581');
    const ids = new Set<string>();
    for (const message of [await toFrancisco, await toBernardo]) {
      assert.equal(message.attrs.from, PUBSUB);
      assert.equal(message.attrs.type, 'headline');
      assert.ok(message.attrs.id, '§7.1.2: each notification has an id');
      ids.add(message.attrs.id);
      const event = message.getChild('event', NS_EVENT)!;
      const items = event.getChild('items')!;
      assert.equal(items.attrs.node, 'princely_musings');
      const item = items.getChild('item')!;
      assert.equal(item.attrs.id, 'bnd81g37d61f49fgn581');
      // §7.1.2.2: the publisher, stamped by the service.
      assert.equal(item.attrs.publisher, 'hamlet@localhost');
      const got = item.getChild('entry', 'http://www.w3.org/2005/Atom')!;
      assert.equal(got.getChildText('title'), 'Soliloquy');
      assert.equal(got.getChildText('summary'), 'To be, or not to be: that is the question');
      assert.deepEqual(got.getChild('link')!.attrs, { rel: 'alternate', type: 'text/html', href: 'http://denmark.lit/2003/12/13/atom03' });
    }
    assert.equal(ids.size, 2, 'notification ids are unique');
  });

  test('§7.1.2: without an ItemID the service makes one and returns it', async () => {
    const notified = nextEvent(francisco, 'princely_musings');
    const id = await publish(hamlet, PUBSUB, 'princely_musings', entry('Second'));
    assert.ok(id && id.length >= 16);
    assert.equal((await notified).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.attrs.id, id);
  });

  test('§7.1.2: re-publishing an ItemID overwrites the item, which becomes the newest', async () => {
    await createNode(hamlet, PUBSUB, 'overwrite', { 'pubsub#max_items': '10' });
    await publish(hamlet, PUBSUB, 'overwrite', entry('first'), 'a');
    await publish(hamlet, PUBSUB, 'overwrite', entry('second'), 'b');
    await publish(hamlet, PUBSUB, 'overwrite', entry('first, revised'), 'a');
    assert.deepEqual(itemsOf(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'overwrite' })))), [
      ['b', 'second'],
      ['a', 'first, revised'],
    ]);
  });

  test('§7.1.2.2 notification without payload: deliver_payloads false sends the ItemID only', async () => {
    await createNode(hamlet, PUBSUB, 'light', { 'pubsub#deliver_payloads': '0' });
    await subscribe(francisco, PUBSUB, 'light', 'francisco@localhost');
    const notified = nextEvent(francisco, 'light');
    await publish(hamlet, PUBSUB, 'light', entry('heavy'), 'x1');
    const item = (await notified).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'x1');
    assert.equal(item.getChildElements().length, 0);
    // The payload is there for retrieval (§6.5.6).
    assert.deepEqual(itemsOf(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'light' }, xml('item', { id: 'x1' }))))), [['x1', 'heavy']]);
  });

  test('§4.3 transient notification-only node: no item allowed, notifications carry an empty <items/>', async () => {
    await createNode(hamlet, PUBSUB, 'elsinore/doorbell', { 'pubsub#persist_items': '0', 'pubsub#deliver_payloads': '0' });
    await subscribe(francisco, PUBSUB, 'elsinore/doorbell', 'francisco@localhost');
    const notified = nextEvent(francisco, 'elsinore/doorbell');
    result(await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'elsinore/doorbell' }))));
    const items = (await notified).getChild('event', NS_EVENT)!.getChild('items')!;
    assert.equal(items.attrs.node, 'elsinore/doorbell');
    assert.equal(items.getChildElements().length, 0);
    // §7.1.3.6 item-forbidden
    const withItem = await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'elsinore/doorbell' }, xml('item', {}, entry('ding')))));
    expectError(withItem, 'modify', 'bad-request', 'item-forbidden');
    // §7.2.3.5: nothing to retract from it.
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'elsinore/doorbell' }, xml('item', { id: 'a' })))), 'cancel', 'feature-not-implemented', 'unsupported', 'persistent-items');
  });

  test('§7.1.3.6: item-required, payload-required, invalid-payload', async () => {
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'princely_musings' }))), 'modify', 'bad-request', 'item-required');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'princely_musings' }, xml('item', { id: 'empty' })))), 'modify', 'bad-request', 'payload-required');
    const two = await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'princely_musings' }, xml('item', {}, entry('one'), entry('two')))));
    expectError(two, 'modify', 'bad-request', 'invalid-payload');
    const batch = await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'princely_musings' }, xml('item', {}, entry('one')), xml('item', {}, entry('two')))));
    expectError(batch, 'modify', 'bad-request', 'invalid-payload');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', {}, xml('item', {}, entry('one'))))), 'modify', 'bad-request', 'nodeid-required');
  });

  test('§7.1.3.1: only publishers publish', async () => {
    const refused = await iq(francisco, 'set', PUBSUB, pubsub(xml('publish', { node: 'princely_musings' }, xml('item', {}, entry('forged')))));
    expectError(refused, 'auth', 'forbidden');
    // publish_model open lets anyone publish.
    await createNode(hamlet, PUBSUB, 'guestbook', { 'pubsub#publish_model': 'open' });
    await publish(bernardo, PUBSUB, 'guestbook', entry('Bernardo was here'), 'b1');
    // publish_model subscribers lets subscribers publish.
    await createNode(hamlet, PUBSUB, 'club', { 'pubsub#publish_model': 'subscribers' });
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('publish', { node: 'club' }, xml('item', {}, entry('in?'))))), 'auth', 'forbidden');
    await subscribe(bernardo, PUBSUB, 'club', 'bernardo@localhost');
    await publish(bernardo, PUBSUB, 'club', entry('in!'));
  });

  test('§7.1.4 auto-create: publishing to a missing node creates it with the publisher as owner', async () => {
    await publish(bernardo, PUBSUB, 'bernardo_watch', entry('All quiet'), 'w1');
    const affiliations = result(await iq(bernardo, 'get', PUBSUB, owner(xml('affiliations', { node: 'bernardo_watch' }))))!;
    assert.deepEqual(affiliations.getChild('affiliations')!.getChildren('affiliation').map((a) => [a.attrs.jid, a.attrs.affiliation]), [['bernardo@localhost', 'owner']]);
  });

  test('§7.1.3.4: a payload over max_payload_size is not-acceptable + payload-too-big', async () => {
    await createNode(hamlet, PUBSUB, 'small', { 'pubsub#max_payload_size': '100' });
    await publish(hamlet, PUBSUB, 'small', entry('short'), 's1');
    const big = await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'small' }, xml('item', { id: 's2' }, entry('x'.repeat(200))))));
    expectError(big, 'modify', 'not-acceptable', 'payload-too-big');
    assert.deepEqual(itemsOf(await iq(hamlet, 'get', PUBSUB, pubsub(xml('items', { node: 'small' })))).map(([id]) => id), ['s1']);
    // Above the service's limit (65536 by default) a node cannot even be configured.
    const configured = await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'small' }, form(NODE_CONFIG, { 'pubsub#max_payload_size': '10000000' }))));
    expectError(configured, 'modify', 'not-acceptable');
  });

  test('§7.1.2.5 max_items: the oldest items go (retract-oldest notifies their retraction); "max" is the service cap', async () => {
    await createNode(hamlet, PUBSUB, 'bounded', { 'pubsub#max_items': '3' });
    await subscribe(francisco, PUBSUB, 'bounded', 'francisco@localhost');
    for (const n of [1, 2, 3]) await publish(hamlet, PUBSUB, 'bounded', entry(`item ${n}`), `i${n}`);
    const retracted = nextEvent(francisco, 'bounded');
    const events = collect(francisco, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'bounded');
    await publish(hamlet, PUBSUB, 'bounded', entry('item 4'), 'i4');
    await publish(hamlet, PUBSUB, 'bounded', entry('item 5'), 'i5');
    await roundTrip(francisco);
    await retracted;
    const retractions = events.flatMap((m) => m.getChild('event', NS_EVENT)!.getChild('items')!.getChildren('retract').map((r) => r.attrs.id));
    assert.deepEqual(retractions, ['i1', 'i2']);
    assert.deepEqual(itemsOf(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'bounded' })))).map(([id]) => id), ['i3', 'i4', 'i5']);
    // Lowering max_items trims at once.
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'bounded' }, form(NODE_CONFIG, { 'pubsub#max_items': '1' })))));
    assert.deepEqual(itemsOf(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'bounded' })))).map(([id]) => id), ['i5']);
    // The cap of this service is 50.
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'bounded' }, form(NODE_CONFIG, { 'pubsub#max_items': 'max' })))));
    for (let n = 0; n < 55; n++) await publish(hamlet, PUBSUB, 'bounded', entry(`bulk ${n}`), `bulk${n}`);
    const all = result(await iq(francisco, 'get', PUBSUB, xml('pubsub', { xmlns: NS_PUBSUB }, xml('items', { node: 'bounded' }), xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, xml('max', {}, '100')))))!;
    assert.equal(all.getChild('set')?.getChildText('count'), '50');
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'bounded' }, form(NODE_CONFIG, { 'pubsub#max_items': '51' })))), 'modify', 'not-acceptable');
  });

  test('§7.1.3.3 publish_node_full reject: a full node refuses new items with conflict + node-full', async () => {
    await createNode(hamlet, PUBSUB, 'full', { 'pubsub#max_items': '2', 'pubsub#publish_node_full': 'reject' });
    await publish(hamlet, PUBSUB, 'full', entry('a'), 'a');
    await publish(hamlet, PUBSUB, 'full', entry('b'), 'b');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'full' }, xml('item', { id: 'c' }, entry('c'))))), 'cancel', 'conflict', 'node-full');
    // Overwriting an existing item is not a new one.
    await publish(hamlet, PUBSUB, 'full', entry('b again'), 'b');
  });

  test('§7.1.5 publish-options: a met precondition publishes; an unmet one is conflict + precondition-not-met naming the field', async () => {
    await createNode(hamlet, PUBSUB, 'conditional', { 'pubsub#access_model': 'open', 'pubsub#max_items': '5' });
    await publish(hamlet, PUBSUB, 'conditional', entry('ok'), 'p1', { 'pubsub#access_model': 'open', 'pubsub#max_items': '5', 'pubsub#persist_items': 'true' });
    const unmet = await iq(
      hamlet,
      'set',
      PUBSUB,
      pubsub(xml('publish', { node: 'conditional' }, xml('item', {}, entry('no'))), xml('publish-options', {}, form(PUBLISH_OPTIONS, { 'pubsub#access_model': 'presence' }))),
    );
    expectError(unmet, 'cancel', 'conflict', 'precondition-not-met');
    assert.match(errorText(unmet) ?? '', /pubsub#access_model/);
    // Booleans match by meaning: "1" is "true".
    await publish(hamlet, PUBSUB, 'conditional', entry('ok'), 'p2', { 'pubsub#deliver_payloads': '1' });
    // §7.1.5: a field that is not a node configuration field fails the publish.
    const unknown = await iq(
      hamlet,
      'set',
      PUBSUB,
      pubsub(xml('publish', { node: 'conditional' }, xml('item', {}, entry('no'))), xml('publish-options', {}, form(PUBLISH_OPTIONS, { 'pubsub#colour': 'blue' }))),
    );
    expectError(unknown, 'cancel', 'conflict', 'precondition-not-met');
    assert.match(errorText(unknown) ?? '', /pubsub#colour/);
    // The form must be a publish-options form.
    const wrongType = await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'conditional' }, xml('item', {}, entry('no'))), xml('publish-options', {}, form(NODE_CONFIG, { 'pubsub#max_items': '5' }))));
    expectError(wrongType, 'modify', 'bad-request', 'invalid-options');
    assert.deepEqual(itemsOf(await iq(hamlet, 'get', PUBSUB, pubsub(xml('items', { node: 'conditional' })))).map(([id]) => id), ['p1', 'p2']);
  });

  test('§7.1.5 rule 3: auto-create applies the preconditions as the new node configuration', async () => {
    await publish(hamlet, PUBSUB, 'fresh', entry('first'), 'f1', { 'pubsub#access_model': 'whitelist', 'pubsub#max_items': '7' });
    const conf = result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'fresh' }))))!;
    const f = fields(conf.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['whitelist']);
    assert.deepEqual(f.get('pubsub#max_items')?.values, ['7']);
    expectError(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'fresh' }))), 'cancel', 'not-allowed', 'closed-node');
  });

  test('§7.2: retract with notify: subscribers get <retract/>; the item is gone', async () => {
    await createNode(hamlet, PUBSUB, 'retractable', { 'pubsub#notify_retract': '0' });
    await subscribe(francisco, PUBSUB, 'retractable', 'francisco@localhost');
    await publish(hamlet, PUBSUB, 'retractable', entry('to go'), 'ae890ac52d0df67ed7cfdf51b644e901');
    await publish(hamlet, PUBSUB, 'retractable', entry('to stay'), 'stay');
    const notified = nextEvent(francisco, 'retractable');
    const reply = await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'retractable', notify: 'true' }, xml('item', { id: 'ae890ac52d0df67ed7cfdf51b644e901' }))));
    assert.equal(result(reply), undefined);
    const items = (await notified).getChild('event', NS_EVENT)!.getChild('items')!;
    assert.equal(items.attrs.node, 'retractable');
    assert.deepEqual(items.getChildren('retract').map((r) => r.attrs.id), ['ae890ac52d0df67ed7cfdf51b644e901']);
    assert.deepEqual(itemsOf(await iq(hamlet, 'get', PUBSUB, pubsub(xml('items', { node: 'retractable' })))).map(([id]) => id), ['stay']);
    // Without notify (and notify_retract off) nobody hears of it.
    const seen = collect(francisco, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'retractable');
    result(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'retractable' }, xml('item', { id: 'stay' })))));
    await roundTrip(hamlet);
    await roundTrip(francisco);
    assert.equal(seen.length, 0);
  });

  test('§7.2.3: retract errors', async () => {
    await createNode(hamlet, PUBSUB, 'guarded');
    await publish(hamlet, PUBSUB, 'guarded', entry('mine'), 'g1');
    expectError(await iq(francisco, 'set', PUBSUB, pubsub(xml('retract', { node: 'guarded' }, xml('item', { id: 'g1' })))), 'auth', 'forbidden');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'guarded' }, xml('item', { id: 'nope' })))), 'cancel', 'item-not-found');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'nowhere' }, xml('item', { id: 'g1' })))), 'cancel', 'item-not-found');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', {}, xml('item', { id: 'g1' })))), 'modify', 'bad-request', 'nodeid-required');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'guarded' }))), 'modify', 'bad-request', 'item-required');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('retract', { node: 'guarded' }, xml('item')))), 'modify', 'bad-request', 'item-required');
    // publish-only may retract only its own items (§4.1 note).
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'guarded' }, xml('affiliation', { jid: 'bernardo@localhost', affiliation: 'publish-only' })))));
    await publish(bernardo, PUBSUB, 'guarded', entry("bernardo's"), 'b1');
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('retract', { node: 'guarded' }, xml('item', { id: 'g1' })))), 'auth', 'forbidden');
    result(await iq(bernardo, 'set', PUBSUB, pubsub(xml('retract', { node: 'guarded' }, xml('item', { id: 'b1' })))));
    // publish-only does not retrieve (§4.1).
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'guarded' }))), 'auth', 'forbidden');
  });

  test('XEP-0248: a collection holds no items', async () => {
    await createNode(hamlet, PUBSUB, 'shelf', { 'pubsub#node_type': 'collection' });
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('publish', { node: 'shelf' }, xml('item', {}, entry('x'))))), 'cancel', 'feature-not-implemented', 'unsupported', 'publish');
  });
});
