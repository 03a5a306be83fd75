// XEP-0060 owner use cases (§8) and discovery (§5.1, §5.2) at pubsub.localhost: Hamlet creates, configures,
// deletes and purges nodes, manages subscriptions and affiliations, and approves subscription requests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NODE_CONFIG,
  NS_DATA,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_EVENT,
  NS_OWNER,
  NS_PUBSUB,
  PUBSUB,
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
} from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pubsub:';
const NS_COMMANDS = 'http://jabber.org/protocol/commands';


describe('XEP-0060 owner use cases', () => {
  let server: TestServer;
  let hamlet: XmppClient;
  let francisco: XmppClient;
  let bernardo: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['hamlet', 'francisco', 'bernardo', 'horatio']) await server.createUser(user);
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

  test('the host lists the service in disco#items (XEP-0030)', async () => {
    const query = result(await iq(francisco, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_ITEMS })));
    const items = query!.getChildren('item').map((i) => i.attrs.jid);
    assert.ok(items.includes(PUBSUB), `pubsub.localhost in ${query!.toString()}`);
  });

  test('§5.1: disco#info names the pubsub/service identity and the features that work', async () => {
    const query = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO })))!;
    const identity = query.getChild('identity')!;
    assert.equal(identity.attrs.category, 'pubsub');
    assert.equal(identity.attrs.type, 'service');
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    for (const name of [
      'http://jabber.org/protocol/pubsub',
      'http://jabber.org/protocol/pubsub#create-nodes',
      'http://jabber.org/protocol/pubsub#create-and-configure',
      'http://jabber.org/protocol/pubsub#instant-nodes',
      'http://jabber.org/protocol/pubsub#config-node',
      'http://jabber.org/protocol/pubsub#retrieve-default',
      'http://jabber.org/protocol/pubsub#delete-nodes',
      'http://jabber.org/protocol/pubsub#purge-nodes',
      'http://jabber.org/protocol/pubsub#manage-subscriptions',
      'http://jabber.org/protocol/pubsub#modify-affiliations',
      'http://jabber.org/protocol/pubsub#publish',
      'http://jabber.org/protocol/pubsub#publish-options',
      'http://jabber.org/protocol/pubsub#retrieve-items',
      'http://jabber.org/protocol/pubsub#rsm',
      'http://jabber.org/protocol/pubsub#subscribe',
      'http://jabber.org/protocol/pubsub#access-open',
      'http://jabber.org/protocol/pubsub#get-pending',
      'http://jabber.org/protocol/pubsub#collections',
      NS_DISCO_INFO,
      NS_DISCO_ITEMS,
    ]) {
      assert.ok(features.includes(name), `feature ${name}`);
    }
    assert.ok(!features.includes('http://jabber.org/protocol/pubsub#access-presence'), 'one default access model');
  });

  test('§8.1.2: Hamlet creates princely_musings; creating it again is a conflict', async () => {
    const created = result(await iq(hamlet, 'set', PUBSUB, pubsub(xml('create', { node: 'princely_musings' }))))!;
    assert.equal(created.attrs.xmlns, NS_PUBSUB);
    assert.equal(created.getChild('create')?.attrs.node, 'princely_musings');
    expectError(await iq(hamlet, 'set', PUBSUB, pubsub(xml('create', { node: 'princely_musings' }))), 'cancel', 'conflict');
  });

  test('§8.1.2: an instant node gets a NodeID from the service', async () => {
    const created = result(await iq(hamlet, 'set', PUBSUB, pubsub(xml('create'))))!;
    const node = created.getChild('create')?.attrs.node;
    assert.ok(node && node.length >= 16, `a generated NodeID in ${created.toString()}`);
    const info = result(await iq(hamlet, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO, node })))!;
    assert.equal(info.getChild('identity')?.attrs.type, 'leaf');
  });

  test('§8.1.3: create and configure; an unsupported access model is not-acceptable + unsupported-access-model', async () => {
    await createNode(hamlet, PUBSUB, 'elsinore', { 'pubsub#title': 'Elsinore', 'pubsub#access_model': 'whitelist', 'pubsub#max_items': '20' });
    const conf = result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'elsinore' }))))!;
    const f = fields(conf.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(f.get('pubsub#title')?.values, ['Elsinore']);
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['whitelist']);
    assert.deepEqual(f.get('pubsub#max_items')?.values, ['20']);
    const bad = await iq(
      hamlet,
      'set',
      PUBSUB,
      pubsub(xml('create', { node: 'denmark' }), xml('configure', {}, form(NODE_CONFIG, { 'pubsub#access_model': 'moat' }))),
    );
    expectError(bad, 'modify', 'not-acceptable', 'unsupported-access-model');
    // Nothing was created.
    expectError(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'denmark' }))), 'cancel', 'item-not-found');
    // §8.1.3: <configure/> with a node attribute is a bad request.
    const misplaced = await iq(hamlet, 'set', PUBSUB, pubsub(xml('create', { node: 'denmark' }), xml('configure', { node: 'denmark' })));
    expectError(misplaced, 'modify', 'bad-request');
  });

  test('§8.2.1: the configuration form holds the current values; §8.2.3 errors', async () => {
    const reply = result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'princely_musings' }))))!;
    assert.equal(reply.attrs.xmlns, NS_OWNER);
    const x = reply.getChild('configure')!.getChild('x', NS_DATA)!;
    assert.equal(x.attrs.type, 'form');
    const f = fields(x);
    assert.deepEqual(f.get('FORM_TYPE')?.values, [NODE_CONFIG]);
    assert.equal(f.get('FORM_TYPE')?.type, 'hidden');
    assert.equal(f.get('pubsub#deliver_payloads')?.type, 'boolean');
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['open']);
    assert.deepEqual(f.get('pubsub#access_model')?.options, ['authorize', 'open', 'presence', 'roster', 'whitelist']);
    assert.deepEqual(f.get('pubsub#publish_model')?.options, ['publishers', 'subscribers', 'open']);
    assert.deepEqual(f.get('pubsub#max_items')?.values, ['10']);
    assert.deepEqual(f.get('pubsub#send_last_published_item')?.options, ['never', 'on_sub', 'on_sub_and_presence']);
    assert.deepEqual(f.get('pubsub#notification_type')?.values, ['headline']);
    assert.equal(f.get('pubsub#roster_groups_allowed')?.type, 'list-multi');
    // §8.2.3.2, §8.2.3.3, §8.2.3.5
    expectError(await iq(francisco, 'get', PUBSUB, owner(xml('configure', { node: 'princely_musings' }))), 'auth', 'forbidden');
    expectError(await iq(hamlet, 'get', PUBSUB, owner(xml('configure'))), 'modify', 'bad-request', 'nodeid-required');
    expectError(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'nowhere' }))), 'cancel', 'item-not-found');
  });

  test('§8.2.4: a submitted form changes the fields it names; a cancelled one nothing; a bad value is not-acceptable', async () => {
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'princely_musings' }, form(NODE_CONFIG, { 'pubsub#title': 'Princely Musings (Atom)', 'pubsub#max_items': 'max' })))));
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'princely_musings' }, xml('x', { xmlns: NS_DATA, type: 'cancel' })))));
    const f = fields(result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'princely_musings' }))))!.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(f.get('pubsub#title')?.values, ['Princely Musings (Atom)']);
    assert.deepEqual(f.get('pubsub#max_items')?.values, ['max']);
    assert.deepEqual(f.get('pubsub#deliver_payloads')?.values, ['true'], 'fields not submitted keep their values (XEP-0004 §3.4)');
    const tooMany = await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'princely_musings' }, form(NODE_CONFIG, { 'pubsub#max_items': '1000000' }))));
    expectError(tooMany, 'modify', 'not-acceptable');
    assert.match(errorText(tooMany) ?? '', /max_items/);
    const notBoolean = await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'princely_musings' }, form(NODE_CONFIG, { 'pubsub#deliver_payloads': 'perhaps' }))));
    expectError(notBoolean, 'modify', 'not-acceptable');
    expectError(await iq(francisco, 'set', PUBSUB, owner(xml('configure', { node: 'princely_musings' }, form(NODE_CONFIG, { 'pubsub#title': 'mine' })))), 'auth', 'forbidden');
  });

  test('§5.4: node metadata: the max_items of a "max" node is the service limit', async () => {
    const info = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO, node: 'princely_musings' })))!;
    assert.equal(info.attrs.node, 'princely_musings');
    assert.equal(info.getChild('identity')?.attrs.category, 'pubsub');
    assert.equal(info.getChild('identity')?.attrs.type, 'leaf');
    const f = fields(info.getChild('x', NS_DATA));
    assert.deepEqual(f.get('FORM_TYPE')?.values, ['http://jabber.org/protocol/pubsub#meta-data']);
    assert.deepEqual(f.get('pubsub#creator')?.values, ['hamlet@localhost']);
    assert.deepEqual(f.get('pubsub#owner')?.values, ['hamlet@localhost']);
    assert.deepEqual(f.get('pubsub#title')?.values, ['Princely Musings (Atom)']);
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['open']);
    assert.deepEqual(f.get('pubsub#publish_model')?.values, ['publishers']);
    assert.deepEqual(f.get('pubsub#max_items')?.values, ['10000']);
    assert.match(f.get('pubsub#creation_date')?.values[0] ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.deepEqual(f.get('pubsub#num_subscribers')?.values, ['0']);
  });

  test('§8.2.5.3: with notify_config, subscribers get the new configuration', async () => {
    await createNode(hamlet, PUBSUB, 'news', { 'pubsub#notify_config': '1' });
    await subscribe(francisco, PUBSUB, 'news', 'francisco@localhost');
    const notified = nextEvent(francisco, 'news');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'news' }, form(NODE_CONFIG, { 'pubsub#title': 'News from Elsinore' })))));
    const message = await notified;
    assert.equal(message.attrs.from, PUBSUB);
    const configuration = message.getChild('event', NS_EVENT)!.getChild('configuration')!;
    assert.equal(configuration.attrs.node, 'news');
    const f = fields(configuration.getChild('x', NS_DATA));
    assert.equal(configuration.getChild('x', NS_DATA)!.attrs.type, 'result');
    assert.deepEqual(f.get('pubsub#title')?.values, ['News from Elsinore']);
  });

  test('§8.3: default node configuration, for leaves and (XEP-0248) collections', async () => {
    const leaf = result(await iq(hamlet, 'get', PUBSUB, owner(xml('default'))))!;
    const f = fields(leaf.getChild('default')!.getChild('x', NS_DATA));
    assert.deepEqual(f.get('FORM_TYPE')?.values, [NODE_CONFIG]);
    assert.deepEqual(f.get('pubsub#node_type')?.values, ['leaf']);
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['open']);
    const collection = fields(result(await iq(hamlet, 'get', PUBSUB, owner(xml('default', { type: 'collection' }))))!.getChild('default')!.getChild('x', NS_DATA));
    assert.deepEqual(collection.get('pubsub#node_type')?.values, ['collection']);
    assert.ok(collection.has('pubsub#children'));
    assert.ok(!collection.has('pubsub#max_items'), 'leaf options stay off collections (XEP-0248 §5.2)');
  });

  test('§8.5: purge removes every item and notifies one <purge/>; only owners and publishers purge', async () => {
    await createNode(hamlet, PUBSUB, 'purgeable');
    await publish(hamlet, PUBSUB, 'purgeable', entry('one'), 'a');
    await publish(hamlet, PUBSUB, 'purgeable', entry('two'), 'b');
    await subscribe(francisco, PUBSUB, 'purgeable', 'francisco@localhost');
    expectError(await iq(francisco, 'set', PUBSUB, owner(xml('purge', { node: 'purgeable' }))), 'auth', 'forbidden');
    const notified = nextEvent(francisco, 'purgeable');
    assert.equal(result(await iq(hamlet, 'set', PUBSUB, owner(xml('purge', { node: 'purgeable' })))), undefined);
    const purge = (await notified).getChild('event', NS_EVENT)!.getChild('purge');
    assert.equal(purge?.attrs.node, 'purgeable');
    const items = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'purgeable' }))))!;
    assert.equal(items.getChild('items')!.getChildren('item').length, 0);
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('purge', { node: 'nowhere' }))), 'cancel', 'item-not-found');
  });

  test('§8.4: delete with redirect notifies subscribers; the node is then gone, with its new address', async () => {
    await createNode(hamlet, PUBSUB, 'old_musings');
    await subscribe(francisco, PUBSUB, 'old_musings', 'francisco@localhost');
    expectError(await iq(francisco, 'set', PUBSUB, owner(xml('delete', { node: 'old_musings' }))), 'auth', 'forbidden');
    const notified = nextEvent(francisco, 'old_musings');
    const uri = 'xmpp:hamlet@localhost?;node=blog';
    assert.equal(result(await iq(hamlet, 'set', PUBSUB, owner(xml('delete', { node: 'old_musings' }, xml('redirect', { uri }))))), undefined);
    const del = (await notified).getChild('event', NS_EVENT)!.getChild('delete')!;
    assert.equal(del.attrs.node, 'old_musings');
    assert.equal(del.getChild('redirect')?.attrs.uri, uri);
    // §6.1.3.11: the node has moved.
    const gone = expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'old_musings', jid: 'bernardo@localhost' }))), 'cancel', 'gone');
    assert.equal(gone.getChild('gone')?.text().trim(), uri);
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('delete', { node: 'old_musings' }))), 'cancel', 'gone');
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('delete', { node: 'never_was' }))), 'cancel', 'item-not-found');
    // Creating it again lifts the redirect.
    await createNode(hamlet, PUBSUB, 'old_musings');
  });

  test('§8.8: the owner lists and changes subscriptions; the subscriber hears of it (§8.8.5)', async () => {
    await createNode(hamlet, PUBSUB, 'managed');
    const sub = await subscribe(francisco, PUBSUB, 'managed', 'francisco@localhost');
    const list = result(await iq(hamlet, 'get', PUBSUB, owner(xml('subscriptions', { node: 'managed' }))))!;
    assert.equal(list.attrs.xmlns, NS_OWNER);
    const subs = list.getChild('subscriptions')!;
    assert.equal(subs.attrs.node, 'managed');
    assert.deepEqual(
      subs.getChildren('subscription').map((s) => [s.attrs.jid, s.attrs.subscription, s.attrs.subid]),
      [['francisco@localhost', 'subscribed', sub.attrs.subid]],
    );
    expectError(await iq(francisco, 'get', PUBSUB, owner(xml('subscriptions', { node: 'managed' }))), 'auth', 'forbidden');

    const told = nextEvent(bernardo, 'managed');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('subscriptions', { node: 'managed' }, xml('subscription', { jid: 'bernardo@localhost', subscription: 'subscribed' })))));
    const notice = (await told).getChild('event', NS_EVENT)!.getChild('subscription')!;
    assert.equal(notice.attrs.node, 'managed');
    assert.equal(notice.attrs.jid, 'bernardo@localhost');
    assert.equal(notice.attrs.subscription, 'subscribed');

    // §8.8.2.4: one invalid entry fails, with its current state; the valid ones are applied.
    const cancelled = nextEvent(francisco, 'managed');
    const mixed = await iq(
      hamlet,
      'set',
      PUBSUB,
      owner(xml('subscriptions', { node: 'managed' }, xml('subscription', { jid: 'francisco@localhost', subscription: 'none' }), xml('subscription', { jid: 'bernardo@localhost', subscription: 'bogus' }))),
    );
    expectError(mixed, 'modify', 'not-acceptable');
    const failed = mixed.getChild('pubsub', NS_OWNER)!.getChild('subscriptions')!.getChildren('subscription');
    assert.deepEqual(failed.map((s) => [s.attrs.jid, s.attrs.subscription]), [['bernardo@localhost', 'subscribed']]);
    assert.equal((await cancelled).getChild('event', NS_EVENT)!.getChild('subscription')!.attrs.subscription, 'none');
    const after = result(await iq(hamlet, 'get', PUBSUB, owner(xml('subscriptions', { node: 'managed' }))))!;
    assert.deepEqual(after.getChild('subscriptions')!.getChildren('subscription').map((s) => s.attrs.jid), ['bernardo@localhost']);
  });

  test('§8.9: the owner manages affiliations; the last owner cannot go (§8.9.2.4)', async () => {
    await createNode(hamlet, PUBSUB, 'affiliated');
    const list = result(await iq(hamlet, 'get', PUBSUB, owner(xml('affiliations', { node: 'affiliated' }))))!;
    assert.deepEqual(list.getChild('affiliations')!.getChildren('affiliation').map((a) => [a.attrs.jid, a.attrs.affiliation]), [['hamlet@localhost', 'owner']]);
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'affiliated' }, xml('affiliation', { jid: 'francisco@localhost', affiliation: 'publisher' })))));
    // Now Francisco publishes.
    await publish(francisco, PUBSUB, 'affiliated', entry('by francisco'), 'f1');
    const refused = await iq(
      hamlet,
      'set',
      PUBSUB,
      owner(
        xml(
          'affiliations',
          { node: 'affiliated' },
          xml('affiliation', { jid: 'hamlet@localhost', affiliation: 'none' }),
          xml('affiliation', { jid: 'bernardo@localhost', affiliation: 'outcast' }),
        ),
      ),
    );
    expectError(refused, 'modify', 'not-acceptable');
    const failed = refused.getChild('pubsub', NS_OWNER)!.getChild('affiliations')!.getChildren('affiliation');
    assert.deepEqual(failed.map((a) => [a.attrs.jid, a.attrs.affiliation]), [['hamlet@localhost', 'owner']]);
    const now = result(await iq(hamlet, 'get', PUBSUB, owner(xml('affiliations', { node: 'affiliated' }))))!;
    assert.deepEqual(
      now.getChild('affiliations')!.getChildren('affiliation').map((a) => [a.attrs.jid, a.attrs.affiliation]).sort(),
      [['bernardo@localhost', 'outcast'], ['francisco@localhost', 'publisher'], ['hamlet@localhost', 'owner']],
    );
    // An outcast may not subscribe (§6.1.3.8) nor retrieve (§6.5.9.10).
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'affiliated', jid: 'bernardo@localhost' }))), 'auth', 'forbidden');
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'affiliated' }))), 'auth', 'forbidden');
    // §8.9.2.4: the same entity twice is a bad request.
    const twice = await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'affiliated' }, xml('affiliation', { jid: 'bernardo@localhost', affiliation: 'none' }), xml('affiliation', { jid: 'bernardo@localhost', affiliation: 'member' }))));
    expectError(twice, 'modify', 'bad-request');
    // §8.9.2.3.2: an affiliation that does not exist.
    expectError(await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'affiliated' }, xml('affiliation', { jid: 'bernardo@localhost', affiliation: 'king' })))), 'cancel', 'feature-not-implemented', 'unsupported', 'king-affiliation');
    // §5.7: each entity sees its own affiliations.
    const mine = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('affiliations'))))!;
    assert.deepEqual(mine.getChild('affiliations')!.getChildren('affiliation').map((a) => [a.attrs.node, a.attrs.affiliation]), [['affiliated', 'publisher']]);
  });

  test('§6.1.4 and §8.6: on an authorize node a subscription waits for an owner, who approves it by message', async () => {
    await createNode(hamlet, PUBSUB, 'secret', { 'pubsub#access_model': 'authorize' });
    await publish(hamlet, PUBSUB, 'secret', entry('hidden'), 'h1');
    const request = nextStanza(hamlet, (s) => s.is('message') && s.getChild('x', NS_DATA) !== undefined);
    const pending = await subscribe(bernardo, PUBSUB, 'secret', 'bernardo@localhost');
    assert.equal(pending.attrs.subscription, 'pending');
    // §6.5.9.3: pending is not subscribed.
    expectError(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'secret' }))), 'auth', 'not-authorized', 'not-subscribed');
    // §6.1.3.7: asking again while pending.
    expectError(await iq(bernardo, 'set', PUBSUB, pubsub(xml('subscribe', { node: 'secret', jid: 'bernardo@localhost' }))), 'auth', 'not-authorized', 'pending-subscription');

    const message = await request;
    assert.equal(message.attrs.from, PUBSUB);
    const x = message.getChild('x', NS_DATA)!;
    assert.equal(x.attrs.type, 'form');
    const f = fields(x);
    assert.deepEqual(f.get('FORM_TYPE')?.values, ['http://jabber.org/protocol/pubsub#subscribe_authorization']);
    assert.deepEqual(f.get('pubsub#node')?.values, ['secret']);
    assert.deepEqual(f.get('pubsub#subscriber_jid')?.values, ['bernardo@localhost']);
    assert.deepEqual(f.get('pubsub#allow')?.values, ['false']);
    assert.equal(f.get('pubsub#allow')?.type, 'boolean');

    const approved = nextEvent(bernardo, 'secret');
    const lastItem = nextStanza(bernardo, (s) => s.is('message') && s.getChild('event', NS_EVENT)?.getChild('items') !== undefined);
    await hamlet.send(
      xml(
        'message',
        { to: PUBSUB, id: message.attrs.id },
        form('http://jabber.org/protocol/pubsub#subscribe_authorization', {
          'pubsub#subid': f.get('pubsub#subid')!.values[0],
          'pubsub#node': 'secret',
          'pubsub#subscriber_jid': 'bernardo@localhost',
          'pubsub#allow': 'true',
        }),
      ),
    );
    const notice = (await approved).getChild('event', NS_EVENT)!.getChild('subscription')!;
    assert.deepEqual([notice.attrs.node, notice.attrs.jid, notice.attrs.subscription], ['secret', 'bernardo@localhost', 'subscribed']);
    assert.equal((await lastItem).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.attrs.id, 'h1');
    const items = result(await iq(bernardo, 'get', PUBSUB, pubsub(xml('items', { node: 'secret' }))))!;
    assert.equal(items.getChild('items')!.getChildren('item').length, 1);
  });

  test('§8.6: a denied request ends with subscription none', async () => {
    await createNode(hamlet, PUBSUB, 'closed', { 'pubsub#access_model': 'authorize' });
    const request = nextStanza(hamlet, (s) => s.is('message') && s.getChild('x', NS_DATA) !== undefined);
    await subscribe(francisco, PUBSUB, 'closed', 'francisco@localhost');
    const f = fields((await request).getChild('x', NS_DATA));
    const denied = nextEvent(francisco, 'closed');
    await hamlet.send(
      xml(
        'message',
        { to: PUBSUB },
        form('http://jabber.org/protocol/pubsub#subscribe_authorization', {
          'pubsub#subid': f.get('pubsub#subid')!.values[0],
          'pubsub#node': 'closed',
          'pubsub#subscriber_jid': 'francisco@localhost',
          'pubsub#allow': 'false',
        }),
      ),
    );
    assert.equal((await denied).getChild('event', NS_EVENT)!.getChild('subscription')!.attrs.subscription, 'none');
    const mine = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('subscriptions', { node: 'closed' }))))!;
    assert.equal(mine.getChild('subscriptions')!.getChildren('subscription').length, 0);
  });

  test('§8.7: get-pending (XEP-0050) lists the owned nodes, then sends the pending requests of one again', async () => {
    await createNode(hamlet, PUBSUB, 'guarded', { 'pubsub#access_model': 'authorize' });
    const first = nextStanza(hamlet, (s) => s.is('message') && s.getChild('x', NS_DATA) !== undefined);
    await subscribe(bernardo, PUBSUB, 'guarded', 'bernardo@localhost');
    await first;
    const step1 = result(await iq(hamlet, 'set', PUBSUB, xml('command', { xmlns: NS_COMMANDS, node: 'http://jabber.org/protocol/pubsub#get-pending', action: 'execute' })))!;
    assert.equal(step1.attrs.status, 'executing');
    const options = fields(step1.getChild('x', NS_DATA)).get('pubsub#node')!.options;
    assert.ok(options.includes('guarded') && options.includes('secret'));
    const again = nextStanza(hamlet, (s) => s.is('message') && fields(s.getChild('x', NS_DATA) ?? undefined).get('pubsub#node')?.values[0] === 'guarded');
    const step2 = result(
      await iq(
        hamlet,
        'set',
        PUBSUB,
        xml('command', { xmlns: NS_COMMANDS, node: 'http://jabber.org/protocol/pubsub#get-pending', sessionid: step1.attrs.sessionid }, form('http://jabber.org/protocol/pubsub#subscribe_authorization', { 'pubsub#node': 'guarded' })),
      ),
    )!;
    assert.equal(step2.attrs.status, 'completed');
    assert.deepEqual(fields((await again).getChild('x', NS_DATA)).get('pubsub#subscriber_jid')?.values, ['bernardo@localhost']);
    // §8.7.3.3
    expectError(await iq(francisco, 'set', PUBSUB, xml('command', { xmlns: NS_COMMANDS, node: 'http://jabber.org/protocol/pubsub#get-pending', action: 'execute' })), 'auth', 'forbidden');
  });

  test('XEP-0050 §2.2: the get-pending command is discoverable', async () => {
    const commands = result(await iq(hamlet, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })))!;
    assert.deepEqual(commands.getChildren('item').map((i) => [i.attrs.jid, i.attrs.node]), [[PUBSUB, 'http://jabber.org/protocol/pubsub#get-pending']]);
    const info = result(await iq(hamlet, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_INFO, node: 'http://jabber.org/protocol/pubsub#get-pending' })))!;
    assert.equal(info.getChild('identity')!.attrs.category, 'automation');
  });

  test('notify_sub (§16.4.4): owners hear of subscriptions and unsubscriptions', async () => {
    await createNode(hamlet, PUBSUB, 'watched', { 'pubsub#notify_sub': '1' });
    const told = nextEvent(hamlet, 'watched');
    const sub = await subscribe(bernardo, PUBSUB, 'watched', 'bernardo@localhost');
    const notice = (await told).getChild('event', NS_EVENT)!.getChild('subscription')!;
    assert.deepEqual([notice.attrs.node, notice.attrs.jid, notice.attrs.subscription, notice.attrs.subid], ['watched', 'bernardo@localhost', 'subscribed', sub.attrs.subid]);
    const bye = nextEvent(hamlet, 'watched');
    result(await iq(bernardo, 'set', PUBSUB, pubsub(xml('unsubscribe', { node: 'watched', jid: 'bernardo@localhost' }))));
    assert.equal((await bye).getChild('event', NS_EVENT)!.getChild('subscription')!.attrs.subscription, 'none');
  });

  test('§5.2: disco#items of the service lists its nodes', async () => {
    const items = result(await iq(francisco, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS })))!;
    const nodes = items.getChildren('item').map((i) => i.attrs.node);
    assert.ok(nodes.includes('princely_musings'));
    for (const item of items.getChildren('item')) assert.equal(item.attrs.jid, PUBSUB);
    const titled = items.getChildren('item').find((i) => i.attrs.node === 'princely_musings');
    assert.equal(titled?.attrs.name, 'Princely Musings (Atom)');
    // A whitelist node is not shown to those who cannot use it.
    assert.ok(!nodes.includes('elsinore'));
    const own = result(await iq(hamlet, 'get', PUBSUB, xml('query', { xmlns: NS_DISCO_ITEMS })))!;
    assert.ok(own.getChildren('item').some((i) => i.attrs.node === 'elsinore'));
  });
});
