// XEP-0280 Message Carbons end to end: Romeo on two devices (home, garden), Juliet on her balcony. Every message
// Romeo's account sends or receives on one device reaches his other carbons-enabled device as a <sent/> or
// <received/> copy, from his bare JID, wrapped in XEP-0297 <forwarded/>; §6.1 decides which messages are copied.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as Stanza } from '@xmpp/xml';
import { Device } from './helpers/device.js';
import { startTestServer, xmppXml as xml, type TestServer } from './helpers/server.js';

const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_SID = 'urn:xmpp:sid:0';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const TIMEOUT = { timeout: 30_000 };

const elements = (stanza: Stanza) => stanza.children.filter((c): c is Stanza => typeof c !== 'string');

/**
 * Checks a carbon's exact shape (§6.2, §6.3): <message from=bare to=full type=…><kind xmlns=carbons:2><forwarded
 * xmlns=forward:0><message xmlns=jabber:client …/></forwarded></kind></message>, and returns the carried message.
 */
function carried(carbon: Stanza, kind: 'sent' | 'received', to: string, type?: string): Stanza {
  assert.equal(carbon.name, 'message', carbon.toString());
  assert.equal(carbon.attrs.from, 'romeo@localhost', 'a carbon comes from the account\'s bare JID');
  assert.equal(carbon.attrs.to, to);
  assert.equal(carbon.attrs.type, type);
  const [wrapper, ...rest] = elements(carbon);
  assert.equal(rest.length, 0, carbon.toString());
  assert.equal(wrapper.name, kind);
  assert.equal(wrapper.attrs.xmlns, NS_CARBONS);
  const [forwarded, ...more] = elements(wrapper);
  assert.equal(more.length, 0);
  assert.equal(forwarded.name, 'forwarded');
  assert.equal(forwarded.attrs.xmlns, NS_FORWARD);
  const [message, ...others] = elements(forwarded);
  assert.equal(others.length, 0);
  assert.equal(message.name, 'message');
  assert.equal(message.attrs.xmlns, 'jabber:client', 'the forwarded message keeps its own namespace');
  return message;
}

const isCarbon = (s: Stanza) => s.is('message') && (s.getChild('sent', NS_CARBONS) !== undefined || s.getChild('received', NS_CARBONS) !== undefined);
/** The ids of the messages carried by the carbons in a list of stanzas. */
const carbonIds = (stanzas: Stanza[]) => stanzas.filter(isCarbon).map((s) => elements(elements(elements(s)[0])[0])[0].attrs.id);

