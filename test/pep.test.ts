// XEP-0163 Personal Eventing Protocol: Juliet's bare JID is her pubsub service. Romeo (a contact in her
// "Friends" group), the Nurse (a contact in "Servants") and Benvolio (no presence subscription) see her events
// as the access models and their entity capabilities (+notify, XEP-0115) say. Includes the OMEMO device-list
// case (publish-options access_model=open on a fresh account) and XEP-0223 private storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import {
  NS_CAPS,
  NS_DATA,
  NS_DELAY,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_EVENT,
  NS_OWNER,
  PUBLISH_OPTIONS,
  befriend,
  capsClient,
  capsVer,
  collect,
  errorText,
  expectError,
  fields,
  form,
  iq,
  nextEvent,
  publish,
  pubsub,
  result,
  roundTrip,
  xml,
  type X,
} from './helpers/pubsub.js';

const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  caps:\n  ping:\n  blocking:\n  stanza_id:\n  pep:';
const TUNE = 'http://jabber.org/protocol/tune';
const GEOLOC = 'http://jabber.org/protocol/geoloc';
const DEVICELIST = 'eu.siacs.conversations.axolotl.devicelist';
const BOOKMARKS = 'urn:xmpp:bookmarks:1';

const tune = (title: string) => xml('tune', { xmlns: TUNE }, xml('artist', {}, 'Gerald Finzi'), xml('title', {}, title));
const geoloc = (place: string) => xml('geoloc', { xmlns: GEOLOC }, xml('locality', {}, place));

