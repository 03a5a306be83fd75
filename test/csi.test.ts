// XEP-0352 Client State Indication end to end: Romeo's phone goes <inactive/> in his pocket while his laptop stays
// active. Juliet's presence updates and chat states wait for the phone (only the latest of each is kept) until it is
// <active/> again or until something important, such as a message with a body, has to reach it: then what waited
// comes first, in order. The laptop, which never said anything, gets everything at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as Stanza } from '@xmpp/xml';
import { Device } from './helpers/device.js';
import { RawStream, authenticate, rawLogin } from './helpers/raw-login.js';
import { newItem } from '../src/core/roster.js';
import type { Element } from '../src/core/xml/element.js';
import { startTestServer, xmppXml as xml, type TestServer } from './helpers/server.js';

const NS_CSI = 'urn:xmpp:csi:0';
const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
const TIMEOUT = { timeout: 30_000 };

/** A short description of a stanza, to compare sequences: 'presence dnd', 'message chat paused', 'message chat body: hi'. */
function describeStanza(s: Stanza): string {
  if (s.is('presence')) return `presence ${s.attrs.type ?? s.getChildText('show') ?? 'available'}`;
  if (s.is('iq')) return `iq ${s.attrs.type}`;
  const body = s.getChildText('body');
  if (body !== null && body !== undefined) return `message ${s.attrs.type ?? 'normal'} body: ${body}`;
  const carbon = s.getChild('received', NS_CARBONS) ?? s.getChild('sent', NS_CARBONS);
  if (carbon) return `carbon ${carbon.name}: ${describeStanza(carbon.getChild('forwarded')!.getChild('message')!)}`;
  const state = s.children.find((c): c is Stanza => typeof c !== 'string' && c.attrs.xmlns === NS_CHATSTATES);
  if (state) return `message ${s.attrs.type ?? 'normal'} ${state.name}`;
  return s.toString();
}

