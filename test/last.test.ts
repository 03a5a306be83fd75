// XEP-0012 Last Activity: the server's uptime; Juliet's last logout and status, told to Romeo (whom her roster
// lets see her presence) and refused to Tybalt (whom it does not); kept across a restart.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { newItem, type Subscription } from '../src/core/roster.js';
import type { Session } from '../src/core/session.js';
import { LAST_STORE } from '../src/modules/last/index.js';

const NS_LAST = 'jabber:iq:last';
const MODULES = 'modules:\n  disco:\n  last:';

type StanzaError = Error & { condition?: string; element?: import('@xmpp/xml').Element };

function rejectsWith(promise: Promise<unknown>, condition: string, type: string) {
  return assert.rejects(promise, (err: StanzaError) => {
    assert.equal(err.condition, condition);
    assert.equal(err.element?.attrs.type, type);
    return true;
  });
}

describe('last activity (XEP-0012)', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let tybalt: XmppClient;
  let juliet: XmppClient | undefined;

  const lastOf = (client: XmppClient, to: string) => client.iqCaller.request(xml('iq', { type: 'get', to }, xml('query', { xmlns: NS_LAST })));

  /** Puts contact in user's roster with this subscription, as the roster module would after a handshake. */
  const subscribe = async (user: string, contact: string, subscription: Subscription) => {
    const rosters = server.running.server.rosters;
    const roster = await rosters.get('localhost', user);
    const item = newItem(contact);
    item.subscription = subscription;
    await rosters.commit(roster, [item]);
  };

  /** Resolves once the server has handled the end of the account's last session (after every handler). */
  const lastSessionEnded = (bare: string) =>
    new Promise<void>((resolve) => {
      const events = server.running.server.hosts.get('localhost')!.events;
      const off = events.on(
        'session-ended',
        ({ session }: { session: Session }) => {
          if (session.jid.bare === bare && !server.running.server.sessions.hasSessions(bare)) {
            off();
            resolve();
          }
          return undefined;
        },
        -10_000,
      );
    });

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const name of ['romeo', 'juliet', 'tybalt', 'benvolio']) await server.createUser(name);
    // Juliet lets Romeo see her presence ('from'); Benvolio lets Romeo see his, but has never logged in.
    await subscribe('juliet', 'romeo@localhost', 'from');
    await subscribe('juliet', 'tybalt@localhost', 'to');
    await subscribe('benvolio', 'romeo@localhost', 'both');
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    tybalt = await connectClient(server, 'tybalt', undefined, 'street');
  });

  after(async () => {
    await Promise.allSettled([romeo?.stop(), tybalt?.stop(), juliet?.stop()]);
    await server?.stop();
  });

  test('the server advertises jabber:iq:last (§6)', async () => {
    const info = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    assert.ok(info.getChild('query')!.getChildren('feature').some((f) => f.attrs.var === NS_LAST));
  });

  test('asked of the server, it tells its uptime in seconds, with no text (§5)', async () => {
    const reply = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost', id: 'last3' }, xml('query', { xmlns: NS_LAST })));
    assert.equal(reply.attrs.from, 'localhost');
    const query = reply.getChild('query', NS_LAST)!;
    assert.match(query.attrs.seconds, /^\d+$/);
    assert.ok(Number(query.attrs.seconds) < 600);
    assert.equal(query.text(), '');
  });

  test('Juliet is online: Romeo, whom she lets see her presence, gets 0 seconds (§3)', async () => {
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const reply = await lastOf(romeo, 'juliet@localhost');
    assert.equal(reply.attrs.from, 'juliet@localhost');
    assert.equal(reply.getChild('query', NS_LAST)!.attrs.seconds, '0');
  });

  test('Tybalt, who has no subscription from Juliet (only "to"), gets forbidden (§3)', async () => {
    await rejectsWith(lastOf(tybalt, 'juliet@localhost'), 'forbidden', 'auth');
  });

  test('to her full JID: Romeo\'s query reaches Juliet\'s client, which answers with her idle time (§4)', async () => {
    const asked = nextStanza(juliet!, (s) => s.is('iq') && s.attrs.type === 'get' && s.getChild('query', NS_LAST) !== undefined);
    const answer = lastOf(romeo, 'juliet@localhost/balcony');
    const query = await asked;
    assert.equal(query.attrs.from, 'romeo@localhost/orchard');
    await juliet!.send(xml('iq', { type: 'result', to: query.attrs.from, id: query.attrs.id }, xml('query', { xmlns: NS_LAST, seconds: '123' })));
    const reply = await answer;
    assert.equal(reply.attrs.from, 'juliet@localhost/balcony');
    assert.equal(reply.getChild('query', NS_LAST)!.attrs.seconds, '123');
  });

  test('to her full JID, or a resource she does not have, Tybalt gets forbidden from the server (§4, §8)', async () => {
    await rejectsWith(lastOf(tybalt, 'juliet@localhost/balcony'), 'forbidden', 'auth');
    await rejectsWith(lastOf(tybalt, 'juliet@localhost/nowhere'), 'forbidden', 'auth');
  });

  test('Juliet may ask about herself', async () => {
    const reply = await lastOf(juliet!, 'juliet@localhost');
    assert.equal(reply.getChild('query', NS_LAST)!.attrs.seconds, '0');
  });

  test('Juliet logs out with "Heading Home": Romeo learns how long ago, and the status (§3)', async () => {
    const echoed = nextStanza(juliet!, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony');
    await juliet!.send(xml('presence'));
    await echoed;
    const ended = lastSessionEnded('juliet@localhost');
    await juliet!.send(xml('presence', { type: 'unavailable' }, xml('status', {}, 'Heading Home')));
    await juliet!.stop();
    juliet = undefined;
    await ended;
    const reply = await lastOf(romeo, 'juliet@localhost');
    const query = reply.getChild('query', NS_LAST)!;
    assert.ok(Number(query.attrs.seconds) >= 0 && Number(query.attrs.seconds) < 60, query.attrs.seconds);
    assert.equal(query.text(), 'Heading Home');
    // Still nothing for Tybalt.
    await rejectsWith(lastOf(tybalt, 'juliet@localhost'), 'forbidden', 'auth');
  });

  test('the seconds count from the recorded logout', async () => {
    const store = server.running.server.storage.keyval(LAST_STORE);
    await store.set('localhost', 'juliet', xml('last', { xmlns: NS_LAST, when: String(Date.now() - 903_000) }, 'Heading Home').toString());
    const reply = await lastOf(romeo, 'juliet@localhost');
    const query = reply.getChild('query', NS_LAST)!;
    assert.ok(['903', '904'].includes(query.attrs.seconds), query.attrs.seconds);
    assert.equal(query.text(), 'Heading Home');
  });

  test('a client that closes its stream while available leaves no status (RFC 6121 §4.5.2)', async () => {
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    const echoed = nextStanza(juliet, (s) => s.is('presence') && s.attrs.from === 'juliet@localhost/balcony');
    await juliet.send(xml('presence', {}, xml('status', {}, 'On the balcony')));
    await echoed;
    const ended = lastSessionEnded('juliet@localhost');
    await juliet.stop();
    juliet = undefined;
    await ended;
    const query = (await lastOf(romeo, 'juliet@localhost')).getChild('query', NS_LAST)!;
    assert.ok(Number(query.attrs.seconds) < 60, query.attrs.seconds);
    assert.equal(query.text(), '');
  });

  test('an account that never logged out gets item-not-found; one that does not exist, service-unavailable', async () => {
    await rejectsWith(lastOf(romeo, 'benvolio@localhost'), 'item-not-found', 'cancel');
    await rejectsWith(lastOf(romeo, 'nobody@localhost'), 'service-unavailable', 'cancel');
  });

  test('the last logout survives a restart; a full-JID query is checked against a roster not yet loaded', async () => {
    const ended = lastSessionEnded('juliet@localhost');
    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    await juliet.send(xml('presence', { type: 'unavailable' }, xml('status', {}, 'Gone to Friar Laurence')));
    await juliet.stop();
    juliet = undefined;
    await ended;

    await Promise.allSettled([romeo.stop(), tybalt.stop()]);
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir: server.dataDir });
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    tybalt = await connectClient(server, 'tybalt', undefined, 'street');

    const query = (await lastOf(romeo, 'juliet@localhost')).getChild('query', NS_LAST)!;
    assert.ok(Number(query.attrs.seconds) < 60, query.attrs.seconds);
    assert.equal(query.text(), 'Gone to Friar Laurence');

    juliet = await connectClient(server, 'juliet', undefined, 'balcony');
    server.running.server.rosters.forget('localhost', 'juliet');
    await rejectsWith(lastOf(tybalt, 'juliet@localhost/balcony'), 'forbidden', 'auth');
    server.running.server.rosters.forget('localhost', 'juliet');
    const asked = nextStanza(juliet, (s) => s.is('iq') && s.attrs.type === 'get' && s.getChild('query', NS_LAST) !== undefined);
    const answer = lastOf(romeo, 'juliet@localhost/balcony');
    const forwarded = await asked;
    await juliet.send(xml('iq', { type: 'result', to: forwarded.attrs.from, id: forwarded.attrs.id }, xml('query', { xmlns: NS_LAST, seconds: '5' })));
    assert.equal((await answer).getChild('query', NS_LAST)!.attrs.seconds, '5');
  });
});
