// Nodes, configuration, affiliations, subscriptions and items survive a restart of the server on the same
// data folder, for the pubsub service and for PEP; limits apply to what was stored before.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NS_DATA,
  NS_EVENT,
  PUBSUB,
  befriend,
  capsClient,
  createNode,
  entry,
  expectError,
  fields,
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

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  pubsub:\n  pep:';
const TUNE = 'http://jabber.org/protocol/tune';

describe('PubSub and PEP across a restart', () => {
  let server: TestServer;
  const clients: XmppClient[] = [];
  let subid = '';

  const login = async (user: string, resource: string) => {
    const client = await connectClient(server, user, undefined, resource);
    clients.push(client);
    await client.send(xml('presence'));
    await roundTrip(client);
    return client;
  };

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['hamlet', 'francisco', 'juliet', 'romeo']) await server.createUser(user);
    await befriend(server, 'juliet', 'romeo');
    const hamlet = await login('hamlet', 'elsinore');
    const francisco = await login('francisco', 'barracks');
    await createNode(hamlet, PUBSUB, 'princely_musings', { 'pubsub#title': 'Princely Musings', 'pubsub#max_items': '3', 'pubsub#access_model': 'presence' });
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('affiliations', { node: 'princely_musings' }, xml('affiliation', { jid: 'francisco@localhost', affiliation: 'publisher' })))));
    subid = (await subscribe(francisco, PUBSUB, 'princely_musings', 'francisco@localhost')).attrs.subid;
    for (const n of [1, 2, 3]) await publish(francisco, PUBSUB, 'princely_musings', entry(`musing ${n}`), `m${n}`);
    await createNode(hamlet, PUBSUB, 'moved');
    result(await iq(hamlet, 'set', PUBSUB, owner(xml('delete', { node: 'moved' }, xml('redirect', { uri: 'xmpp:pubsub.localhost?;node=princely_musings' })))));
    const juliet = await login('juliet', 'balcony');
    await publish(juliet, undefined, TUNE, xml('tune', { xmlns: TUNE }, xml('title', {}, 'Kept')), 'current');

    await Promise.allSettled(clients.splice(0).map((c) => c.stop()));
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir: server.dataDir });
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.stop()));
    await server?.stop();
  });

  test('the node keeps its configuration and affiliations', async () => {
    const hamlet = await login('hamlet', 'elsinore');
    const f = fields(result(await iq(hamlet, 'get', PUBSUB, owner(xml('configure', { node: 'princely_musings' }))))!.getChild('configure')!.getChild('x', NS_DATA));
    assert.deepEqual(f.get('pubsub#title')?.values, ['Princely Musings']);
    assert.deepEqual(f.get('pubsub#max_items')?.values, ['3']);
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['presence']);
    const affiliations = result(await iq(hamlet, 'get', PUBSUB, owner(xml('affiliations', { node: 'princely_musings' }))))!;
    assert.deepEqual(
      affiliations.getChild('affiliations')!.getChildren('affiliation').map((a) => [a.attrs.jid, a.attrs.affiliation]).sort(),
      [['francisco@localhost', 'publisher'], ['hamlet@localhost', 'owner']],
    );
  });

  test('items are kept in order, and max_items still trims', async () => {
    const francisco = await login('francisco', 'barracks');
    const ids = async () => result(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'princely_musings' }))))!.getChild('items')!.getChildren('item').map((i) => i.attrs.id);
    assert.deepEqual(await ids(), ['m1', 'm2', 'm3']);
    // The subscription is there: the publish reaches Francisco, with the same SubID.
    const subs = result(await iq(francisco, 'get', PUBSUB, pubsub(xml('subscriptions'))))!.getChild('subscriptions')!.getChildren('subscription');
    assert.deepEqual(subs.map((s) => [s.attrs.node, s.attrs.subid, s.attrs.subscription]), [['princely_musings', subid, 'subscribed']]);
    // The last item may also arrive for his new presence (send_last_published_item, with a delay stamp); the
    // notification of this publish is the one without.
    const notified = nextStanza(francisco, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === 'princely_musings' && !s.getChild('delay', 'urn:xmpp:delay'));
    await publish(francisco, PUBSUB, 'princely_musings', entry('musing 4'), 'm4');
    assert.equal((await notified).getChild('event', NS_EVENT)!.getChild('items')!.getChildren('item')[0]?.attrs.id ?? 'retract', 'm4');
    assert.deepEqual(await ids(), ['m2', 'm3', 'm4']);
  });

  test('a deleted node with a redirect is still gone', async () => {
    const francisco = await login('francisco', 'tower');
    const gone = expectError(await iq(francisco, 'get', PUBSUB, pubsub(xml('items', { node: 'moved' }))), 'cancel', 'gone');
    assert.equal(gone.getChild('gone')!.text(), 'xmpp:pubsub.localhost?;node=princely_musings');
  });

  test('PEP: the last item is kept and sent to a contact asking for it', async () => {
    let last: Promise<X> | undefined;
    const romeo = await capsClient(server, 'romeo', 'orchard', [`${TUNE}+notify`], (client) => (last = nextEvent(client, TUNE, 'juliet@localhost')));
    clients.push(romeo);
    const message = await last!;
    assert.equal(message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.attrs.id, 'current');
    const items = result(await iq(romeo, 'get', 'juliet@localhost', pubsub(xml('items', { node: TUNE }))))!;
    assert.equal(items.getChild('items')!.getChild('item')!.getChild('tune', TUNE)!.getChildText('title'), 'Kept');
  });
});