describe('Message Carbons (XEP-0280)', () => {
  let server: TestServer;
  let home: Device;
  let garden: Device;
  let juliet: Device;

  /** The sender's stanzas, then every device's, have all been handled: what was not received by now never will be. */
  const settle = async (...devices: Device[]) => {
    for (const device of devices) await device.settle();
  };

  const enable = (device: Device, on = true) => device.iq('set', xml(on ? 'enable' : 'disable', { xmlns: NS_CARBONS }));

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  roster:\n  presence:\n  disco:\n  ping:\n  stanza_id:\n  mam:\n  carbons:' });
    await server.createUser('romeo');
    await server.createUser('juliet');
    home = await Device.login(server, 'romeo', 'home');
    garden = await Device.login(server, 'romeo', 'garden');
    juliet = await Device.login(server, 'juliet', 'balcony');
    // Home has the higher priority: messages to Romeo's bare JID go there only (RFC 6121 §8.5.2.1.1).
    await home.available(xml('priority', {}, '1'));
    await garden.available();
    await juliet.available();
  });

  after(async () => {
    await Promise.allSettled([home?.stop(), garden?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('§2: the server advertises urn:xmpp:carbons:2 and the §6.1 rules (urn:xmpp:carbons:rules:0)', async () => {
    const info = await garden.iq('get', xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' }), 'localhost');
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_CARBONS), features.join(' '));
    assert.ok(features.includes('urn:xmpp:carbons:rules:0'), features.join(' '));
  });

  test('§4 / §7: Romeo\'s garden enables carbons: an empty result from his bare JID; enabling again is no error', async () => {
    for (let i = 0; i < 2; i++) {
      const result = await enable(garden);
      assert.equal(result.attrs.type, 'result', result.toString());
      assert.equal(result.attrs.from, 'romeo@localhost');
      assert.equal(result.attrs.to, 'romeo@localhost/garden');
      assert.equal(elements(result).length, 0);
    }
    // Asked of the server rather than of his own account, it works too.
    const viaServer = await home.iq('set', xml('enable', { xmlns: NS_CARBONS }), 'localhost');
    assert.equal(viaServer.attrs.type, 'result', viaServer.toString());
  });

  test('§4: enabling carbons for somebody else\'s account is not-allowed', async () => {
    const error = await garden.iq('set', xml('enable', { xmlns: NS_CARBONS }), 'juliet@localhost');
    assert.equal(error.attrs.type, 'error');
    assert.equal(error.attrs.from, 'juliet@localhost');
    const condition = error.getChild('error')!;
    assert.equal(condition.attrs.type, 'cancel');
    assert.ok(condition.getChild('not-allowed', NS_STANZAS), error.toString());
  });

  test('§6.2: Juliet writes to Romeo\'s home: home gets the message, garden a <received/> copy with the same stanza-id', async () => {
    const [g, h, j] = [garden.mark(), home.mark(), juliet.mark()];
    const id = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', type: 'chat', id }, xml('body', {}, 'What man art thou?'), xml('thread', {}, 'balcony-1')));
    const original = await home.next(h, (s) => s.is('message') && s.attrs.id === id);
    const carbon = await garden.next(g, isCarbon);
    const message = carried(carbon, 'received', 'romeo@localhost/garden', 'chat');
    assert.equal(message.attrs.from, 'juliet@localhost/balcony');
    assert.equal(message.attrs.to, 'romeo@localhost/home');
    assert.equal(message.attrs.type, 'chat');
    assert.equal(message.attrs.id, id);
    assert.equal(message.getChildText('body'), 'What man art thou?');
    assert.equal(message.getChildText('thread'), 'balcony-1');
    // XEP-0359: the copy carries the id Romeo's account gave the message, as the original does.
    const sid = original.getChild('stanza-id', NS_SID)!;
    assert.equal(sid.attrs.by, 'romeo@localhost');
    assert.equal(message.getChild('stanza-id', NS_SID)?.attrs.id, sid.attrs.id);
    await settle(juliet, home, garden);
    // The addressee gets the message, not a copy too (§6.2); the garden exactly one copy; Juliet nothing back.
    assert.deepEqual(home.heard(h).map(String), [original.toString()]);
    assert.deepEqual(garden.heard(g).map(String), [carbon.toString()]);
    assert.deepEqual(juliet.heard(j).map(String), []);
  });

  test('§6.3: Romeo writes from home: Juliet gets the message, garden a <sent/> copy, home no copy of its own', TIMEOUT, async () => {
    const [g, h, j] = [garden.mark(), home.mark(), juliet.mark()];
    const id = home.ownId();
    await home.send(xml('message', { to: 'juliet@localhost', type: 'chat', id }, xml('body', {}, 'Neither, fair saint, if either thee dislike.')));
    const delivered = await juliet.next(j, (s) => s.is('message') && s.attrs.id === id);
    assert.equal(delivered.getChildText('body'), 'Neither, fair saint, if either thee dislike.');
    const carbon = await garden.next(g, isCarbon);
    const message = carried(carbon, 'sent', 'romeo@localhost/garden', 'chat');
    assert.equal(message.attrs.from, 'romeo@localhost/home');
    assert.equal(message.attrs.to, 'juliet@localhost');
    assert.equal(message.attrs.id, id);
    assert.equal(message.getChildText('body'), 'Neither, fair saint, if either thee dislike.');
    // XEP-0313 §3.5: the copy says where Romeo's archive keeps the message; Juliet's message does not.
    const [archived, ...others] = message.getChildren('stanza-id', NS_SID);
    assert.equal(others.length, 0);
    assert.equal(archived?.attrs.by, 'romeo@localhost', message.toString());
    assert.ok(archived.attrs.id);
    assert.deepEqual(delivered.getChildren('stanza-id', NS_SID).map((sid) => sid.attrs.by), ['juliet@localhost']);
    await settle(home, juliet, garden);
    assert.deepEqual(home.heard(h).map(String), [], 'the sending resource gets no copy (§6.3)');
    assert.deepEqual(carbonIds(garden.heard(g)), [id]);
  });

  test('§6.2: a message to Romeo\'s bare JID goes to home (priority 1); garden gets it as a copy addressed to the bare JID', TIMEOUT, async () => {
    const [g, h] = [garden.mark(), home.mark()];
    const id = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost', type: 'chat', id }, xml('body', {}, 'Romeo, Romeo!')));
    await home.next(h, (s) => s.is('message') && s.attrs.id === id);
    const message = carried(await garden.next(g, isCarbon), 'received', 'romeo@localhost/garden', 'chat');
    assert.equal(message.attrs.to, 'romeo@localhost');
    assert.equal(message.getChildText('body'), 'Romeo, Romeo!');
    await settle(juliet, home, garden);
    assert.equal(home.heard(h).filter(isCarbon).length, 0);
    assert.deepEqual(garden.heard(g).filter((s) => s.attrs.id === id), [], 'garden gets the copy, not the message');
    assert.deepEqual(carbonIds(garden.heard(g)), [id]);
  });

  test('§6.1: chat, normal with a body, chat states and receipts are copied; headline, groupchat and normal without IM payload are not', TIMEOUT, async () => {
    const g = garden.mark();
    const send = async (attrs: Record<string, string>, ...children: Stanza[]) => {
      const id = juliet.ownId();
      await juliet.send(xml('message', { to: 'romeo@localhost/home', id, ...attrs }, ...children));
      return id;
    };
    const normalWithBody = await send({}, xml('body', {}, 'a normal message'));
    await send({}, xml('x', { xmlns: 'urn:example:data' }));
    await send({ type: 'headline' }, xml('body', {}, 'news from Verona'));
    await send({ type: 'groupchat' }, xml('body', {}, 'to all of Verona'));
    const chatState = await send({}, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }));
    const receipt = await send({}, xml('received', { xmlns: 'urn:xmpp:receipts', id: 'some-message' }));
    const marker = await send({}, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id: 'some-message' }));
    const chat = await send({ type: 'chat' }, xml('gone', { xmlns: 'http://jabber.org/protocol/chatstates' }));
    await settle(juliet, garden);
    assert.deepEqual(carbonIds(garden.heard(g)), [normalWithBody, chatState, receipt, marker, chat]);
  });

  test('§6.4: <private/> with <no-copy/> is not copied, either way; XEP-0334 <no-copy/> alone is not copied either', TIMEOUT, async () => {
    const [g, h, j] = [garden.mark(), home.mark(), juliet.mark()];
    const privately = () => [xml('private', { xmlns: NS_CARBONS }), xml('no-copy', { xmlns: 'urn:xmpp:hints' })];
    const out = home.ownId();
    await home.send(xml('message', { to: 'juliet@localhost/balcony', type: 'chat', id: out }, xml('body', {}, 'for your eyes only'), ...privately()));
    const delivered = await juliet.next(j, (s) => s.attrs.id === out);
    // The element stays: servers no longer remove it (§6.4 interoperability note).
    assert.ok(delivered.getChild('private', NS_CARBONS));
    const inbound = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', type: 'chat', id: inbound }, xml('body', {}, 'and for yours'), ...privately()));
    const noCopy = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', type: 'chat', id: noCopy }, xml('body', {}, 'hinted'), xml('no-copy', { xmlns: 'urn:xmpp:hints' })));
    await home.next(h, (s) => s.attrs.id === noCopy);
    await settle(home, juliet, garden);
    assert.deepEqual(home.heard(h).map((s) => s.attrs.id), [inbound, noCopy]);
    assert.deepEqual(garden.heard(g).map(String), []);
  });

  test('§6.1.1: private messages from a room participant are not copied; to one, invitations and groupchat rules apply', TIMEOUT, async () => {
    const g = garden.mark();
    const mucUser = (...children: Stanza[]) => xml('x', { xmlns: 'http://jabber.org/protocol/muc#user' }, ...children);
    // Juliet plays a room occupant (she writes from a full JID) sending Romeo a private message.
    const fromOccupant = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', type: 'chat', id: fromOccupant }, xml('body', {}, 'psst'), mucUser()));
    // Romeo answers a participant privately: that is copied.
    const toOccupant = home.ownId();
    await home.send(xml('message', { to: 'juliet@localhost/balcony', type: 'chat', id: toOccupant }, xml('body', {}, 'psst yourself'), mucUser()));
    // Invitations: XEP-0249 direct, and mediated (XEP-0045 §7.8.2), neither with a body.
    const direct = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', id: direct }, xml('x', { xmlns: 'jabber:x:conference', jid: 'capulets@rooms.localhost' })));
    const mediated = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', id: mediated }, mucUser(xml('invite', { from: 'tybalt@localhost' }))));
    await settle(juliet, home, garden);
    assert.deepEqual(carbonIds(garden.heard(g)), [toOccupant, direct, mediated]);
  });

  test('§6.1: the error answering a copied message is copied too; an error about nothing Romeo sent is not', TIMEOUT, async () => {
    const [g, h] = [garden.mark(), home.mark()];
    const id = home.ownId();
    // Nobody has that account: the server answers service-unavailable (RFC 6121 §8.5.2.2.1).
    await home.send(xml('message', { to: 'nobody@localhost', type: 'chat', id }, xml('body', {}, 'hello?')));
    const error = await home.next(h, (s) => s.attrs.id === id && s.attrs.type === 'error');
    assert.equal(error.attrs.from, 'nobody@localhost');
    const [sentCopy, errorCopy] = [await garden.next(g, isCarbon), await garden.next(g, (s) => isCarbon(s) && s.getChild('received', NS_CARBONS) !== undefined)];
    carried(sentCopy, 'sent', 'romeo@localhost/garden', 'chat');
    const copied = carried(errorCopy, 'received', 'romeo@localhost/garden', 'error');
    assert.equal(copied.attrs.id, id);
    assert.equal(copied.attrs.from, 'nobody@localhost');
    assert.ok(copied.getChild('error')?.getChild('service-unavailable', NS_STANZAS), copied.toString());
    const stray = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', type: 'error', id: stray }, xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS }))));
    await home.next(h, (s) => s.attrs.id === stray);
    await settle(juliet, home, garden);
    assert.deepEqual(carbonIds(garden.heard(g)), [id, id]);
  });

  test('§11: a carbon Juliet forges reaches Romeo as she sent it (his client must ignore it) and is not copied', TIMEOUT, async () => {
    const [g, h] = [garden.mark(), home.mark()];
    const id = juliet.ownId();
    await juliet.send(
      xml(
        'message',
        { to: 'romeo@localhost/home', type: 'chat', id },
        xml('received', { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, xml('message', { xmlns: 'jabber:client', from: 'tybalt@localhost/home', to: 'romeo@localhost', type: 'chat' }, xml('body', {}, 'Meet me tonight')))),
      ),
    );
    const forged = await home.next(h, (s) => s.attrs.id === id);
    assert.equal(forged.attrs.from, 'juliet@localhost/balcony', 'the forgery shows who sent it');
    assert.ok(forged.getChild('received', NS_CARBONS));
    await settle(juliet, garden);
    assert.deepEqual(garden.heard(g).map(String), []);
  });

  test('a note to himself: home writes to garden; garden gets the message once, nobody gets a copy', TIMEOUT, async () => {
    const [g, h] = [garden.mark(), home.mark()];
    const id = home.ownId();
    await home.send(xml('message', { to: 'romeo@localhost/garden', type: 'chat', id }, xml('body', {}, 'remember the rope ladder')));
    await garden.next(g, (s) => s.attrs.id === id);
    await settle(home, garden);
    assert.deepEqual(garden.heard(g).map((s) => s.attrs.id), [id]);
    assert.deepEqual(home.heard(h).map(String), []);
  });

  test('§5: garden disables carbons and gets no more copies; it still sends them to home (§6.3 "irrespective")', TIMEOUT, async () => {
    for (let i = 0; i < 2; i++) {
      const result = await enable(garden, false);
      assert.equal(result.attrs.type, 'result', result.toString());
      assert.equal(result.attrs.from, 'romeo@localhost');
    }
    const [g, h] = [garden.mark(), home.mark()];
    const inbound = juliet.ownId();
    await juliet.send(xml('message', { to: 'romeo@localhost/home', type: 'chat', id: inbound }, xml('body', {}, 'art thou there?')));
    const outbound = home.ownId();
    await home.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: outbound }, xml('body', {}, 'I am')));
    const fromGarden = garden.ownId();
    await garden.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: fromGarden }, xml('body', {}, 'from the garden')));
    const copy = await home.next(h, isCarbon);
    const message = carried(copy, 'sent', 'romeo@localhost/home', 'chat');
    assert.equal(message.attrs.from, 'romeo@localhost/garden');
    assert.equal(message.attrs.id, fromGarden);
    await settle(juliet, home, garden);
    assert.deepEqual(garden.heard(g).map(String), [], 'a resource without carbons gets no copies');
    assert.deepEqual(carbonIds(home.heard(h)), [fromGarden]);
  });
});
