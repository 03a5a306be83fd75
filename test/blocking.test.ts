// XEP-0191 Blocking Command end to end: Juliet keeps Romeo (and others) out with real clients.
// The blocklist and its pushes (§3.2-§3.5), enforcement both ways with the exact errors (§3.3), JID
// matching (§5), presence on block and unblock, and the list surviving a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as XElement } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { newItem, type Subscription } from '../src/core/roster.js';
import { xml as quireXml } from '../src/core/xml/element.js';

const NS_BLOCKING = 'urn:xmpp:blocking';
const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';
const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const MODULES = 'modules:\n  disco:\n  ping:\n  roster:\n  presence:\n  blocking:';

let ids = 0;

/** Sends an IQ and resolves with the answer to it, a result or an error, as the client received it. */
async function ask(client: XmppClient, iq: XElement): Promise<XElement> {
  iq.attrs.id ??= `q${++ids}`;
  const id = iq.attrs.id;
  const answer = nextStanza(client, (s) => s.is('iq') && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
  await client.send(iq);
  return answer;
}

const blocklistGet = () => xml('iq', { type: 'get' }, xml('blocklist', { xmlns: NS_BLOCKING }));
const block = (...jids: string[]) => xml('iq', { type: 'set' }, xml('block', { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml('item', { jid }))));
const unblock = (...jids: string[]) => xml('iq', { type: 'set' }, xml('unblock', { xmlns: NS_BLOCKING }, ...jids.map((jid) => xml('item', { jid }))));

/** The JIDs of a <blocklist/>, <block/> or <unblock/>. */
function itemsOf(el: XElement | undefined): string[] {
  assert.ok(el, 'payload missing');
  return el.getChildren('item').map((i) => i.attrs.jid);
}

async function blocklistOf(client: XmppClient): Promise<string[]> {
  const result = await ask(client, blocklistGet());
  assert.equal(result.attrs.type, 'result', result.toString());
  return itemsOf(result.getChild('blocklist', NS_BLOCKING));
}

async function expectResult(client: XmppClient, iq: XElement): Promise<void> {
  const answer = await ask(client, iq);
  assert.equal(answer.attrs.type, 'result', answer.toString());
}

/** The error of an error stanza: its type, its defined condition, and whether it says <blocked/>. */
function errorOf(stanza: XElement): { type: string | undefined; condition: string | undefined; blocked: boolean } {
  assert.equal(stanza.attrs.type, 'error', stanza.toString());
  const error = stanza.getChild('error');
  assert.ok(error, stanza.toString());
  const condition = error.getChildElements().find((c) => c.attrs.xmlns === STANZAS)?.name;
  return { type: error.attrs.type, condition, blocked: error.getChild('blocked', NS_BLOCKING_ERRORS) !== undefined };
}

/** Everything a client receives from now on. */
function record(client: XmppClient): { seen: XElement[]; stop(): void } {
  const seen: XElement[] = [];
  const listener = (s: XElement) => seen.push(s);
  client.on('stanza', listener);
  return { seen, stop: () => client.removeListener('stanza', listener) };
}

/** Has `to` receive a message from `from` and waits for it: whatever was routed to `to` before has arrived by then. */
async function sentinel(from: XmppClient, to: XmppClient): Promise<void> {
  const text = `sentinel ${++ids}`;
  const arrived = nextStanza(to, (s) => s.is('message') && s.getChildText('body') === text);
  await from.send(xml('message', { to: to.jid!.toString(), type: 'chat' }, xml('body', {}, text)));
  await arrived;
}

/** Waits until the server has processed everything the client sent so far (stanzas of one stream are handled in order). */
async function roundTrip(client: XmppClient): Promise<void> {
  const pong = await ask(client, xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
  assert.equal(pong.attrs.type, 'result');
}

async function online(server: TestServer, user: string, resource: string, show?: string): Promise<XmppClient> {
  const client = await connectClient(server, user, undefined, resource);
  const echoed = nextStanza(client, (s) => s.is('presence') && s.attrs.from === `${user}@localhost/${resource}`);
  await client.send(xml('presence', {}, ...(show ? [xml('show', {}, show)] : [])));
  await echoed;
  return client;
}

describe('blocking command (XEP-0191)', () => {
  let server: TestServer;
  let balcony: XmppClient; // juliet
  let chamber: XmppClient; // juliet
  let hall: XmppClient; // juliet, never asks for the blocklist until later
  let orchard: XmppClient; // romeo
  let garden: XmppClient; // romeo
  let kitchen: XmppClient; // nurse
  let street: XmppClient; // tybalt

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['juliet', 'romeo', 'nurse', 'tybalt']) await server.createUser(user);
    balcony = await online(server, 'juliet', 'balcony');
    chamber = await online(server, 'juliet', 'chamber');
    hall = await online(server, 'juliet', 'hall');
    orchard = await online(server, 'romeo', 'orchard');
    garden = await online(server, 'romeo', 'garden');
    kitchen = await online(server, 'nurse', 'kitchen');
    street = await online(server, 'tybalt', 'street');
  });

  after(async () => {
    await Promise.allSettled([balcony, chamber, hall, orchard, garden, kitchen, street].map((c) => c?.stop()));
    await server?.stop();
  });

  test('§3.1: the server advertises urn:xmpp:blocking', async () => {
    const info = await ask(balcony, xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_BLOCKING), features.join(' '));
  });

  test('§3.2: with nothing blocked, the blocklist is an empty <blocklist/>', async () => {
    const result = await ask(balcony, blocklistGet());
    assert.equal(result.attrs.type, 'result');
    const list = result.getChild('blocklist', NS_BLOCKING);
    assert.ok(list);
    assert.equal(list.children.length, 0);
    assert.deepEqual(await blocklistOf(chamber), []);
  });

  test('§3.3: Juliet blocks Romeo; the resources that retrieved the blocklist get a push, the others do not', async () => {
    const hallSaw = record(hall);
    const isPush = (s: XElement) => s.is('iq') && s.attrs.type === 'set' && s.getChild('block', NS_BLOCKING) !== undefined;
    const pushBalcony = nextStanza(balcony, isPush);
    const pushChamber = nextStanza(chamber, isPush);
    await expectResult(chamber, block('romeo@localhost'));
    for (const [push, resource] of [[await pushBalcony, 'balcony'], [await pushChamber, 'chamber']] as const) {
      assert.equal(push.attrs.to, `juliet@localhost/${resource}`);
      assert.deepEqual(itemsOf(push.getChild('block', NS_BLOCKING)), ['romeo@localhost']);
    }
    await sentinel(kitchen, hall);
    hallSaw.stop();
    assert.equal(hallSaw.seen.filter(isPush).length, 0, 'a resource that never asked for the blocklist got a push');
  });

  test('§3.2: the blocklist now holds Romeo', async () => {
    assert.deepEqual(await blocklistOf(hall), ['romeo@localhost']);
  });

  test('§3.3: Romeo\'s messages to Juliet bounce with service-unavailable, and Juliet sees none of them', async () => {
    const julietSaw = record(balcony);
    for (const to of ['juliet@localhost', 'juliet@localhost/balcony']) {
      const bounced = nextStanza(orchard, (s) => s.is('message') && s.attrs.type === 'error');
      await orchard.send(xml('message', { to, type: 'chat', id: 'wherefore' }, xml('body', {}, 'Wherefore art thou?')));
      const error = await bounced;
      assert.equal(error.attrs.from, to);
      assert.equal(error.attrs.id, 'wherefore');
      assert.deepEqual(errorOf(error), { type: 'cancel', condition: 'service-unavailable', blocked: false });
    }
    await sentinel(kitchen, balcony);
    julietSaw.stop();
    assert.deepEqual(julietSaw.seen.filter((s) => s.attrs.from?.startsWith('romeo@')), []);
  });

  test('§3.3: Romeo\'s IQ get and set get service-unavailable, at Juliet\'s full and bare JIDs', async () => {
    const toFull = await ask(orchard, xml('iq', { type: 'get', to: 'juliet@localhost/balcony' }, xml('query', { xmlns: 'jabber:iq:version' })));
    assert.deepEqual(errorOf(toFull), { type: 'cancel', condition: 'service-unavailable', blocked: false });
    const set = await ask(orchard, xml('iq', { type: 'set', to: 'juliet@localhost/chamber' }, xml('query', { xmlns: 'urn:example:poem' })));
    assert.deepEqual(errorOf(set), { type: 'cancel', condition: 'service-unavailable', blocked: false });
    // The server answers disco#info for the account; not to Romeo.
    const disco = xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' });
    const toBare = await ask(orchard, xml('iq', { type: 'get', to: 'juliet@localhost' }, disco));
    assert.deepEqual(errorOf(toBare), { type: 'cancel', condition: 'service-unavailable', blocked: false });
    const nurseAsks = await ask(kitchen, xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.equal(nurseAsks.attrs.type, 'result');
  });

  test('§3.3: Romeo\'s presence (directed, subscription, probe) reaches nobody and gets no error', async () => {
    const julietSaw = record(balcony);
    const romeoSaw = record(orchard);
    await orchard.send(xml('presence', { to: 'juliet@localhost' }, xml('status', {}, 'under your window')));
    await orchard.send(xml('presence', { to: 'juliet@localhost/balcony' }));
    await orchard.send(xml('presence', { to: 'juliet@localhost', type: 'subscribe' }));
    await roundTrip(orchard);
    await sentinel(kitchen, balcony);
    julietSaw.stop();
    romeoSaw.stop();
    assert.deepEqual(julietSaw.seen.filter((s) => s.attrs.from?.startsWith('romeo@')).map(String), []);
    assert.deepEqual(romeoSaw.seen.filter((s) => s.attrs.type === 'error').map(String), []);
  });

  test('§3.3: what Juliet sends to Romeo is refused with not-acceptable and <blocked xmlns="urn:xmpp:blocking:errors"/>', async () => {
    const romeoSaw = record(orchard);
    const bounced = nextStanza(balcony, (s) => s.is('message') && s.attrs.type === 'error');
    await balcony.send(xml('message', { to: 'romeo@localhost', type: 'chat', id: 'hear' }, xml('body', {}, 'Can you hear me now?')));
    const message = await bounced;
    assert.equal(message.attrs.from, 'romeo@localhost');
    assert.equal(message.attrs.to, 'juliet@localhost/balcony');
    assert.equal(message.attrs.id, 'hear');
    assert.equal(message.getChildText('body'), 'Can you hear me now?');
    assert.deepEqual(errorOf(message), { type: 'cancel', condition: 'not-acceptable', blocked: true });

    const presenceBounced = nextStanza(balcony, (s) => s.is('presence') && s.attrs.type === 'error');
    await balcony.send(xml('presence', { to: 'romeo@localhost/orchard' }));
    assert.deepEqual(errorOf(await presenceBounced), { type: 'cancel', condition: 'not-acceptable', blocked: true });

    const iq = await ask(balcony, xml('iq', { type: 'get', to: 'romeo@localhost/garden' }, xml('query', { xmlns: 'jabber:iq:version' })));
    assert.deepEqual(errorOf(iq), { type: 'cancel', condition: 'not-acceptable', blocked: true });

    // An IQ result or an error to Romeo is dropped without an answer (RFC 6120 §8.3.1).
    const julietSaw = record(balcony);
    await balcony.send(xml('iq', { type: 'result', id: 'late', to: 'romeo@localhost/orchard' }));
    await balcony.send(xml('message', { type: 'error', to: 'romeo@localhost/orchard' }, xml('error', { type: 'cancel' }, xml('gone', { xmlns: STANZAS }))));
    await roundTrip(balcony);
    julietSaw.stop();
    assert.deepEqual(julietSaw.seen.filter((s) => s.attrs.type === 'error').map(String), []);

    await sentinel(kitchen, orchard);
    romeoSaw.stop();
    assert.deepEqual(romeoSaw.seen.filter((s) => s.attrs.from?.startsWith('juliet@')).map(String), []);
  });

  test('stanzas the server sends on Juliet\'s behalf do not reach Romeo either', async () => {
    const romeoSaw = record(orchard);
    const router = server.running.server.router;
    router.route(quireXml('presence', { from: 'juliet@localhost/balcony', to: 'romeo@localhost' }));
    router.route(quireXml('message', { from: 'juliet@localhost', to: 'romeo@localhost/orchard', type: 'chat' }, quireXml('body', {}, 'from the server')));
    await sentinel(kitchen, orchard);
    romeoSaw.stop();
    assert.deepEqual(romeoSaw.seen.filter((s) => s.attrs.from?.startsWith('juliet@')).map(String), []);
  });

  test('§3.4: Juliet unblocks Romeo; every interested resource gets the push, and they can talk again', async () => {
    const isPush = (s: XElement) => s.is('iq') && s.attrs.type === 'set' && s.getChild('unblock', NS_BLOCKING) !== undefined;
    const pushes = [balcony, chamber, hall].map((c) => nextStanza(c, isPush));
    await expectResult(balcony, unblock('romeo@localhost'));
    for (const push of await Promise.all(pushes)) assert.deepEqual(itemsOf(push.getChild('unblock', NS_BLOCKING)), ['romeo@localhost']);
    assert.deepEqual(await blocklistOf(balcony), []);
    await sentinel(orchard, balcony);
    await sentinel(balcony, orchard);
  });

  test('a full JID blocks that resource only (§5)', async () => {
    await expectResult(kitchen, block('romeo@localhost/garden'));
    const bounced = nextStanza(garden, (s) => s.is('message') && s.attrs.type === 'error');
    await garden.send(xml('message', { to: 'nurse@localhost', type: 'chat' }, xml('body', {}, 'from the garden')));
    assert.equal(errorOf(await bounced).condition, 'service-unavailable');
    await sentinel(orchard, kitchen);
    const refused = nextStanza(kitchen, (s) => s.is('message') && s.attrs.type === 'error');
    await kitchen.send(xml('message', { to: 'romeo@localhost/garden', type: 'chat' }, xml('body', {}, 'anon, good nurse')));
    assert.deepEqual(errorOf(await refused), { type: 'cancel', condition: 'not-acceptable', blocked: true });
    await sentinel(kitchen, orchard);
    await expectResult(kitchen, unblock('romeo@localhost/garden'));
  });

  test('a domain blocks every JID at it (§5), but not the user\'s own resources or server', async () => {
    await expectResult(kitchen, block('localhost', 'montague.net'));
    const bounced = nextStanza(balcony, (s) => s.is('message') && s.attrs.type === 'error');
    await balcony.send(xml('message', { to: 'nurse@localhost/kitchen', type: 'chat' }, xml('body', {}, 'Nurse!')));
    assert.equal(errorOf(await bounced).condition, 'service-unavailable');
    const refused = nextStanza(kitchen, (s) => s.is('message') && s.attrs.type === 'error');
    await kitchen.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'Anon!')));
    assert.deepEqual(errorOf(await refused), { type: 'cancel', condition: 'not-acceptable', blocked: true });
    // A remote domain: refused as blocked, before federation would say remote-server-not-found.
    for (const to of ['romeo@montague.net', 'montague.net', 'balthasar@montague.net/mantua']) {
      const answer = await ask(kitchen, xml('iq', { type: 'get', to }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.deepEqual(errorOf(answer), { type: 'cancel', condition: 'not-acceptable', blocked: true }, to);
    }
    const elsewhere = await ask(kitchen, xml('iq', { type: 'get', to: 'capulet.net' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(errorOf(elsewhere).condition, 'remote-server-not-found');
    // The nurse's own server still answers her, and she still manages her list.
    await roundTrip(kitchen);
    assert.deepEqual(await blocklistOf(kitchen), ['localhost', 'montague.net']);
    await expectResult(kitchen, unblock());
    await sentinel(balcony, kitchen);
  });

  test('§3.3 and §3.5: several JIDs at once, then unblock all with an empty <unblock/>', async () => {
    const isBlockPush = (s: XElement) => s.is('iq') && s.getChild('block', NS_BLOCKING) !== undefined;
    const blockPush = nextStanza(chamber, isBlockPush);
    await expectResult(balcony, block('tybalt@localhost', 'Paris@Verona.Example', 'montague.net', 'tybalt@localhost'));
    assert.deepEqual(itemsOf((await blockPush).getChild('block', NS_BLOCKING)), ['tybalt@localhost', 'paris@verona.example', 'montague.net']);
    assert.deepEqual(await blocklistOf(balcony), ['tybalt@localhost', 'paris@verona.example', 'montague.net']);

    const unblockPush = nextStanza(chamber, (s) => s.is('iq') && s.getChild('unblock', NS_BLOCKING) !== undefined);
    await expectResult(balcony, unblock());
    const payload = (await unblockPush).getChild('unblock', NS_BLOCKING)!;
    assert.equal(payload.children.length, 0);
    assert.deepEqual(await blocklistOf(balcony), []);
    await sentinel(street, balcony);
  });

  test('§3.3: a <block/> without items is a bad-request; a bad JID is jid-malformed and changes nothing', async () => {
    assert.deepEqual(errorOf(await ask(balcony, block())), { type: 'modify', condition: 'bad-request', blocked: false });
    assert.deepEqual(errorOf(await ask(balcony, block('tybalt@localhost', 'romeo@'))), { type: 'modify', condition: 'jid-malformed', blocked: false });
    assert.deepEqual(errorOf(await ask(balcony, block('@localhost'))), { type: 'modify', condition: 'jid-malformed', blocked: false });
    const noJid = xml('iq', { type: 'set' }, xml('block', { xmlns: NS_BLOCKING }, xml('item')));
    assert.equal(errorOf(await ask(balcony, noJid)).condition, 'jid-malformed');
    assert.equal(errorOf(await ask(balcony, unblock('romeo@localhost/'))).condition, 'jid-malformed');
    assert.deepEqual(await blocklistOf(balcony), []);
  });

  test('nobody reads or changes another account\'s blocklist', async () => {
    const answer = await ask(orchard, xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('blocklist', { xmlns: NS_BLOCKING })));
    assert.equal(errorOf(answer).condition, 'forbidden');
    const change = await ask(orchard, xml('iq', { type: 'set', to: 'juliet@localhost' }, xml('unblock', { xmlns: NS_BLOCKING })));
    assert.equal(errorOf(change).condition, 'forbidden');
  });

  describe('presence on block and unblock', () => {
    before(async () => {
      // Juliet's roster: Romeo may see her presence, so may the nurse; Tybalt may not (she only sees his).
      const rosters = server.running.server.rosters;
      const roster = await rosters.get('localhost', 'juliet');
      const item = (jid: string, subscription: Subscription) => ({ ...newItem(jid), subscription });
      await rosters.commit(roster, [item('romeo@localhost', 'from'), item('nurse@localhost', 'both'), item('tybalt@localhost', 'to')]);
    });

    test('§3.3: blocking Romeo sends him unavailable presence from each of Juliet\'s available resources', async () => {
      const tybaltSaw = record(street);
      const unavailable = (resource: string) => nextStanza(orchard, (s) => s.is('presence') && s.attrs.type === 'unavailable' && s.attrs.from === `juliet@localhost/${resource}`);
      const gone = [unavailable('balcony'), unavailable('chamber'), unavailable('hall')];
      await expectResult(balcony, block('romeo@localhost', 'tybalt@localhost'));
      for (const presence of await Promise.all(gone)) assert.equal(presence.attrs.to, 'romeo@localhost/orchard');
      await sentinel(kitchen, street);
      tybaltSaw.stop();
      assert.deepEqual(tybaltSaw.seen.filter((s) => s.is('presence') && s.attrs.from?.startsWith('juliet@')).map(String), []);
    });

    test('while Romeo is blocked, Juliet\'s presence broadcasts go to the nurse but not to him', async () => {
      const romeoSaw = record(orchard);
      const nurseSees = nextStanza(kitchen, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony' && s.getChildText('show') === 'away');
      await balcony.send(xml('presence', {}, xml('show', {}, 'away'), xml('status', {}, 'at the window')));
      await nurseSees;
      await sentinel(kitchen, orchard);
      romeoSaw.stop();
      assert.deepEqual(romeoSaw.seen.filter((s) => s.attrs.from?.startsWith('juliet@')).map(String), []);
    });

    test('§3.4: unblocking Romeo sends him Juliet\'s current presence', async () => {
      const current = nextStanza(orchard, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony');
      const fromChamber = nextStanza(orchard, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/chamber');
      const tybaltSaw = record(street);
      await expectResult(chamber, unblock());
      const presence = await current;
      assert.equal(presence.attrs.type, undefined);
      assert.equal(presence.getChildText('show'), 'away');
      assert.equal(presence.getChildText('status'), 'at the window');
      assert.equal((await fromChamber).attrs.type, undefined);
      await sentinel(kitchen, street);
      tybaltSaw.stop();
      assert.deepEqual(tybaltSaw.seen.filter((s) => s.is('presence') && s.attrs.from?.startsWith('juliet@')).map(String), []);
    });
  });
});

describe('blocklists survive a restart', () => {
  let server: TestServer;
  const clients: XmppClient[] = [];

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['juliet', 'romeo', 'nurse']) await server.createUser(user);
  });

  after(async () => {
    await Promise.allSettled(clients.map((c) => c.stop()));
    await server?.stop();
  });

  test('Juliet\'s list is kept in storage and enforced after a restart, before she logs in again', async () => {
    const juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    await expectResult(juliet, block('romeo@localhost', 'montague.net'));
    await juliet.stop();
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir: server.dataDir });

    // Juliet is offline, so her list is read from storage while Romeo's request waits.
    const romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    clients.push(romeo);
    const disco = () => xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }));
    assert.equal(errorOf(await ask(romeo, disco())).condition, 'service-unavailable');
    const nurse = await connectClient(server, 'nurse', undefined, 'kitchen');
    clients.push(nurse);
    assert.equal((await ask(nurse, disco())).attrs.type, 'result');

    const back = await connectClient(server, 'juliet', undefined, 'chamber');
    clients.push(back);
    assert.deepEqual((await blocklistOf(back)).sort(), ['montague.net', 'romeo@localhost']);
    const refused = nextStanza(back, (s) => s.is('message') && s.attrs.type === 'error');
    await back.send(xml('message', { to: 'romeo@localhost', type: 'chat' }, xml('body', {}, 'Romeo?')));
    assert.deepEqual(errorOf(await refused), { type: 'cancel', condition: 'not-acceptable', blocked: true });
  });
});
