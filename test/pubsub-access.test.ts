// XEP-0060 §4.5 access models, seen by a stranger, a contact with a presence subscription to the owner, a
// contact in an allowed roster group, a whitelisted member and the owner: for subscribing (§6.1.3), retrieving
// items (§6.5.9) and receiving notifications (§7.1.2, Security Considerations "Access Models").
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NODE_CONFIG,
  NS_EVENT,
  PUBSUB,
  befriend,
  collect,
  createNode,
  entry,
  expectError,
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

describe('XEP-0060 access models', () => {
  let server: TestServer;
  /** The owner. */
  let hamlet: XmppClient;
  /** A contact with a mutual presence subscription, in Hamlet's "friends" group. */
  let horatio: XmppClient;
  /** A contact with a mutual presence subscription, in the "servants" group. */
  let francisco: XmppClient;
  /** No relation to Hamlet. */
  let bernardo: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['hamlet', 'horatio', 'francisco', 'bernardo']) await server.createUser(user);
    await befriend(server, 'hamlet', 'horatio', ['friends']);
    await befriend(server, 'hamlet', 'francisco', ['servants']);
    hamlet = await connectClient(server, 'hamlet', undefined, 'elsinore');
    horatio = await connectClient(server, 'horatio', undefined, 'study');
    francisco = await connectClient(server, 'francisco', undefined, 'barracks');
    bernardo = await connectClient(server, 'bernardo', undefined, 'wall');
    for (const c of [hamlet, horatio, francisco, bernardo]) await c.send(xml('presence'));
    await Promise.all([hamlet, horatio, francisco, bernardo].map(roundTrip));
  });

  after(async () => {
    await Promise.allSettled([hamlet, horatio, francisco, bernardo].map((c) => c?.stop()));
    await server?.stop();
  });

  const items = (client: XmppClient, node: string) => iq(client, 'get', PUBSUB, pubsub(xml('items', { node })));
  const trySubscribe = (client: XmppClient, user: string, node: string) => iq(client, 'set', PUBSUB, pubsub(xml('subscribe', { node, jid: `${user}@localhost` })));

  test('open: anyone subscribes and retrieves', async () => {
    await createNode(hamlet, PUBSUB, 'open_node');
    await publish(hamlet, PUBSUB, 'open_node', entry('for all'), 'o1');
    assert.equal(result(await items(bernardo, 'open_node'))!.getChild('items')!.getChildren('item').length, 1);
    assert.equal((await subscribe(bernardo, PUBSUB, 'open_node', 'bernardo@localhost')).attrs.subscription, 'subscribed');
  });

  test('presence: contacts with a presence subscription may; strangers get presence-subscription-required', async () => {
    await createNode(hamlet, PUBSUB, 'presence_node', { 'pubsub#access_model': 'presence' });
    await publish(hamlet, PUBSUB, 'presence_node', entry('for friends and servants'), 'p1');
    expectError(await items(bernardo, 'presence_node'), 'auth', 'not-authorized', 'presence-subscription-required');
    expectError(await trySubscribe(bernardo, 'bernardo', 'presence_node'), 'auth', 'not-authorized', 'presence-subscription-required');
    assert.equal(result(await items(horatio, 'presence_node'))!.getChild('items')!.getChildren('item').length, 1);
    assert.equal(result(await items(francisco, 'presence_node'))!.getChild('items')!.getChildren('item').length, 1);
    assert.equal(result(await items(hamlet, 'presence_node'))!.getChild('items')!.getChildren('item').length, 1);
    await subscribe(horatio, PUBSUB, 'presence_node', 'horatio@localhost');
  });

  test('roster: only contacts in the allowed groups; others get not-in-roster-group', async () => {
    await createNode(hamlet, PUBSUB, 'roster_node', { 'pubsub#access_model': 'roster', 'pubsub#roster_groups_allowed': ['friends'] });
    await publish(hamlet, PUBSUB, 'roster_node', entry('for friends'), 'r1');
    assert.equal(result(await items(horatio, 'roster_node'))!.getChild('items')!.getChildren('item').length, 1);
    expectError(await items(francisco, 'roster_node'), 'auth', 'not-authorized', 'not-in-roster-group');
    expectError(await trySubscribe(francisco, 'francisco', 'roster_node'), 'auth', 'not-authorized', 'not-in-roster-group');
    expectError(await items(bernardo, 'roster_node'), 'auth', 'not-authorized', 'presence-subscription-required');
    // §8.2.1: the owner's groups are offered in the configuration form.
    const conf = result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'roster_node' }))))!;
    const groups = conf.getChild('configure')!.getChild('x')!.getChildren('field').find((f) => f.attrs.var === 'pubsub#roster_groups_allowed')!;
    assert.deepEqual(groups.getChildren('option').map((o) => o.getChildText('value')), ['friends', 'servants']);
    assert.deepEqual(groups.getChildren('value').map((v) => v.text()), ['friends']);
  });

  test('whitelist: only members (and owners); others get closed-node', async () => {
    await createNode(hamlet, PUBSUB, 'whitelist_node', { 'pubsub#access_model': 'whitelist' });
    await publish(hamlet, PUBSUB, 'whitelist_node', entry('for members'), 'w1');
    expectError(await items(horatio, 'whitelist_node'), 'cancel', 'not-allowed', 'closed-node');
    expectError(await trySubscribe(bernardo, 'bernardo', 'whitelist_node'), 'cancel', 'not-allowed', 'closed-node');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'whitelist_node' }, xml('affiliation', { jid: 'bernardo@localhost', affiliation: 'member' })))));
    assert.equal(result(await items(bernardo, 'whitelist_node'))!.getChild('items')!.getChildren('item').length, 1);
    await subscribe(bernardo, PUBSUB, 'whitelist_node', 'bernardo@localhost');
  });

  test('authorize: anyone may ask; only approved subscribers retrieve', async () => {
    await createNode(hamlet, PUBSUB, 'authorize_node', { 'pubsub#access_model': 'authorize' });
    expectError(await items(bernardo, 'authorize_node'), 'auth', 'not-authorized', 'not-subscribed');
    assert.equal((await subscribe(bernardo, PUBSUB, 'authorize_node', 'bernardo@localhost')).attrs.subscription, 'pending');
    // A member is admitted at once.
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'authorize_node' }, xml('affiliation', { jid: 'horatio@localhost', affiliation: 'member' })))));
    assert.equal((await subscribe(horatio, PUBSUB, 'authorize_node', 'horatio@localhost')).attrs.subscription, 'subscribed');
    result(await items(horatio, 'authorize_node'));
  });

  test('notifications follow the access model at the time of publishing', async () => {
    await createNode(hamlet, PUBSUB, 'changing');
    await subscribe(bernardo, PUBSUB, 'changing', 'bernardo@localhost');
    await subscribe(horatio, PUBSUB, 'changing', 'horatio@localhost');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('configure', { node: 'changing' }, form(NODE_CONFIG, { 'pubsub#access_model': 'presence' })))));
    const toStranger = collect(bernardo, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'changing');
    const toContact = nextEvent(horatio, 'changing');
    await publish(hamlet, PUBSUB, 'changing', entry('now for contacts only'));
    await toContact;
    await roundTrip(hamlet);
    await roundTrip(bernardo);
    assert.equal(toStranger.length, 0, 'the stranger, still subscribed, gets nothing');
  });

  test('disco hides nodes from those who may not use them (§5.2, §5.3)', async () => {
    const nodes = async (client: XmppClient) =>
      result(await iq(client, 'get', PUBSUB, xml('query', { xmlns: 'http://jabber.org/protocol/disco#items' })))!
        .getChildren('item')
        .map((i) => i.attrs.node)
        .sort();
    assert.deepEqual(await nodes(bernardo), ['authorize_node', 'open_node', 'whitelist_node']);
    assert.deepEqual(await nodes(francisco), ['authorize_node', 'changing', 'open_node', 'presence_node']);
    assert.deepEqual(await nodes(hamlet), ['authorize_node', 'changing', 'open_node', 'presence_node', 'roster_node', 'whitelist_node']);
    expectError(await iq(bernardo, 'get', PUBSUB, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info', node: 'roster_node' })), 'cancel', 'item-not-found');
  });
});