describe('XEP-0163 Personal Eventing Protocol', () => {
  let server: TestServer;
  let juliet: XmppClient;
  let romeo: XmppClient;
  let nurse: XmppClient;
  let benvolio: XmppClient;
  const clients: XmppClient[] = [];

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['juliet', 'romeo', 'nurse', 'benvolio', 'mercutio']) await server.createUser(user);
    await befriend(server, 'juliet', 'romeo', ['Friends']);
    await befriend(server, 'juliet', 'nurse', ['Servants']);
    juliet = await capsClient(server, 'juliet', 'balcony', [`${TUNE}+notify`, `${BOOKMARKS}+notify`]);
    romeo = await capsClient(server, 'romeo', 'orchard', [`${TUNE}+notify`, `${GEOLOC}+notify`, `${DEVICELIST}+notify`]);
    nurse = await capsClient(server, 'nurse', 'chamber', [`${GEOLOC}+notify`]);
    benvolio = await capsClient(server, 'benvolio', 'square', [`${TUNE}+notify`, `${GEOLOC}+notify`, `${DEVICELIST}+notify`]);
    clients.push(juliet, romeo, nurse, benvolio);
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.stop()));
    await server?.stop();
  });

  test('§6.1: the account is a pubsub/pep service with the XEP-0060 features', async () => {
    const query = result(await iq(juliet, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_INFO })))!;
    const identities = query.getChildren('identity').map((i) => `${i.attrs.category}/${i.attrs.type}`);
    assert.deepEqual(identities.sort(), ['account/registered', 'pubsub/pep']);
    const features = query.getChildren('feature').map((f) => f.attrs.var);
    for (const name of ['publish', 'publish-options', 'auto-create', 'auto-subscribe', 'filtered-notifications', 'access-presence', 'persistent-items', 'retrieve-items', 'subscribe', 'create-nodes', 'config-node', 'pubsub-on-a-jid']) {
      assert.ok(features.includes(`http://jabber.org/protocol/pubsub#${name}`), name);
    }
    assert.ok(features.includes(NS_DISCO_INFO));
    // XEP-0223 §5: the server itself says it has PEP with publish-options.
    const host = result(await iq(juliet, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_INFO })))!;
    assert.ok(host.getChildren('identity').some((i) => i.attrs.category === 'pubsub' && i.attrs.type === 'pep'));
    assert.ok(host.getChildren('feature').some((f) => f.attrs.var === 'http://jabber.org/protocol/pubsub#publish-options'));
    // Accounts that do not exist are not services.
    expectError(await iq(juliet, 'get', 'nobody@localhost', xml('query', { xmlns: NS_DISCO_INFO })), 'cancel', 'service-unavailable');
  });

  test('OMEMO: a fresh account publishes its device list with publish-options access_model=open; its other client and its contacts are notified', async () => {
    const phone = await capsClient(server, 'mercutio', 'phone', [`${DEVICELIST}+notify`]);
    const laptop = await connectClient(server, 'mercutio', undefined, 'laptop');
    clients.push(phone, laptop);
    await befriend(server, 'mercutio', 'romeo');
    const toPhone = nextEvent(phone, DEVICELIST);
    const toRomeo = nextEvent(romeo, DEVICELIST, 'mercutio@localhost');
    const stranger = collect(benvolio, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === DEVICELIST);
    const reply = await iq(
      laptop,
      'set',
      undefined,
      pubsub(
        xml('publish', { node: DEVICELIST }, xml('item', { id: 'current' }, xml('list', { xmlns: 'eu.siacs.conversations.axolotl' }, xml('device', { id: '12345' })))),
        xml('publish-options', {}, form(PUBLISH_OPTIONS, { 'pubsub#access_model': 'open' })),
      ),
    );
    const published = result(reply)!.getChild('publish')!;
    assert.equal(published.attrs.node, DEVICELIST);
    assert.equal(published.getChild('item')?.attrs.id, 'current');
    assert.equal(reply.attrs.from, 'mercutio@localhost');
    for (const message of [await toPhone, await toRomeo]) {
      assert.equal(message.attrs.from, 'mercutio@localhost');
      assert.equal(message.attrs.type, 'headline');
      const item = message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
      assert.equal(item.attrs.id, 'current');
      assert.equal(item.getChild('list', 'eu.siacs.conversations.axolotl')!.getChild('device')!.attrs.id, '12345');
    }
    assert.equal((await toPhone).attrs.to, 'mercutio@localhost/phone');
    await roundTrip(benvolio);
    assert.equal(stranger.length, 0, 'no presence subscription, no implicit subscription');
    // Open access: anyone reads it.
    const items = result(await iq(benvolio, 'get', 'mercutio@localhost', pubsub(xml('items', { node: DEVICELIST }))))!;
    assert.equal(items.getChild('items')!.getChild('item')!.attrs.id, 'current');
    // Publishing again with the same precondition works; a bundle node is auto-created as well.
    await publish(laptop, undefined, DEVICELIST, xml('list', { xmlns: 'eu.siacs.conversations.axolotl' }, xml('device', { id: '12345' }), xml('device', { id: '6789' })), 'current', { 'pubsub#access_model': 'open' });
    await publish(laptop, undefined, 'eu.siacs.conversations.axolotl.bundles:12345', xml('bundle', { xmlns: 'eu.siacs.conversations.axolotl' }), 'current', { 'pubsub#access_model': 'open' });
  });

  test('§4: default presence access: contacts with +notify are notified, others not; Juliet herself too', async () => {
    const toRomeo = nextEvent(romeo, TUNE);
    const toJuliet = nextEvent(juliet, TUNE);
    const toBenvolio = collect(benvolio, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === TUNE);
    const toNurse = collect(nurse, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === TUNE);
    await publish(juliet, undefined, TUNE, tune('Introduction (Allegro vigoroso)'));
    const message = await toRomeo;
    assert.equal(message.attrs.from, 'juliet@localhost');
    assert.equal(message.attrs.to, 'romeo@localhost/orchard');
    assert.equal(message.attrs.type, 'headline');
    const item = message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.getChild('tune', TUNE)!.getChildText('title'), 'Introduction (Allegro vigoroso)');
    assert.equal((await toJuliet).attrs.to, 'juliet@localhost/balcony');
    await roundTrip(benvolio);
    await roundTrip(nurse);
    assert.equal(toBenvolio.length, 0, 'Benvolio has no presence subscription');
    assert.equal(toNurse.length, 0, 'the Nurse did not ask for tunes (+notify)');
    // Item retrieval follows the same model (XEP-0060 §6.5.9.5).
    result(await iq(romeo, 'get', 'juliet@localhost', pubsub(xml('items', { node: TUNE }))));
    expectError(await iq(benvolio, 'get', 'juliet@localhost', pubsub(xml('items', { node: TUNE }))), 'auth', 'not-authorized', 'presence-subscription-required');
  });

  test('roster access: only the Friends group hears of geolocation', async () => {
    const toRomeo = nextEvent(romeo, GEOLOC);
    const toNurse = collect(nurse, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === GEOLOC);
    await publish(juliet, undefined, GEOLOC, geoloc('Verona'), undefined, { 'pubsub#access_model': 'roster', 'pubsub#roster_groups_allowed': 'Friends' });
    assert.equal((await toRomeo).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.getChild('geoloc', GEOLOC)!.getChildText('locality'), 'Verona');
    await roundTrip(nurse);
    assert.equal(toNurse.length, 0);
    expectError(await iq(nurse, 'get', 'juliet@localhost', pubsub(xml('items', { node: GEOLOC }))), 'auth', 'not-authorized', 'not-in-roster-group');
  });

  test('§4.3.4: a newly available resource asking for +notify gets the last items, stamped with a delay', async () => {
    const lute = await connectClient(server, 'romeo', undefined, 'lute');
    clients.push(lute);
    const isEvent = (s: X) => s.getChild('event', NS_EVENT) !== undefined;
    const seen = collect(lute, isEvent);
    // The same caps as the orchard resource: the server knows them already and does not ask again.
    const features = [NS_DISCO_INFO, NS_CAPS, `${TUNE}+notify`, `${GEOLOC}+notify`, `${DEVICELIST}+notify`];
    const ver = capsVer({ category: 'client', type: 'pc', name: 'Quire test' }, features);
    const three = nextStanza(lute, () => seen.length === 3);
    await lute.send(xml('presence', {}, xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: 'https://quire.im/test-client', ver })));
    await three;
    const byNode = new Map(seen.map((s) => [`${s.attrs.from} ${s.getChild('event', NS_EVENT)!.getChild('items')!.attrs.node}`, s]));
    assert.deepEqual([...byNode.keys()].sort(), [`juliet@localhost ${GEOLOC}`, `juliet@localhost ${TUNE}`, `mercutio@localhost ${DEVICELIST}`]);
    const message = byNode.get(`juliet@localhost ${TUNE}`)!;
    assert.equal(message.attrs.to, 'romeo@localhost/lute');
    assert.ok(message.getChild('delay', NS_DELAY), 'XEP-0203 delay on the last item');
    assert.equal(message.getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!.getChild('tune', TUNE)!.getChildText('title'), 'Introduction (Allegro vigoroso)');
    // Another presence from the same resource sends nothing again (§4.3.2 footnote).
    await lute.send(xml('presence', {}, xml('show', {}, 'away'), xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: 'https://quire.im/test-client', ver })));
    await roundTrip(lute);
    assert.equal(seen.length, 3);
  });

  test('XEP-0223: private storage with publish-options whitelist: her own resources get it, contacts cannot read it', async () => {
    const toJuliet = nextEvent(juliet, BOOKMARKS);
    await publish(
      juliet,
      undefined,
      BOOKMARKS,
      xml('conference', { xmlns: BOOKMARKS, name: "The Play's the Thing", autojoin: 'true' }, xml('nick', {}, 'JC')),
      'theplay@conference.shakespeare.lit',
      { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'whitelist', 'pubsub#max_items': 'max', 'pubsub#send_last_published_item': 'never' },
    );
    const item = (await toJuliet).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.attrs.id, 'theplay@conference.shakespeare.lit');
    assert.equal(item.getChild('conference', BOOKMARKS)!.getChildText('nick'), 'JC');
    expectError(await iq(romeo, 'get', 'juliet@localhost', pubsub(xml('items', { node: BOOKMARKS }))), 'cancel', 'not-allowed', 'closed-node');
    // A second bookmark: max_items "max" keeps both.
    await publish(juliet, undefined, BOOKMARKS, xml('conference', { xmlns: BOOKMARKS, name: 'Other' }), 'other@conference.shakespeare.lit', { 'pubsub#persist_items': 'true', 'pubsub#access_model': 'whitelist' });
    const mine = result(await iq(juliet, 'get', undefined, pubsub(xml('items', { node: BOOKMARKS }))))!;
    assert.equal(mine.getChild('items')!.getChildren('item').length, 2);
    // XEP-0223 §3: a precondition the node does not meet fails the publish.
    const unmet = await iq(
      juliet,
      'set',
      undefined,
      pubsub(xml('publish', { node: BOOKMARKS }, xml('item', { id: 'x' }, xml('conference', { xmlns: BOOKMARKS }))), xml('publish-options', {}, form(PUBLISH_OPTIONS, { 'pubsub#access_model': 'presence' }))),
    );
    expectError(unmet, 'cancel', 'conflict', 'precondition-not-met');
    assert.match(errorText(unmet) ?? '', /pubsub#access_model/);
  });

  test('§6.2: disco#items on the account lists the nodes the asker may see; node disco#info has metadata', async () => {
    const nodes = async (client: XmppClient) =>
      result(await iq(client, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_ITEMS })))!
        .getChildren('item')
        .filter((i) => i.attrs.jid === 'juliet@localhost')
        .map((i) => i.attrs.node)
        .sort();
    assert.deepEqual(await nodes(juliet), [GEOLOC, TUNE, BOOKMARKS].sort());
    assert.deepEqual(await nodes(romeo), [GEOLOC, TUNE].sort());
    assert.deepEqual(await nodes(nurse), [TUNE]);
    assert.deepEqual(await nodes(benvolio), []);
    const info = result(await iq(romeo, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_INFO, node: TUNE })))!;
    assert.equal(info.attrs.node, TUNE);
    assert.equal(info.getChild('identity')!.attrs.type, 'leaf');
    const f = fields(info.getChild('x', NS_DATA));
    assert.deepEqual(f.get('pubsub#access_model')?.values, ['presence']);
    assert.deepEqual(f.get('pubsub#owner')?.values, ['juliet@localhost']);
    expectError(await iq(benvolio, 'get', 'juliet@localhost', xml('query', { xmlns: NS_DISCO_INFO, node: BOOKMARKS })), 'cancel', 'item-not-found');
  });

  test('§3.2: only the account publishes, creates and configures at its service', async () => {
    expectError(await iq(romeo, 'set', 'juliet@localhost', pubsub(xml('publish', { node: TUNE }, xml('item', {}, tune('forged'))))), 'auth', 'forbidden');
    expectError(await iq(romeo, 'set', 'juliet@localhost', pubsub(xml('publish', { node: 'romeo-was-here' }, xml('item', {}, tune('forged'))))), 'auth', 'forbidden');
    expectError(await iq(romeo, 'set', 'juliet@localhost', pubsub(xml('create', { node: 'mine' }))), 'auth', 'forbidden');
    expectError(await iq(romeo, 'get', 'juliet@localhost', xml('pubsub', { xmlns: NS_OWNER }, xml('configure', { node: TUNE }))), 'auth', 'forbidden');
    // The PEP default configuration (XEP-0163 §7).
    const defaults = fields(result(await iq(juliet, 'get', undefined, xml('pubsub', { xmlns: NS_OWNER }, xml('default'))))!.getChild('default')!.getChild('x', NS_DATA));
    assert.deepEqual(defaults.get('pubsub#access_model')?.values, ['presence']);
    assert.deepEqual(defaults.get('pubsub#send_last_published_item')?.values, ['on_sub_and_presence']);
    assert.deepEqual(defaults.get('pubsub#deliver_notifications')?.values, ['true']);
  });

  test('retractions reach the contacts (XEP-0402 relies on them)', async () => {
    await publish(juliet, undefined, TUNE, tune('to be retracted'), 'short-lived');
    const toRomeo = nextStanza(romeo, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.getChild('retract')?.attrs.id === 'short-lived');
    result(await iq(juliet, 'set', undefined, pubsub(xml('retract', { node: TUNE, notify: 'true' }, xml('item', { id: 'short-lived' })))));
    assert.equal((await toRomeo).getChild('event', NS_EVENT)!.getChild('items')!.getChild('retract')!.attrs.id, 'short-lived');
  });

  test('explicit subscriptions to a PEP node: the last item on subscribing and on each new resource (XEP-0060 §4.3)', async () => {
    await publish(juliet, undefined, TUNE, tune('Current'), 'now');
    const onSubscribe = nextEvent(nurse, TUNE, 'juliet@localhost');
    const sub = result(await iq(nurse, 'set', 'juliet@localhost', pubsub(xml('subscribe', { node: TUNE, jid: 'nurse@localhost' }))))!.getChild('subscription')!;
    assert.equal(sub.attrs.subscription, 'subscribed');
    await onSubscribe;
    // A resource without caps: only the explicit subscription brings the last item, once.
    const kitchen = await connectClient(server, 'nurse', undefined, 'kitchen');
    clients.push(kitchen);
    const seen = collect(kitchen, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === TUNE);
    const last = nextEvent(kitchen, TUNE, 'juliet@localhost');
    await kitchen.send(xml('presence'));
    const message = await last;
    assert.equal(message.attrs.to, 'nurse@localhost/kitchen');
    assert.ok(message.getChild('delay', NS_DELAY));
    await roundTrip(kitchen);
    assert.equal(seen.length, 1);
    result(await iq(nurse, 'set', 'juliet@localhost', pubsub(xml('unsubscribe', { node: TUNE, jid: 'nurse@localhost' }))));
  });

  test('XEP-0191: an account that blocked a contact sends it no events', async () => {
    result(await iq(juliet, 'set', undefined, xml('block', { xmlns: 'urn:xmpp:blocking' }, xml('item', { jid: 'romeo@localhost' }))));
    const seen = collect(romeo, (s) => s.getChild('event', NS_EVENT)?.getChild('items')?.attrs.node === TUNE);
    const toJuliet = nextEvent(juliet, TUNE);
    await publish(juliet, undefined, TUNE, tune('not for Romeo'));
    await toJuliet;
    await roundTrip(romeo);
    assert.equal(seen.length, 0);
    result(await iq(juliet, 'set', undefined, xml('unblock', { xmlns: 'urn:xmpp:blocking' }, xml('item', { jid: 'romeo@localhost' }))));
  });

  test('§4.3: a new presence subscriber gets the last items its +notify asks for, as soon as it is approved', async () => {
    await publish(juliet, undefined, TUNE, tune('Fughetta'));
    const request = nextStanza(juliet, (s) => s.is('presence') && s.attrs.type === 'subscribe' && s.attrs.from === 'benvolio@localhost');
    await benvolio.send(xml('presence', { to: 'juliet@localhost', type: 'subscribe' }));
    await request;
    const lastTune = nextEvent(benvolio, TUNE, 'juliet@localhost');
    await juliet.send(xml('presence', { to: 'benvolio@localhost', type: 'subscribed' }));
    const item = (await lastTune).getChild('event', NS_EVENT)!.getChild('items')!.getChild('item')!;
    assert.equal(item.getChild('tune', TUNE)!.getChildText('title'), 'Fughetta');
  });
});
