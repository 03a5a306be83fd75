// XEP-0060 subscriber use cases (§6) and entity queries (§5.5–§5.7) at pubsub.localhost: subscribing and
// unsubscribing with SubIDs, subscription options, the last published item, retrieving items (all, by id,
// max_items, XEP-0059 paging), and their error cases.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NS_DATA,
  NS_DELAY,
  NS_DISCO_ITEMS,
  NS_EVENT,
  NS_RSM,
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
  publish,
  pubsub,
  result,
  roundTrip,
  subscribe,
  xml,
  type X,
} from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pubsub:';
const rsm = (values: { max?: number; after?: string; before?: string; index?: number }) =>
  xml(
    'set',
    { xmlns: NS_RSM },
    ...(values.max !== undefined ? [xml('max', {}, String(values.max))] : []),
    ...(values.after !== undefined ? [xml('after', {}, values.after)] : []),
    ...(values.before !== undefined ? [xml('before', {}, values.before)] : []),
    ...(values.index !== undefined ? [xml('index', {}, String(values.index))] : []),
  );

function ids(reply: X): string[] {
  return result(reply)!.getChild('items')!.getChildren('item').map((i) => i.attrs.id);
}

describe('XEP-0060 subscriber use cases', () => {
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
    await createNode(hamlet, PUBSUB, 'princely_musings', { 'pubsub#max_items': '100' });
    for (let n = 1; n <= 7; n++) await publish(hamlet, PUBSUB, 'princely_musings', entry(`musing ${n}`), `m${n}`);
  });

  after(async () => {
    await Promise.allSettled([hamlet, francisco, bernardo].map((c) => c?.stop()));
    await server?.stop();
  });

  test('§6.1.2: subscribing answers subscribed with a SubID; §6.1.7: the last item follows, delayed', async () => {
    const last = nextEvent(francisco, 'princely_musings');
    const reply = await iq(francisco, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'princely_musings', jid: 'francisco@localhost' })));
    const sub = result(reply)!.getChild('subscription')!;
    assert.equal(sub.attrs.node, 'princely_musings');
    assert.equal(sub.attrs.jid, 'francisco@localhost');
    assert.equal(sub.attrs.subscription, 'subscribed');
    assert.match(sub.attrs.subid, /^[0-9a-f]{32}$/);
    const message = await last;
    assert.equal(message.attrs.to, 'francisco@localhost/barracks');
    const item = message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'm7');
    const delay = message.getChild('delay', NS_DELAY)!;
    assert.equal(delay.attrs.from, PUBSUB);
    assert.match(delay.attrs.stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    // §6.1.6: the same request again returns the same subscription.
    const again = result(await iq(francisco, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'princely_musings', jid: 'francisco@localhost' }))))!;
    assert.equal(again.getChild('subscription')!.attrs.subid, sub.attrs.subid);
  });

  test('§6.1.3: subscribe errors', async () => {
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'princely_musings', jid: 'francisco@localhost' }))), 'modify', 'bad-request', 'invalid-jid');
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'nowhere', jid: 'bernardo@localhost' }))), 'cancel', 'item-not-found');
    await createNode(hamlet, PUBSUB, 'no_subscriptions', { 'pubsub#subscribe': '0' });
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'no_subscriptions', jid: 'bernardo@localhost' }))), 'cancel', 'feature-not-implemented', 'unsupported', 'subscribe');
    await createNode(hamlet, PUBSUB, 'whitelisted', { 'pubsub#access_model': 'whitelist' });
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'whitelisted', jid: 'bernardo@localhost' }))), 'cancel', 'not-allowed', 'closed-node');
  });

  test('notifications go to the subscribed JID: a full JID, or the bare JID the server delivers', async () => {
    await createNode(hamlet, PUBSUB, 'to_full');
    const sub = await subscribe(bernardo, PUBSUB, 'to_full', 'bernardo@localhost/wall');
    assert.equal(sub.attrs.jid, 'bernardo@localhost/wall');
    const notified = nextEvent(bernardo, 'to_full');
    await publish(hamlet, PUBSUB, 'to_full', entry('direct'));
    assert.equal((await notified).attrs.to, 'bernardo@localhost/wall');
  });

  test('§6.1.6 multiple subscriptions: each has its SubID, notifications carry SHIM SubID headers (§7.1.2.4)', async () => {
    await createNode(hamlet, PUBSUB, 'multi');
    const first = await subscribe(bernardo, PUBSUB, 'multi', 'bernardo@localhost');
    const second = result(
      await iq(
        bernardo,
        'set',
        PUBSUB,
        pubsub(xml('subscribe', { node: 'multi', jid: 'bernardo@localhost' }), xml('options', {}, form(SUBSCRIBE_OPTIONS, { 'pubsub#deliver': '1', 'pubsub#show-values': ['chat', 'online', 'away'] }))),
      ),
    )!;
    const secondSub = second.getChild('subscription')!;
    assert.notEqual(secondSub.attrs.subid, first.attrs.subid);
    // §6.3.7: the resulting options, as a result form.
    const x = second.getChild('options')!.getChild('x', NS_DATA)!;
    assert.equal(x.attrs.type, 'result');
    assert.deepEqual(fields(x).get('pubsub#show-values')?.values, ['chat', 'online', 'away']);

    const notified = nextEvent(bernardo, 'multi');
    await publish(hamlet, PUBSUB, 'multi', entry('twice subscribed, once told'));
    const message = await notified;
    const headers = message.getChild('headers', NS_SHIM)!.getChildren('header');
    assert.deepEqual(headers.map((h) => h.attrs.name), ['SubID', 'SubID']);
    assert.deepEqual(headers.map((h) => h.text()).sort(), [first.attrs.subid, secondSub.attrs.subid].sort());

    // §6.2.3.1 and §6.2.3.5
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'multi', jid: 'bernardo@localhost' }))), 'modify', 'bad-request', 'subid-required');
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'multi', jid: 'bernardo@localhost', subid: 'bogus' }))), 'modify', 'not-acceptable', 'invalid-subid');
    const gone = result(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'multi', jid: 'bernardo@localhost', subid: first.attrs.subid }))))!;
    const s = gone.getChild('subscription')!;
    assert.deepEqual([s.attrs.node, s.attrs.jid, s.attrs.subscription, s.attrs.subid], ['multi', 'bernardo@localhost', 'none', first.attrs.subid]);
    // §5.6: with a node filter.
    const mine = result(await iq(bernardo, 'get', PUBSUB, pubsub(xml('subscriptions', { node: 'multi' }))))!;
    assert.deepEqual(mine.getChild('subscriptions')!.getChildren('subscription').map((x) => x.attrs.subid), [secondSub.attrs.subid]);
  });

  test('§6.2.3: unsubscribe errors', async () => {
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'princely_musings', jid: 'bernardo@localhost' }))), 'cancel', 'unexpected-request', 'not-subscribed');
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'princely_musings', jid: 'francisco@localhost' }))), 'auth', 'forbidden');
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'nowhere', jid: 'bernardo@localhost' }))), 'cancel', 'item-not-found');
  });

  test('§6.3: the options form; deliver=false pauses notifications; errors', async () => {
    await createNode(hamlet, PUBSUB, 'quiet');
    await subscribe(francisco, PUBSUB, 'quiet', 'francisco@localhost');
    const reply = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('options', { node: 'quiet', jid: 'francisco@localhost' }))))!;
    const options = reply.getChild('options')!;
    assert.equal(options.attrs.node, 'quiet');
    assert.equal(options.attrs.jid, 'francisco@localhost');
    const x = options.getChild('x', NS_DATA)!;
    assert.equal(x.attrs.type, 'form');
    const f = fields(x);
    assert.deepEqual(f.get('FORM_TYPE')?.values, [SUBSCRIBE_OPTIONS]);
    assert.equal(f.get('pubsub#deliver')?.type, 'boolean');
    assert.deepEqual(f.get('pubsub#deliver')?.values, ['true']);
    assert.deepEqual(f.get('pubsub#show-values')?.options, ['chat', 'online', 'away', 'xa', 'dnd']);
    assert.ok(!f.has('pubsub#include_body'), '§12.8: no include_body without a way to make bodies');

    assert.equal(result(await iq(francisco, 'set', PUBSUB, pubsub(xml('options', { node: 'quiet', jid: 'francisco@localhost' }, form(SUBSCRIBE_OPTIONS, { 'pubsub#deliver': 'false' }))))), undefined);
    const seen = collect(francisco, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'quiet');
    await publish(hamlet, PUBSUB, 'quiet', entry('unheard'));
    await roundTrip(hamlet);
    await roundTrip(francisco);
    assert.equal(seen.length, 0);

    expectError(await iq(francisco, 'get', PUBSUB, pubsub(xml('options', { node: 'quiet' }))), 'modify', 'bad-request', 'jid-required');
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('options', { node: 'quiet', jid: 'bernardo@localhost' }))), 'modify', 'unexpected-request', 'not-subscribed');
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('options', { node: 'quiet', jid: 'francisco@localhost' }))), 'auth', 'forbidden');
    expectError(await iq(francisco, 'get', PUBSUB, pubsub(xml('options', { node: 'nowhere', jid: 'francisco@localhost' }))), 'cancel', 'item-not-found');
    const bad = await iq(francisco, 'set', PUBSUB, pubsub(xml('options', { node: 'quiet', jid: 'francisco@localhost' }, form(SUBSCRIBE_OPTIONS, { 'pubsub#show-values': 'sleeping' }))));
    expectError(bad, 'modify', 'bad-request', 'invalid-options');
    const digest = await iq(francisco, 'set', PUBSUB, pubsub(xml('options', { node: 'quiet', jid: 'francisco@localhost' }, form(SUBSCRIBE_OPTIONS, { 'pubsub#digest': 'true' }))));
    expectError(digest, 'modify', 'bad-request', 'invalid-options');
  });

  test('§6.4: default subscription options, of the service and of a node', async () => {
    for (const attrs of [{}, { node: 'princely_musings' }]) {
      const reply = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('default', attrs))))!;
      const x = reply.getChild('default')!.getChild('x', NS_DATA)!;
      assert.equal(x.attrs.type, 'result');
      const f = fields(x);
      assert.deepEqual(f.get('FORM_TYPE')?.values, [SUBSCRIBE_OPTIONS]);
      assert.deepEqual(f.get('pubsub#deliver')?.values, ['true']);
    }
    expectError(await iq(francisco, 'get', PUBSUB, pubsub(xml('default', { node: 'nowhere' }))), 'cancel', 'item-not-found');
  });

  test('§12.18 leases: an expire in the past ends the subscription', async () => {
    await createNode(hamlet, PUBSUB, 'leased');
    await subscribe(francisco, PUBSUB, 'leased', 'francisco@localhost');
    result(await iq(francisco, 'set', PUBSUB, pubsub(xml('options', { node: 'leased', jid: 'francisco@localhost' }, form(SUBSCRIBE_OPTIONS, { 'pubsub#expire': '2006-02-28T11:59:59Z' })))));
    const f = fields(result(await iq(francisco, 'get', PUBSUB, pubsub(xml('options', { node: 'leased', jid: 'francisco@localhost' }))))!.getChild('options')!.getChild('x', NS_DATA));
    assert.deepEqual(f.get('pubsub#expire')?.values, ['2006-02-28T11:59:59Z']);
    const seen = collect(francisco, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'leased');
    await publish(hamlet, PUBSUB, 'leased', entry('too late'));
    await roundTrip(hamlet);
    await roundTrip(francisco);
    assert.equal(seen.length, 0);
  });

  test('§6.5.2: all items, in publication order', async () => {
    const reply = await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings' })));
    assert.deepEqual(ids(reply), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    const item = result(reply)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.publisher, 'hamlet@localhost');
    assert.equal(item.getChild('entry', 'http://www.w3.org/2005/Atom')?.getChildText('title'), 'musing 1');
  });

  test('§6.5.6 items by ItemID; §6.5.7 the N most recent; §6.5.9.12 none is an empty <items/>', async () => {
    assert.deepEqual(ids(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings' }, xml('item', { id: 'm2' }), xml('item', { id: 'm5' }))))), ['m2', 'm5']);
    assert.deepEqual(ids(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings', max_items: '2' })))), ['m6', 'm7']);
    assert.deepEqual(ids(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings' }, xml('item', { id: 'missing' }))))), []);
    await createNode(hamlet, PUBSUB, 'empty');
    const empty = result(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'empty' }))))!;
    assert.equal(empty.getChild('items')!.attrs.node, 'empty');
    assert.equal(empty.getChild('items')!.getChildElements().length, 0);
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'nowhere' }))), 'cancel', 'item-not-found');
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items'))), 'modify', 'bad-request', 'nodeid-required');
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings', subid: 'not-mine' }))), 'modify', 'not-acceptable', 'invalid-subid');
  });

  test('§6.5.4 XEP-0059 paging: forwards with <after/>, the last page with an empty <before/>, by <index/>', async () => {
    const page = async (values: Parameters<typeof rsm>[0]) => {
      const reply = result(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings' }), rsm(values))))!;
      const set = reply.getChild('set', NS_RSM)!;
      return {
        ids: reply.getChild('items')!.getChildren('item').map((i) => i.attrs.id),
        first: set.getChildText('first'),
        index: set.getChild('first')?.attrs.index,
        last: set.getChildText('last'),
        count: set.getChildText('count'),
      };
    };
    assert.deepEqual(await page({ max: 3 }), { ids: ['m1', 'm2', 'm3'], first: 'm1', index: '0', last: 'm3', count: '7' });
    assert.deepEqual((await page({ max: 3, after: 'm3' })).ids, ['m4', 'm5', 'm6']);
    assert.deepEqual((await page({ max: 3, after: 'm6' })).ids, ['m7']);
    const end = await page({ max: 3, after: 'm7' });
    assert.deepEqual(end, { ids: [], first: null, index: undefined, last: null, count: '7' });
    assert.deepEqual(await page({ max: 2, before: '' }), { ids: ['m6', 'm7'], first: 'm6', index: '5', last: 'm7', count: '7' });
    assert.deepEqual((await page({ max: 2, before: 'm6' })).ids, ['m4', 'm5']);
    assert.deepEqual(await page({ max: 2, index: 3 }), { ids: ['m4', 'm5'], first: 'm4', index: '3', last: 'm5', count: '7' });
    // XEP-0059 §2.6: a cursor that names no item.
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings' }), rsm({ max: 2, after: 'vanished' }))), 'cancel', 'item-not-found');
  });

  test('§6.5.4: with no limit asked, a large node answers its newest page and says so with RSM', async () => {
    await createNode(hamlet, PUBSUB, 'large', { 'pubsub#max_items': '200' });
    for (let n = 0; n < 105; n++) await publish(hamlet, PUBSUB, 'large', entry(`n${n}`), `n${n}`);
    const reply = result(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'large' }))))!;
    const got = reply.getChild('items')!.getChildren('item').map((i) => i.attrs.id);
    assert.equal(got.length, 100);
    assert.equal(got[0], 'n5');
    assert.equal(got[99], 'n104');
    const set = reply.getChild('set', NS_RSM)!;
    assert.equal(set.getChildText('count'), '105');
    assert.equal(set.getChild('first')!.attrs.index, '5');
  });

  test('§5.5: disco#items of a leaf lists its items by ItemID, without node attributes', async () => {
    const query = result(await iq(bernardo, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS, node: 'princely_musings' })))!;
    assert.equal(query.attrs.node, 'princely_musings');
    const items = query.getChildren('item');
    assert.deepEqual(items.map((i) => i.attrs.name), ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7']);
    for (const item of items) {
      assert.equal(item.attrs.jid, PUBSUB);
      assert.equal(item.attrs.node, undefined);
    }
  });

  test('§5.6: an entity lists all its subscriptions; §5.7 with none, an empty <affiliations/>', async () => {
    const reply = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('subscriptions'))))!;
    const subs = reply.getChild('subscriptions')!.getChildren('subscription');
    assert.ok(subs.length >= 3);
    for (const s of subs) {
      assert.equal(s.attrs.jid, 'francisco@localhost');
      assert.ok(s.attrs.node && s.attrs.subid && s.attrs.subscription);
    }
    const affiliations = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('affiliations'))))!;
    assert.equal(affiliations.getChild('affiliations')!.getChildElements().length, 0);
  });

  test('§4.3 on_sub_and_presence: a subscriber coming online gets the last item', async () => {
    await createNode(hamlet, PUBSUB, 'presence_last');
    await subscribe(bernardo, PUBSUB, 'presence_last', 'bernardo@localhost');
    await publish(hamlet, PUBSUB, 'presence_last', entry('while you were out'), 'latest');
    const second = await connectClient(server, 'bernardo', undefined, 'gate');
    try {
      const last = nextStanza(second, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'presence_last');
      await second.send(xml('presence'));
      const message = await last;
      assert.equal(message.attrs.to, 'bernardo@localhost/gate');
      assert.equal(message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.attrs.id, 'latest');
      assert.ok(message.getChild('delay', NS_DELAY));
    } finally {
      await second.stop();
    }
  });

  test('§12.4 pubsub#expire=presence: the subscription ends with the presence session', async () => {
    await createNode(hamlet, PUBSUB, 'temporary');
    const second = await connectClient(server, 'francisco', undefined, 'tower');
    await second.send(xml('presence'));
    await roundTrip(second);
    result(
      await iq(second, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'temporary', jid: 'francisco@localhost/tower' }), xml('options', {}, form(SUBSCRIBE_OPTIONS, { 'pubsub#expire': 'presence' })))),
    );
    await second.send(xml('presence', { type: 'unavailable' }));
    await roundTrip(second);
    await second.stop();
    // The service processes the unavailable presence before later requests.
    const list = result(await iq(hamlet, 'get', PUBSUB, xml('pubsub', { xmlns: 'http://jabber.org/protocol/pubsub#owner' }, xml('subscriptions', { node: 'temporary' }))))!;
    assert.equal(list.getChild('subscriptions')!.getChildren('subscription').length, 0);
  });
});
