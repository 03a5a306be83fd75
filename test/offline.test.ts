// XEP-0160 offline messages with XEP-0203 delay stamps: Romeo writes to Juliet while she is away; she gets
// everything, in order and stamped, when she next sends non-negative available presence, and only once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as XmppElement } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const NS_DELAY = 'urn:xmpp:delay';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const MODULES = 'modules:\n  roster:\n  presence:\n  disco:\n  ping:\n  offline:\n    max_messages: 5';


/** A ping to the server and its answer: everything the server sent this client before is now in. */
async function roundTrip(xmpp: XmppClient): Promise<void> {
  await xmpp.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
}

/** Collects every message a client receives from now on. */
function collectMessages(xmpp: XmppClient): XmppElement[] {
  const messages: XmppElement[] = [];
  xmpp.on('stanza', (stanza) => {
    if (stanza.is('message')) messages.push(stanza);
  });
  return messages;
}

const seconds = (ms: number) => Math.floor(ms / 1000) * 1000;

describe('XEP-0160 offline messages', () => {
  let server: TestServer;
  let romeo: XmppClient;
  const others: XmppClient[] = [];

  const events = () => server.running.server.hosts.get('localhost')!.events;
  /** Resolves when the server has stored `count` more offline messages for the user. */
  const stored = (user: string, count = 1): Promise<void> =>
    new Promise((resolve) => {
      let left = count;
      const off = events().on('offline/stored', (event: { user: string }) => {
        if (event.user === user && --left === 0) {
          off();
          resolve();
        }
        return undefined;
      });
    });
  /** Resolves with the count of the next delivery of stored messages to this full JID. */
  const delivered = (jid: string): Promise<number> =>
    new Promise((resolve) => {
      const off = events().on('offline/delivered', (event: { session: { jid: { full: string } }; count: number }) => {
        if (event.session.jid.full !== jid) return undefined;
        off();
        resolve(event.count);
        return undefined;
      });
    });

  /** Logs in, sends initial presence and resolves with what offline delivery gave it. */
  async function loginAndCollect(user: string, resource: string, priority = '1'): Promise<{ xmpp: XmppClient; messages: XmppElement[] }> {
    const xmpp = await connectClient(server, user, undefined, resource);
    others.push(xmpp);
    const messages = collectMessages(xmpp);
    const done = delivered(`${user}@localhost/${resource}`);
    await xmpp.send(xml('presence', {}, xml('priority', {}, priority)));
    await done;
    await roundTrip(xmpp);
    return { xmpp, messages };
  }

  before(async () => {
    server = await startTestServer({ modules: MODULES });
    for (const user of ['romeo', 'juliet', 'nurse', 'tybalt', 'paris']) await server.createUser(user);
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    await romeo.send(xml('presence'));
  });

  after(async () => {
    await Promise.allSettled([romeo?.stop(), ...others.map((c) => c.stop())]);
    await server?.stop();
  });

  test('disco#info advertises msgoffline (§4)', async () => {
    const info = await romeo.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })));
    const features = info.getChild('query')!.getChildren('feature').map((f) => f.attrs.var);
    assert.ok(features.includes('msgoffline'));
  });

  test('messages for offline Juliet are stored and delivered in order with delay stamps from the server (§2, XEP-0203)', async () => {
    const start = seconds(Date.now());
    const allStored = stored('juliet', 3);
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'o1' }, xml('body', {}, 'O blessed, blessed night!')));
    await romeo.send(xml('message', { to: 'juliet@localhost', id: 'o2' }, xml('subject', {}, 'tonight'), xml('body', {}, 'I am afeard.')));
    // §2 step 1: a full JID whose resource is gone counts as the bare JID (RFC 6121 §8.5.3.2.1).
    await romeo.send(xml('message', { to: 'juliet@localhost/gone', type: 'chat', id: 'o3' }, xml('body', {}, 'Too flattering-sweet'), xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    await allStored;
    const end = Date.now();

    const { messages } = await loginAndCollect('juliet', 'balcony');
    assert.deepEqual(messages.map((m) => m.attrs.id), ['o1', 'o2', 'o3']);
    assert.deepEqual(messages.map((m) => m.getChildText('body')), ['O blessed, blessed night!', 'I am afeard.', 'Too flattering-sweet']);
    for (const message of messages) {
      assert.equal(message.attrs.from, 'romeo@localhost/orchard');
      const delays = message.getChildren('delay', NS_DELAY);
      assert.equal(delays.length, 1, message.toString());
      assert.equal(delays[0].attrs.from, 'localhost');
      assert.equal(delays[0].text(), 'Offline Storage');
      assert.match(delays[0].attrs.stamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      const stamp = Date.parse(delays[0].attrs.stamp);
      assert.ok(stamp >= start && stamp <= end, `stamp ${delays[0].attrs.stamp} is when the message arrived`);
    }
    // The original addressee is kept.
    assert.deepEqual(messages.map((m) => m.attrs.to), ['juliet@localhost', 'juliet@localhost', 'juliet@localhost/gone']);
    assert.equal(messages[1].attrs.type, undefined);
    assert.equal(messages[1].getChildText('subject'), 'tonight');
    assert.ok(messages[2].getChild('active', 'http://jabber.org/protocol/chatstates'));
  });

  test('they are not delivered twice: the next login gets only what came after', async () => {
    await others.pop()!.stop();
    const storedOne = stored('juliet');
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'o4' }, xml('body', {}, 'Parting is such sweet sorrow')));
    await storedOne;
    const { messages } = await loginAndCollect('juliet', 'balcony');
    assert.deepEqual(messages.map((m) => m.attrs.id), ['o4']);
  });

  test('while Juliet is online, messages reach her directly and nothing is stored', async () => {
    const juliet = others.at(-1)!;
    const received = nextStanza(juliet, (s) => s.is('message') && s.attrs.id === 'live1');
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'live1' }, xml('body', {}, 'Good night, good night!')));
    const message = await received;
    assert.equal(message.getChild('delay', NS_DELAY), undefined);
    await juliet.stop();
    others.pop();
  });

  test('headline, error, chat-state-only and no-store messages are not stored (§3, XEP-0334)', async () => {
    // Chat states alone (XEP-0085) and <no-store/> get the answer RFC 6121 §8.5.2.2.1 gives without storage.
    const chatStateBounce = nextStanza(romeo, (s) => s.is('message') && s.attrs.id === 'cs1');
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'cs1' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })));
    const bounce1 = await chatStateBounce;
    assert.equal(bounce1.attrs.type, 'error');
    assert.ok(bounce1.getChild('error')?.getChild('service-unavailable', NS_STANZAS));

    const noStoreBounce = nextStanza(romeo, (s) => s.is('message') && s.attrs.id === 'ns1');
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'ns1' }, xml('body', {}, 'forget this'), xml('no-store', { xmlns: 'urn:xmpp:hints' })));
    const bounce2 = await noStoreBounce;
    assert.ok(bounce2.getChild('error')?.getChild('service-unavailable', NS_STANZAS));

    // Headlines and errors are dropped silently.
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'headline', id: 'h1' }, xml('body', {}, 'News from Mantua')));
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'error', id: 'e1' }, xml('body', {}, 'an error'), xml('error', { type: 'cancel' }, xml('item-not-found', { xmlns: NS_STANZAS }))));
    // A headline with the <store/> hint is stored (XEP-0334 §4.4), and one last ordinary message is the marker.
    const storedTwo = stored('juliet', 2);
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'headline', id: 'h2' }, xml('body', {}, 'Keep this'), xml('store', { xmlns: 'urn:xmpp:hints' })));
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'o5' }, xml('body', {}, 'the last one')));
    await storedTwo;

    const { messages } = await loginAndCollect('juliet', 'balcony');
    assert.deepEqual(messages.map((m) => m.attrs.id), ['h2', 'o5']);
    await others.pop()!.stop();
  });

  test('a message to an account that does not exist still bounces with service-unavailable', async () => {
    const bounced = nextStanza(romeo, (s) => s.is('message') && s.attrs.id === 'lost1');
    await romeo.send(xml('message', { to: 'nobody@localhost', type: 'chat', id: 'lost1' }, xml('body', {}, 'hello?')));
    const error = await bounced;
    assert.equal(error.attrs.type, 'error');
    assert.equal(error.attrs.from, 'nobody@localhost');
    assert.ok(error.getChild('error')?.getChild('service-unavailable', NS_STANZAS));
  });

  test('when the mailbox is full, the sender gets service-unavailable (§2 step 3)', async () => {
    const errors: XmppElement[] = [];
    const onStanza = (s: XmppElement) => {
      if (s.is('message') && s.attrs.type === 'error') errors.push(s);
    };
    romeo.on('stanza', onStanza);
    const fiveStored = stored('nurse', 5);
    for (let i = 1; i <= 5; i++) await romeo.send(xml('message', { to: 'nurse@localhost', id: `n${i}` }, xml('body', {}, `message ${i}`)));
    await fiveStored;
    const full = nextStanza(romeo, (s) => s.is('message') && s.attrs.id === 'n6');
    await romeo.send(xml('message', { to: 'nurse@localhost', type: 'chat', id: 'n6' }, xml('body', {}, 'one too many')));
    const error = await full;
    romeo.removeListener('stanza', onStanza);
    assert.deepEqual(errors.map((e) => e.attrs.id), ['n6']);
    assert.equal(error.attrs.type, 'error');
    assert.equal(error.attrs.from, 'nurse@localhost');
    const condition = error.getChild('error')!;
    assert.equal(condition.attrs.type, 'cancel');
    assert.ok(condition.getChild('service-unavailable', NS_STANZAS));
    assert.match(condition.getChildText('text', NS_STANZAS) ?? '', /full/);

    const { messages } = await loginAndCollect('nurse', 'kitchen');
    assert.deepEqual(messages.map((m) => m.attrs.id), ['n1', 'n2', 'n3', 'n4', 'n5']);
    await others.pop()!.stop();
  });

  test('negative-priority presence does not take the messages; raising the priority does (§2 step 5, RFC 6121 §8.5.2.1)', async () => {
    const firstStored = stored('tybalt');
    await romeo.send(xml('message', { to: 'tybalt@localhost', type: 'chat', id: 't1' }, xml('body', {}, 'Tybalt, the reason that I have to love thee')));
    await firstStored;

    const tybalt = await connectClient(server, 'tybalt', undefined, 'street');
    others.push(tybalt);
    const messages = collectMessages(tybalt);
    let raised = false;
    const arrivals: boolean[] = [];
    tybalt.on('stanza', (s) => {
      if (s.is('message')) arrivals.push(raised);
    });
    const echoed = nextStanza(tybalt, (s) => s.is('presence') && s.attrs.from === 'tybalt@localhost/street');
    await tybalt.send(xml('presence', {}, xml('priority', {}, '-1')));
    await echoed;
    // Still nobody to take a message sent to the bare JID: it is stored too.
    const secondStored = stored('tybalt');
    await romeo.send(xml('message', { to: 'tybalt@localhost', type: 'chat', id: 't2' }, xml('body', {}, 'Doth much excuse the appertaining rage')));
    await secondStored;

    const done = delivered('tybalt@localhost/street');
    raised = true;
    await tybalt.send(xml('presence', {}, xml('priority', {}, '0')));
    assert.equal(await done, 2);
    await roundTrip(tybalt);
    assert.deepEqual(messages.map((m) => m.attrs.id), ['t1', 't2']);
    assert.deepEqual(arrivals, [true, true], 'nothing was delivered while the priority was negative');
    await others.pop()!.stop();
  });

  test('two resources becoming available at once: the messages go to one of them, once', async () => {
    const storedTwo = stored('paris', 2);
    await romeo.send(xml('message', { to: 'paris@localhost', type: 'chat', id: 'p1' }, xml('body', {}, 'one')));
    await romeo.send(xml('message', { to: 'paris@localhost', type: 'chat', id: 'p2' }, xml('body', {}, 'two')));
    await storedTwo;
    const [a, b] = await Promise.all([connectClient(server, 'paris', undefined, 'a'), connectClient(server, 'paris', undefined, 'b')]);
    others.push(a, b);
    const messagesA = collectMessages(a);
    const messagesB = collectMessages(b);
    const done = Promise.all([delivered('paris@localhost/a'), delivered('paris@localhost/b')]);
    await Promise.all([a.send(xml('presence')), b.send(xml('presence'))]);
    const counts = await done;
    await Promise.all([roundTrip(a), roundTrip(b)]);
    assert.deepEqual(counts.sort(), [0, 2]);
    const ids = [...messagesA, ...messagesB].map((m) => m.attrs.id);
    assert.deepEqual(ids, ['p1', 'p2']);
    await Promise.all([others.pop()!.stop(), others.pop()!.stop()]);
  });

  test('stored messages survive a restart', async () => {
    const storedOne = stored('juliet');
    await romeo.send(xml('message', { to: 'juliet@localhost', type: 'chat', id: 'r1' }, xml('body', {}, 'Wilt thou be gone?')));
    await storedOne;
    await romeo.stop();
    const dataDir = server.dataDir;
    await server.stop({ keepData: true });
    server = await startTestServer({ modules: MODULES, dataDir });
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    const { messages } = await loginAndCollect('juliet', 'balcony');
    assert.deepEqual(messages.map((m) => m.attrs.id), ['r1']);
    assert.equal(messages[0].getChildText('body'), 'Wilt thou be gone?');
    assert.equal(messages[0].getChild('delay', NS_DELAY)?.attrs.from, 'localhost');
  });
});
