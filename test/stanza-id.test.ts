// XEP-0359 Unique and Stable Stanza IDs end to end: every message Juliet receives carries a stanza-id
// assigned by her account, and one Romeo forges in her name does not survive.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as XElement } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const NS_SID = 'urn:xmpp:sid:0';

/** Romeo sends a message; resolves with it as Juliet receives it. */
async function deliver(from: XmppClient, to: XmppClient, attrs: Record<string, string>, ...children: XElement[]): Promise<XElement> {
  const marker = `m${Math.random().toString(36).slice(2)}`;
  const received = nextStanza(to, (s) => s.is('message') && s.attrs.id === marker);
  await from.send(xml('message', { id: marker, ...attrs }, ...children));
  return received;
}

const stanzaIds = (message: XElement) => message.getChildren('stanza-id', NS_SID);

describe('stanza IDs (XEP-0359)', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let juliet: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  stanza_id:' });
    await server.createUser('romeo');
    await server.createUser('juliet');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const echoed = nextStanza(juliet, (s) => s.is('presence'));
    await juliet.send(xml('presence'));
    await echoed;
  });

  after(async () => {
    await Promise.allSettled([romeo?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('§5: the account advertises urn:xmpp:sid:0', async () => {
    const info = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes(NS_SID), features.join(' '));
  });

  test('§3.1: a message to the bare JID and one to the full JID each carry one stanza-id by Juliet\'s bare JID, with different ids', async () => {
    const toBare = await deliver(romeo, juliet, { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'But soft!'));
    const toFull = await deliver(romeo, juliet, { to: 'juliet@localhost/balcony' }, xml('body', {}, 'It is the east'));
    const ids = new Set<string>();
    for (const message of [toBare, toFull]) {
      const [sid, ...more] = stanzaIds(message);
      assert.ok(sid, message.toString());
      assert.equal(more.length, 0);
      assert.equal(sid.attrs.by, 'juliet@localhost');
      assert.match(sid.attrs.id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(sid.children.length, 0);
      ids.add(sid.attrs.id);
    }
    assert.equal(ids.size, 2);
  });

  test('a hundred messages get a hundred different ids', async () => {
    const ids = new Set<string>();
    const all = new Promise<void>((resolve) => {
      const listener = (s: XElement) => {
        if (!s.is('message') || s.getChildText('body') !== 'again') return;
        ids.add(stanzaIds(s)[0]!.attrs.id);
        if (ids.size === 100) {
          juliet.removeListener('stanza', listener);
          resolve();
        }
      };
      juliet.on('stanza', listener);
    });
    for (let i = 0; i < 100; i++) await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat' }, xml('body', {}, 'again')));
    await all;
    assert.equal(ids.size, 100);
  });

  test('§4 rule 2: a stanza-id Romeo forges in Juliet\'s name is replaced; others\' and the origin-id stay', async () => {
    const message = await deliver(
      romeo,
      juliet,
      { to: 'juliet@localhost', type: 'chat' },
      xml('body', {}, 'trust me'),
      xml('stanza-id', { xmlns: NS_SID, id: 'forged', by: 'juliet@localhost' }),
      xml('stanza-id', { xmlns: NS_SID, id: 'forged-too', by: 'Juliet@LOCALHOST' }),
      xml('stanza-id', { xmlns: NS_SID, id: 'room-id', by: 'room@muc.localhost' }),
      xml('origin-id', { xmlns: NS_SID, id: 'romeo-origin' }),
    );
    const ids = stanzaIds(message);
    const hers = ids.filter((s) => s.attrs.by.toLowerCase() === 'juliet@localhost');
    assert.equal(hers.length, 1, message.toString());
    assert.notEqual(hers[0]!.attrs.id, 'forged');
    assert.notEqual(hers[0]!.attrs.id, 'forged-too');
    assert.deepEqual(ids.filter((s) => s.attrs.by === 'room@muc.localhost').map((s) => s.attrs.id), ['room-id']);
    assert.equal(message.getChild('origin-id', NS_SID)?.attrs.id, 'romeo-origin');
  });

  test('groupchat and error messages get no stanza-id from the account, and lose forged ones', async () => {
    const forged = () => xml('stanza-id', { xmlns: NS_SID, id: 'forged', by: 'juliet@localhost' });
    const groupchat = await deliver(romeo, juliet, { to: 'juliet@localhost/balcony', type: 'groupchat' }, xml('body', {}, 'all of Verona'), forged());
    assert.deepEqual(stanzaIds(groupchat).map(String), []);
    const error = await deliver(romeo, juliet, { to: 'juliet@localhost/balcony', type: 'error' }, forged(), xml('error', { type: 'cancel' }, xml('gone', { xmlns: 'urn:ietf:params:xml:ns:xmpp-stanzas' })));
    assert.deepEqual(stanzaIds(error).map(String), []);
  });

  test('a message to one\'s own resource is stamped by one\'s own account', async () => {
    const toSelf = await deliver(romeo, romeo, { to: 'romeo@localhost/orchard', type: 'chat' }, xml('body', {}, 'note to self'));
    assert.deepEqual(stanzaIds(toSelf).map((s) => s.attrs.by), ['romeo@localhost']);
  });
});
