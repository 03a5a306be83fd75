// Romeo asks for Juliet's presence, she approves and asks back: the everyday subscription handshake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const NS_ROSTER = 'jabber:iq:roster';

describe('subscription handshake', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let juliet: XmppClient;

  before(async () => {
    server = await startTestServer();
    await server.createUser('romeo');
    await server.createUser('juliet');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    for (const client of [romeo, juliet]) {
      await client.iqCaller.get(xml('query', { xmlns: NS_ROSTER }));
      const echoed = nextStanza(client, (s) => s.is('presence'));
      await client.send(xml('presence'));
      await echoed;
    }
  });

  after(async () => {
    await Promise.allSettled([romeo?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('Romeo adds Juliet to his roster and gets a push', async () => {
    const push = nextStanza(romeo, (s) => s.is('iq') && s.attrs.type === 'set' && !!s.getChild('query', NS_ROSTER));
    await romeo.iqCaller.set(xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: 'juliet@localhost', name: 'Juliet' }, xml('group', {}, 'Capulets'))));
    const item = (await push).getChild('query')!.getChild('item')!;
    assert.deepEqual(item.attrs, { jid: 'juliet@localhost', name: 'Juliet', subscription: 'none' });
    assert.equal(item.getChildText('group'), 'Capulets');
  });

  test('Romeo subscribes; Juliet receives the request from his bare JID; his item shows ask="subscribe"', async () => {
    const request = nextStanza(juliet, (s) => s.is('presence') && s.attrs.type === 'subscribe');
    const push = nextStanza(romeo, (s) => s.is('iq') && !!s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.ask);
    await romeo.send(xml('presence', { to: 'juliet@localhost', type: 'subscribe' }));
    assert.equal((await request).attrs.from, 'romeo@localhost');
    assert.equal((await push).getChild('query')!.getChild('item')!.attrs.ask, 'subscribe');
  });

  test('Juliet approves: Romeo is "to", Juliet is "from", and Romeo gets her presence', async () => {
    const romeoPush = nextStanza(romeo, (s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === 'to');
    const julietPush = nextStanza(juliet, (s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === 'from');
    const subscribed = nextStanza(romeo, (s) => s.is('presence') && s.attrs.type === 'subscribed');
    const herPresence = nextStanza(romeo, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony' && s.attrs.type === undefined);
    await juliet.send(xml('presence', { to: 'romeo@localhost', type: 'subscribed' }));
    assert.equal((await subscribed).attrs.from, 'juliet@localhost');
    assert.equal((await romeoPush).getChild('query')!.getChild('item')!.attrs.ask, undefined);
    assert.equal((await julietPush).getChild('query')!.getChild('item')!.attrs.jid, 'romeo@localhost');
    await herPresence;
  });

  test('Juliet changes her status; Romeo sees it, and sees her leave when she goes unavailable', async () => {
    const away = nextStanza(romeo, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony' && s.getChildText('show') === 'away');
    await juliet.send(xml('presence', {}, xml('show', {}, 'away')));
    await away;
    const gone = nextStanza(romeo, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony' && s.attrs.type === 'unavailable');
    await juliet.send(xml('presence', { type: 'unavailable' }));
    await gone;
  });

  test('the roster survives a restart with its subscription states', async () => {
    await Promise.allSettled([romeo.stop(), juliet.stop()]);
    await server.stop({ keepData: true });
    server = await startTestServer({ dataDir: server.dataDir });
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    // iqCaller.get resolves with the result's <query/>.
    const query = await romeo.iqCaller.get(xml('query', { xmlns: NS_ROSTER }));
    const items = query.getChildren('item').map((i) => i.attrs);
    assert.deepEqual(items, [{ jid: 'juliet@localhost', name: 'Juliet', subscription: 'to' }]);
  });
});
