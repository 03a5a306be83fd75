// Romeo and Juliet log in with a real client (@xmpp/client over STARTTLS + SCRAM-SHA-1) and talk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

describe('login and chat', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let juliet: XmppClient;

  before(async () => {
    server = await startTestServer();
    await server.createUser('romeo');
    await server.createUser('juliet');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
  });

  after(async () => {
    await Promise.allSettled([romeo?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('each client is bound to the resource it asked for', () => {
    assert.equal(romeo.jid?.toString(), 'romeo@localhost/orchard');
    assert.equal(juliet.jid?.toString(), 'juliet@localhost/balcony');
  });

  test('initial presence is echoed back to the sender (RFC 6121 §4.2.2)', async () => {
    const echoed = nextStanza(romeo, (s) => s.is('presence') && s.attrs.from === 'romeo@localhost/orchard');
    await romeo.send(xml('presence', {}, xml('priority', {}, '1')));
    const presence = await echoed;
    assert.equal(presence.attrs.to, 'romeo@localhost/orchard');
    const julietEchoed = nextStanza(juliet, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony');
    await juliet.send(xml('presence'));
    await julietEchoed;
  });

  test('Romeo sends a chat message to Juliet\'s bare JID; Juliet receives it from his full JID', async () => {
    const received = nextStanza(juliet, (s) => s.is('message'));
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'm1' }, xml('body', {}, 'But soft, what light through yonder window breaks? <&> é😀')));
    const message = await received;
    assert.equal(message.attrs.from, 'romeo@localhost/orchard');
    assert.equal(message.attrs.to, 'juliet@localhost/balcony');
    assert.equal(message.attrs.type, 'chat');
    assert.equal(message.getChildText('body'), 'But soft, what light through yonder window breaks? <&> é😀');
  });

  test('Juliet answers to Romeo\'s full JID', async () => {
    const received = nextStanza(romeo, (s) => s.is('message'));
    await juliet.send(xml('message', { to: 'romeo@localhost/orchard', type: 'chat' }, xml('body', {}, 'Wherefore art thou?')));
    const message = await received;
    assert.equal(message.attrs.from, 'juliet@localhost/balcony');
    assert.equal(message.getChildText('body'), 'Wherefore art thou?');
  });

  test('a message to an unknown user bounces with service-unavailable', async () => {
    const bounced = nextStanza(romeo, (s) => s.is('message') && s.attrs.type === 'error');
    await romeo.send(xml('message', { to: 'nobody@localhost', type: 'chat', id: 'lost1' }, xml('body', {}, 'hello?')));
    const error = await bounced;
    assert.equal(error.attrs.id, 'lost1');
    assert.equal(error.attrs.from, 'nobody@localhost');
    assert.ok(error.getChild('error')?.getChild('service-unavailable', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
  });

  test('a message to another domain bounces with remote-server-not-found', async () => {
    const bounced = nextStanza(romeo, (s) => s.is('message') && s.attrs.type === 'error');
    await romeo.send(xml('message', { to: 'friar@verona.example', id: 'far1' }, xml('body', {}, 'hi')));
    const error = await bounced;
    assert.ok(error.getChild('error')?.getChild('remote-server-not-found', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
  });

  test('a malformed JID in "to" gets jid-malformed', async () => {
    const bounced = nextStanza(romeo, (s) => s.is('message') && s.attrs.id === 'bad1');
    await romeo.send(xml('message', { to: '@localhost', id: 'bad1' }, xml('body', {}, 'hi')));
    const error = await bounced;
    assert.equal(error.attrs.type, 'error');
    assert.ok(error.getChild('error')?.getChild('jid-malformed', 'urn:ietf:params:xml:ns:xmpp-stanzas'));
  });

  test('an IQ to a full JID reaches that resource, and its answer comes back', async () => {
    juliet.on('stanza', (s) => {
      if (s.is('iq') && s.attrs.type === 'get' && s.getChild('query', 'jabber:iq:version')) {
        void juliet.send(xml('iq', { type: 'result', id: s.attrs.id, to: s.attrs.from }, xml('query', { xmlns: 'jabber:iq:version' }, xml('name', {}, 'Balcony'))));
      }
    });
    const reply = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost/balcony' }, xml('query', { xmlns: 'jabber:iq:version' })));
    assert.equal(reply.getChild('query')?.getChildText('name'), 'Balcony');
  });

  test('an IQ to a resource that does not exist gets service-unavailable', async () => {
    await assert.rejects(romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost/nowhere' }, xml('query', { xmlns: 'jabber:iq:version' }))), (err: Error & { condition?: string }) => err.condition === 'service-unavailable');
  });

  test('an IQ to the server that nobody handles gets service-unavailable', async () => {
    await assert.rejects(romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'urn:example:unknown' }))), (err: Error & { condition?: string }) => err.condition === 'service-unavailable');
  });

  test('ping (XEP-0199), version (XEP-0092) and time (XEP-0202) are answered', async () => {
    const pong = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal(pong.attrs.type, 'result');
    assert.equal(pong.attrs.from, 'localhost');
    const version = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'jabber:iq:version' })));
    assert.equal(version.getChild('query')?.getChildText('name'), 'Quire');
    assert.match(version.getChild('query')?.getChildText('version') ?? '', /^\d+\.\d+\.\d+/);
    assert.equal(version.getChild('query')?.getChild('os'), undefined);
    const time = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('time', { xmlns: 'urn:xmpp:time' })));
    const utc = time.getChild('time')?.getChildText('utc') ?? '';
    assert.match(utc, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(Math.abs(Date.parse(utc) - Date.now()) < 60_000);
    assert.match(time.getChild('time')?.getChildText('tzo') ?? '', /^[+-]\d\d:\d\d$/);
  });

  test('disco#info lists exactly the enabled modules\' features (XEP-0030)', async () => {
    const info = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const query = info.getChild('query')!;
    const identity = query.getChild('identity')!;
    assert.deepEqual([identity.attrs.category, identity.attrs.type], ['server', 'im']);
    const features = query.getChildren('feature').map((f) => f.attrs.var).sort();
    assert.deepEqual(features, ['http://jabber.org/protocol/disco#info', 'http://jabber.org/protocol/disco#items', 'jabber:iq:register', 'jabber:iq:version', 'urn:xmpp:ping', 'urn:xmpp:time'].sort());
  });

  test('disco#info on an account answers with account/registered', async () => {
    const info = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'juliet@localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const identity = info.getChild('query')!.getChild('identity')!;
    assert.deepEqual([identity.attrs.category, identity.attrs.type], ['account', 'registered']);
  });

  test('a second login with the same resource replaces the first with a <conflict/> stream error (RFC 6120 §7.7.2.2)', async () => {
    await server.createUser('mercutio');
    // Another device of his watches: it must see the replaced session end like any other.
    const home = await connectClient(server, 'mercutio', undefined, 'home');
    const homeOnline = nextStanza(home, (s) => s.is('presence') && s.attrs.from === 'mercutio@localhost/home');
    await home.send(xml('presence'));
    await homeOnline;
    const first = await connectClient(server, 'mercutio', undefined, 'street');
    const firstOnline = nextStanza(home, (s) => s.is('presence') && s.attrs.from === 'mercutio@localhost/street');
    await first.send(xml('presence'));
    await firstOnline;
    const streamError = new Promise<string>((resolve) => first.on('error', (err) => resolve(String((err as Error & { condition?: string }).condition))));
    const gone = nextStanza(home, (s) => s.is('presence') && s.attrs.from === 'mercutio@localhost/street' && s.attrs.type === 'unavailable');
    const second = await connectClient(server, 'mercutio', undefined, 'street');
    assert.equal(await streamError, 'conflict');
    await gone;
    assert.equal(second.jid?.toString(), 'mercutio@localhost/street');
    await Promise.all([second.stop(), home.stop()]);
    await first.stop().catch(() => {});
  });

  test('a wrong password is refused with not-authorized', async () => {
    await assert.rejects(connectClient(server, 'romeo', 'wrong-password'), (err: Error & { condition?: string }) => err.condition === 'not-authorized');
  });
});