describe('Client State Indication (XEP-0352)', () => {
  let server: TestServer;
  let phone: Device;
  let laptop: Device;
  let juliet: Device;

  const inactive = async (device: Device) => {
    await device.send(xml('inactive', { xmlns: NS_CSI }));
    // The server reads a client's elements in order: once this ping is answered, the phone is inactive.
    await device.ping();
  };

  const presence = (show: string) => xml('presence', {}, xml('show', {}, show));
  const chatState = (to: string, state: string) => xml('message', { to, type: 'chat' }, xml(state, { xmlns: NS_CHATSTATES }));
  const chat = (to: string, body: string) => xml('message', { to, type: 'chat' }, xml('body', {}, body));

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  roster:\n  presence:\n  disco:\n  ping:\n  stanza_id:\n  carbons:\n  csi: { max_buffered: 5 }' });
    await server.createUser('romeo');
    await server.createUser('juliet');
    phone = await Device.login(server, 'romeo', 'phone');
    laptop = await Device.login(server, 'romeo', 'laptop');
    juliet = await Device.login(server, 'juliet', 'balcony');
    for (const device of [phone, laptop, juliet]) await device.available();
    // Romeo subscribes to Juliet's presence (RFC 6121 §3.1), so her updates reach both his devices.
    const [p, l] = [phone.mark(), laptop.mark()];
    const asked = juliet.next(juliet.mark(), (s) => s.is('presence') && s.attrs.type === 'subscribe');
    await laptop.send(xml('presence', { to: 'juliet@localhost', type: 'subscribe' }));
    await asked;
    await juliet.send(xml('presence', { to: 'romeo@localhost', type: 'subscribed' }));
    const fromJuliet = (s: Stanza) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony' && s.attrs.type === undefined;
    await Promise.all([phone.next(p, fromJuliet), laptop.next(l, fromJuliet)]);
    for (const device of [phone, laptop]) assert.equal((await device.iq('set', xml('enable', { xmlns: NS_CARBONS }))).attrs.type, 'result');
  });

  after(async () => {
    await Promise.allSettled([phone?.stop(), laptop?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('§4: <csi xmlns="urn:xmpp:csi:0"/> is a stream feature once the client has authenticated, not before', TIMEOUT, async () => {
    const stream = await RawStream.connect(server.port);
    try {
      await stream.open();
      await stream.startTls();
      const { features: before } = await stream.open();
      assert.equal(before.getChild('csi', NS_CSI), undefined, before.toString());
      await authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
      stream.restart();
      const { features } = await stream.open();
      const csi = features.getChild('csi', NS_CSI);
      assert.ok(csi, features.toString());
      assert.equal(csi.children.length, 0);
    } finally {
      stream.close();
    }
  });

  test('presence updates wait while the phone is inactive; only the latest is kept; a message with a body brings it first', TIMEOUT, async () => {
    await inactive(phone);
    const [p, l] = [phone.mark(), laptop.mark()];
    await juliet.send(presence('away'));
    await juliet.send(presence('dnd'));
    await juliet.settle();
    await laptop.settle();
    // The laptop never said it was inactive: it got both updates at once.
    assert.deepEqual(laptop.heard(l).map(describeStanza), ['presence away', 'presence dnd']);
    assert.deepEqual(phone.heard(p).map(describeStanza), [], 'nothing reaches the inactive phone yet');
    await juliet.send(chat('romeo@localhost/phone', 'Art thou asleep?'));
    await phone.next(p, (s) => s.getChildText('body') === 'Art thou asleep?');
    // "away" never came: it waited, and "dnd" replaced it; the update that waited comes before the message.
    assert.deepEqual(phone.heard(p).map(describeStanza), ['presence dnd', 'message chat body: Art thou asleep?']);
    assert.equal(phone.heard(p)[0].attrs.from, 'juliet@localhost/balcony');
  });

  test('chat states wait too, the latest per sender; <active/> lets everything out in order, before the answer to what follows (§6)', TIMEOUT, async () => {
    // The phone is still inactive: a message that flushed the queue does not change its state.
    const p = phone.mark();
    await juliet.send(chatState('romeo@localhost/phone', 'composing'));
    await juliet.send(chatState('romeo@localhost/phone', 'paused'));
    await juliet.send(presence('xa'));
    await juliet.settle();
    assert.deepEqual(phone.heard(p).map(describeStanza), []);
    await phone.send(xml('active', { xmlns: NS_CSI }));
    const pong = phone.ownId();
    await phone.send(xml('iq', { type: 'get', id: pong, to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    await phone.next(p, (s) => s.attrs.id === pong);
    assert.deepEqual(phone.log.slice(p).map(describeStanza), ['message chat paused', 'presence xa', 'iq result']);
    // Active again: an update goes straight through.
    const q = phone.mark();
    await juliet.send(presence('chat'));
    await phone.next(q, (s) => s.is('presence'));
    assert.deepEqual(phone.heard(q).map(describeStanza), ['presence chat']);
  });

  test('important stanzas reach an inactive phone at once: subscription requests, IQs, <sent/> carbons, carbons of messages with a body', TIMEOUT, async () => {
    await inactive(phone);
    const p = phone.mark();
    // Juliet's composing/paused to the laptop reach the phone as <received/> carbons, which can wait (latest kept);
    // the carbon of her message with a body cannot.
    await juliet.send(chatState('romeo@localhost/laptop', 'composing'));
    await juliet.send(chatState('romeo@localhost/laptop', 'paused'));
    await juliet.send(chat('romeo@localhost/laptop', 'Goodnight!'));
    await phone.next(p, (s) => s.getChild('received', NS_CARBONS)?.getChild('forwarded')?.getChild('message')?.getChildText('body') === 'Goodnight!');
    assert.deepEqual(phone.heard(p).map(describeStanza), ['carbon received: message chat paused', 'carbon received: message chat body: Goodnight!']);
    // What Romeo writes on the laptop reaches the phone as a <sent/> carbon straight away.
    const q = phone.mark();
    await laptop.send(chat('juliet@localhost', 'Sleep dwell upon thine eyes'));
    await phone.next(q, (s) => s.getChild('sent', NS_CARBONS) !== undefined);
    // A subscription request (RFC 6121 §3.1.3) waits for nobody.
    await juliet.send(xml('presence', { to: 'romeo@localhost', type: 'subscribe' }));
    await phone.next(q, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    // Nor does an IQ: Juliet asks the phone's software version; @xmpp/client answers it.
    const answer = await juliet.iq('get', xml('query', { xmlns: 'jabber:iq:version' }), phone.full);
    assert.ok(answer.attrs.type === 'result' || answer.attrs.type === 'error', answer.toString());
    assert.ok(phone.heard(q).some((s) => s.is('iq') && s.attrs.type === 'get'), 'the phone got the IQ while inactive');
    assert.deepEqual(phone.heard(q).filter((s) => !s.is('iq')).map(describeStanza), ['carbon sent: message chat body: Sleep dwell upon thine eyes', 'presence subscribe']);
  });

  test('max_buffered: 5 — the sixth stanza that could wait lets all six out, in order', TIMEOUT, async () => {
    // Still inactive from the previous test, with nothing held.
    const p = phone.mark();
    const receipt = (n: number) => xml('message', { to: 'romeo@localhost/phone', id: `receipt-${n}` }, xml('received', { xmlns: 'urn:xmpp:receipts', id: `m${n}` }));
    for (let n = 1; n <= 5; n++) await juliet.send(receipt(n));
    await juliet.settle();
    assert.deepEqual(phone.heard(p).map(String), []);
    await juliet.send(receipt(6));
    await phone.next(p, (s) => s.attrs.id === 'receipt-6');
    assert.deepEqual(
      phone.heard(p).map((s) => s.attrs.id),
      [1, 2, 3, 4, 5, 6].map((n) => `receipt-${n}`),
    );
  });
});

describe('Client State Indication with XEP-0198 stream resumption', () => {
  const NS_SM = 'urn:xmpp:sm:3';
  let server: TestServer;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  roster:\n  presence:\n  ping:\n  sm: { request_ack_delay: 3600 }\n  csi:' });
    await server.createUser('romeo');
    await server.createUser('juliet');
    // Subscribed both ways, straight in storage (the subscription protocol is not the subject here).
    const rosters = server.running.server.rosters;
    for (const [user, contact] of [
      ['romeo', 'juliet'],
      ['juliet', 'romeo'],
    ]) {
      const roster = await rosters.get('localhost', user);
      await rosters.commit(roster, [{ ...newItem(`${contact}@localhost`), subscription: 'both' }]);
    }
  });

  after(async () => {
    await server?.stop();
  });

  test('§5: what waited for an inactive client is in the resumed stream, which starts active', TIMEOUT, async () => {
    const isStanza = (el: Element) => el.name === 'message' || el.name === 'presence' || el.name === 'iq';
    const fromRomeo = (show: string) => (el: Element) => el.name === 'presence' && el.attrs.from === 'romeo@localhost/garden' && (el.getChildText('show') ?? 'available') === show;
    // Reads the stream until an element matches.
    const expect = async (stream: RawStream, match: (el: Element) => boolean, what: string) => {
      for (;;) {
        const el = await stream.next(what);
        if (match(el)) return el;
      }
    };

    const { stream, jid } = await rawLogin(server, { username: 'juliet', resource: 'phone' });
    stream.send(`<enable xmlns='${NS_SM}' resume='true'/>`);
    const enabled = await expect(stream, (el) => el.name === 'enabled', '<enabled/>');
    stream.send("<presence/>");
    const romeo = await Device.login(server, 'romeo', 'garden');
    await romeo.available();
    await expect(stream, fromRomeo('available'), "Romeo's presence");
    stream.send(`<inactive xmlns='${NS_CSI}'/><iq type='get' id='p1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`);
    await expect(stream, (el) => el.name === 'iq' && el.attrs.id === 'p1', 'the answer to the ping');

    // Romeo's update waits for the inactive phone; then the phone's connection dies.
    await romeo.send(xml('presence', {}, xml('show', {}, 'away')));
    await romeo.settle();
    const events = server.running.server.hosts.get('localhost')!.events;
    const interrupted = new Promise<void>((resolve) => {
      const off = events.on('session-interrupted', () => void (off(), resolve()), 1000);
    });
    const all = stream.snapshot().elements;
    const handled = all.slice(all.indexOf(all.find((el) => el.name === 'enabled')!)).filter(isStanza).length;
    assert.equal(all.filter(fromRomeo('away')).length, 0, 'the update waited');
    stream.socket.destroy();
    await interrupted;

    // Resumed on a new connection: the update that waited comes with what the phone did not acknowledge.
    const resumed = await RawStream.connect(server.port);
    try {
      await resumed.open();
      await resumed.startTls();
      await resumed.open();
      await authenticate(resumed, { username: 'juliet', password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
      resumed.restart();
      await resumed.open();
      resumed.send(`<resume xmlns='${NS_SM}' previd='${enabled.attrs.id}' h='${handled}'/>`);
      await expect(resumed, (el) => el.name === 'resumed', '<resumed/>');
      await expect(resumed, fromRomeo('away'), 'the update that waited');
      // The resumed stream is active: the next update comes straight away, with nothing to push it out.
      await romeo.send(xml('presence', {}, xml('show', {}, 'chat')));
      await expect(resumed, fromRomeo('chat'), 'the next update');
      assert.equal(jid, 'juliet@localhost/phone');
    } finally {
      resumed.close();
      await romeo.stop();
    }
  });
});
