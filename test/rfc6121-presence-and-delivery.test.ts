// RFC 6121 §4 (presence: initial broadcast, probes, other resources, unavailable at the end of a session, directed
// presence) and §8.5 (delivery to a local account by stanza kind, message type and priority), checked with real
// clients (@xmpp/client). Like a conversation: who sends what, who must receive it, and who must not.
//
// Absence is asserted after `settle()`: ping round trips per client until a round starts no storage work and none is
// in flight (TestServer.settle). The server answers a ping after what the client sent before it, and what those
// stanzas cause waits only for storage; so then everything they caused has been written to every socket ahead of the
// last answer. No sleeps.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Element as Stanza } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';

const NS_ROSTER = 'jabber:iq:roster';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';

/** A logged-in resource with everything its client received, in order. */
class Party {
  readonly log: Stanza[] = [];
  private serial = 0;

  constructor(
    readonly user: string,
    readonly client: XmppClient,
  ) {
    client.on('stanza', (stanza) => this.log.push(stanza));
  }

  get bare(): string {
    return `${this.user}@localhost`;
  }

  get full(): string {
    return this.client.jid!.toString();
  }

  send(stanza: Stanza): Promise<void> {
    return this.client.send(stanza);
  }

  /** Sends an IQ and resolves with the answer (result or error) that carries its id. */
  async iq(type: 'get' | 'set', payload: Stanza, to?: string): Promise<Stanza> {
    const id = `${this.user}-${this.client.jid?.resource}-${++this.serial}`;
    const answer = nextStanza(this.client, (s) => s.is('iq') && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
    await this.client.send(xml('iq', { type, id, to }, payload));
    return answer;
  }

  async ping(): Promise<void> {
    const answer = await this.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost');
    assert.equal(answer.attrs.type, 'result');
  }

  mark(): number {
    return this.log.length;
  }

  /** What arrived since mark, apart from the answers to this party's own IQs (the pings of settle()). */
  heard(mark: number): Stanza[] {
    const own = `${this.user}-${this.client.jid?.resource}-`;
    return this.log.slice(mark).filter((s) => !(s.is('iq') && (s.attrs.type === 'result' || s.attrs.type === 'error') && (s.attrs.id ?? '').startsWith(own)));
  }

  /** Presence received since mark from an account (bare or any full JID of it). */
  presenceFrom(mark: number, bare: string): Stanza[] {
    return this.heard(mark).filter((s) => s.is('presence') && (s.attrs.from === bare || (s.attrs.from ?? '').startsWith(bare + '/')));
  }

  /** Messages received since mark with this body. */
  messages(mark: number, body: string): Stanza[] {
    return this.heard(mark).filter((s) => s.is('message') && s.getChildText('body') === body);
  }

  /** Ends the TCP connection without a word: no unavailable presence, no </stream:stream>. */
  vanish(): void {
    // @xmpp/client wraps the TLS socket in a Socket of its own.
    (this.client as unknown as { socket: { socket: { destroy(): void } } }).socket.socket.destroy();
  }

  async stop(): Promise<void> {
    await this.client.stop().catch(() => {});
  }
}

let server: TestServer;
let serial = 0;
const parties: Party[] = [];

async function settle(...who: Party[]): Promise<void> {
  await server.settle(() => Promise.all(who.map((p) => p.ping())));
}

async function freshUser(prefix: string): Promise<string> {
  const user = `${prefix}${++serial}`;
  await server.createUser(user);
  return user;
}

interface LoginOptions {
  resource?: string;
  /** Ask for the roster (an interested resource, §2.2). Default true. */
  interested?: boolean;
  /** The initial presence to send (§4.2); null to stay unavailable. Default: plain <presence/>. */
  presence?: Stanza | null;
}

async function login(user: string, options: LoginOptions = {}): Promise<Party> {
  const party = new Party(user, await connectClient(server, user, undefined, options.resource ?? 'res'));
  parties.push(party);
  if (options.interested ?? true) assert.equal((await party.iq('get', xml('query', { xmlns: NS_ROSTER }))).attrs.type, 'result');
  const initial = options.presence === undefined ? xml('presence') : options.presence;
  if (initial) {
    const echoed = nextStanza(party.client, (s) => s.is('presence') && s.attrs.from === party.full && s.attrs.type === undefined);
    await party.send(initial);
    await echoed;
  }
  return party;
}

function withPriority(priority: number, ...children: Stanza[]): Stanza {
  return xml('presence', {}, xml('priority', {}, String(priority)), ...children);
}

/** b asks for a's presence and a approves: a is "from" b, b is "to" a (RFC 6121 §3.1). */
async function subscribe(subscriber: Party, to: Party): Promise<void> {
  await subscriber.send(xml('presence', { to: to.bare, type: 'subscribe' }));
  await settle(subscriber, to);
  await to.send(xml('presence', { to: subscriber.bare, type: 'subscribed' }));
  await settle(subscriber, to);
}

function errorCondition(stanza: Stanza): { type: string; condition: string | undefined } {
  const error = stanza.getChild('error');
  assert.ok(error, `no <error/> in ${stanza.toString()}`);
  const condition = error.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)?.name;
  return { type: error.attrs.type, condition };
}

/**
 * SASL PLAIN (over TLS) only: @xmpp/client computes SCRAM's PBKDF2 in JavaScript (half a second per login); the
 * mechanisms have their own tests. No offline storage: a message nobody can take is bounced (§8.5.2.2).
 */
before(async () => {
  server = await startTestServer({ modules: 'modules:\n  roster:\n  presence:\n  disco:\n  ping:', extra: 'auth: { mechanisms: [PLAIN] }' });
});

after(async () => {
  await Promise.allSettled(parties.map((p) => p.stop()));
  await server?.stop();
});

// ---------------------------------------------------------------------------------------------------------------
// §4 presence.
// ---------------------------------------------------------------------------------------------------------------

describe('RFC 6121 §4.2: initial presence', () => {
  // Alice's contacts, each in a different relation to her, all online with their own status.
  let alice: string;
  let fromContact: Party; // subscribed to Alice: Alice's item is "from"
  let toContact: Party; // Alice is subscribed to it: "to"
  let bothContact: Party; // "both"
  let noneContact: Party; // in Alice's roster, no subscription
  let pendingContact: Party; // asked to subscribe, no answer yet: "None + Pending In"
  let offlineContact: string; // Alice is subscribed to it ("to"), and it is offline
  let late: Party;
  const marks = new Map<Party, number>();

  before(async () => {
    alice = await freshUser('alice');
    const setup = await login(alice, { resource: 'setup' });
    const status = (text: string) => xml('presence', {}, xml('show', {}, 'dnd'), xml('status', {}, text));
    [fromContact, toContact, bothContact, noneContact, pendingContact] = await Promise.all(
      ['from', 'to', 'both', 'none', 'pending'].map(async (relation) => login(await freshUser(relation), { presence: status(`${relation} here`) })),
    );
    offlineContact = await freshUser('offline');
    await subscribe(fromContact, setup);
    await subscribe(setup, toContact);
    await subscribe(setup, bothContact);
    await subscribe(bothContact, setup);
    assert.equal((await setup.iq('set', xml('query', { xmlns: NS_ROSTER }, xml('item', { jid: noneContact.bare })))).attrs.type, 'result');
    await pendingContact.send(xml('presence', { to: setup.bare, type: 'subscribe' }));
    // The offline contact approves from a session of its own, then leaves.
    const offline = await login(offlineContact);
    await subscribe(setup, offline);
    await offline.stop();
    await setup.stop();
    await settle(fromContact, toContact, bothContact, noneContact, pendingContact);

    // Alice comes back with a new resource and a status.
    const contacts = [fromContact, toContact, bothContact, noneContact, pendingContact];
    for (const c of contacts) marks.set(c, c.mark());
    late = await login(alice, { resource: 'late', presence: xml('presence', {}, xml('status', {}, 'Back again')) });
    await settle(late, ...contacts);
  });

  test('§4.2.2: it is broadcast to the contacts subscribed to the user ("from" and "both"), from the full JID', () => {
    for (const contact of [fromContact, bothContact]) {
      const got = contact.presenceFrom(marks.get(contact)!, `${alice}@localhost`);
      assert.equal(got.length, 1, `${contact.user}: ${got.map(String).join('\n')}`);
      assert.equal(got[0].attrs.from, late.full);
      assert.equal(got[0].attrs.type, undefined);
      assert.equal(got[0].getChildText('status'), 'Back again');
    }
  });

  test('§4.2.2: and to nobody else ("to", "none", Pending In)', () => {
    for (const contact of [toContact, noneContact, pendingContact]) {
      assert.deepEqual(contact.presenceFrom(marks.get(contact)!, `${alice}@localhost`).map(String), [], contact.user);
    }
  });

  test('§4.2.2 / §4.3.2: the server probes the contacts the user is subscribed to; each answers with its current presence', () => {
    for (const contact of [toContact, bothContact]) {
      const got = late.presenceFrom(0, contact.bare);
      assert.equal(got.length, 1, `${contact.user}: ${got.map(String).join('\n')}`);
      assert.equal(got[0].attrs.from, contact.full);
      assert.equal(got[0].attrs.type, undefined);
      assert.equal(got[0].getChildText('show'), 'dnd');
      assert.equal(got[0].getChildText('status'), `${contact.user.replace(/\d+$/, '')} here`);
    }
  });

  test('§4.3.2: a subscribed contact with no available resource answers the probe with "unavailable"', () => {
    const got = late.presenceFrom(0, `${offlineContact}@localhost`);
    assert.deepEqual(
      got.map((s) => s.attrs.type),
      ['unavailable'],
      got.map(String).join('\n'),
    );
  });

  test('§4.3.2: contacts the user is not subscribed to reveal nothing', () => {
    assert.deepEqual(late.presenceFrom(0, fromContact.bare).map(String), []);
    assert.deepEqual(late.presenceFrom(0, noneContact.bare).map(String), []);
    // The pending contact's request is delivered again (§3.1.3), but not its presence.
    assert.deepEqual(late.presenceFrom(0, pendingContact.bare).map((s) => s.attrs.type), ['subscribe']);
  });

  test('§4.4.2: a later presence change reaches the same subscribers, and only them', async () => {
    const contacts = [fromContact, toContact, bothContact, noneContact, pendingContact];
    for (const c of contacts) marks.set(c, c.mark());
    await late.send(xml('presence', {}, xml('show', {}, 'away')));
    await settle(late, ...contacts);
    for (const contact of contacts) {
      const got = contact.presenceFrom(marks.get(contact)!, `${alice}@localhost`).map((s) => s.getChildText('show'));
      assert.deepEqual(got, contact === fromContact || contact === bothContact ? ['away'] : [], contact.user);
    }
  });

  test('§4.3: a probe from a subscriber\'s client is answered with the current presence, to its full JID', async () => {
    await toContact.send(xml('presence', {}, xml('show', {}, 'chat'), xml('status', {}, 'changed')));
    await settle(toContact, late);
    const mark = late.mark();
    await late.send(xml('presence', { to: toContact.bare, type: 'probe' }));
    await settle(late, toContact);
    const got = late.presenceFrom(mark, toContact.bare);
    assert.equal(got.length, 1, got.map(String).join('\n'));
    assert.equal(got[0].attrs.from, toContact.full);
    assert.equal(got[0].attrs.to, late.full);
    assert.equal(got[0].getChildText('status'), 'changed');
  });

  test('§4.3.2: a probe from someone not subscribed reveals nothing', async () => {
    const mark = late.mark();
    await late.send(xml('presence', { to: fromContact.bare, type: 'probe' }));
    await settle(late, fromContact);
    const got = late.presenceFrom(mark, fromContact.bare);
    assert.ok(
      got.every((s) => s.attrs.type === 'unsubscribed' || s.attrs.type === 'unavailable' || s.attrs.type === 'error'),
      `no presence may be revealed: ${got.map(String).join('\n')}`,
    );
    assert.deepEqual(fromContact.heard(0).filter((s) => s.is('presence') && s.attrs.type === 'probe').map(String), [], 'the probe itself is for the server');
  });
});

describe('RFC 6121 §4.2.2 / §4.4.2: the user\'s own resources', () => {
  test('a new resource gets the presence of the other available ones, and they get its presence', async () => {
    const user = await freshUser('multi');
    const one = await login(user, { resource: 'one', presence: xml('presence', {}, xml('status', {}, 'first')) });
    const quiet = await login(user, { resource: 'quiet', presence: null });
    const mark = one.mark();
    const two = await login(user, { resource: 'two', presence: xml('presence', {}, xml('status', {}, 'second')) });
    await settle(one, two, quiet);
    const fromOne = two.heard(0).filter((s) => s.is('presence') && s.attrs.from === one.full);
    assert.equal(fromOne.length, 1, fromOne.map(String).join('\n'));
    assert.equal(fromOne[0].getChildText('status'), 'first');
    assert.equal(fromOne[0].attrs.to, two.full);
    assert.deepEqual(two.heard(0).filter((s) => s.is('presence') && s.attrs.from === quiet.full).map(String), [], 'an unavailable resource has no presence to show');
    const fromTwo = one.heard(mark).filter((s) => s.is('presence') && s.attrs.from === two.full);
    assert.deepEqual(fromTwo.map((s) => s.getChildText('status')), ['second']);
    assert.deepEqual(quiet.heard(mark).filter((s) => s.is('presence')).map(String), [], 'nor does it get presence broadcasts');
  });
});

describe('RFC 6121 §4.5 / §4.6: going unavailable', () => {
  test('a session that ends without unavailable presence is announced to subscribers, directed-presence recipients and own resources', async () => {
    const user = await freshUser('leaver');
    const leaver = await login(user, { resource: 'leaving' });
    const stay = await login(user, { resource: 'staying' });
    const subscriber = await login(await freshUser('subscriber'));
    const stranger = await login(await freshUser('stranger'));
    const dismissed = await login(await freshUser('dismissed'));
    await subscribe(subscriber, leaver);

    // §4.6: directed presence to a non-contact (full JID) and to another (bare JID), which is later told "unavailable".
    const directed = nextStanza(stranger.client, (s) => s.is('presence') && s.attrs.from === leaver.full);
    await leaver.send(xml('presence', { to: stranger.full }, xml('status', {}, 'just for you')));
    const got = await directed;
    assert.equal(got.attrs.to, stranger.full);
    assert.equal(got.getChildText('status'), 'just for you');
    await leaver.send(xml('presence', { to: dismissed.bare }));
    await leaver.send(xml('presence', { to: dismissed.bare, type: 'unavailable' }));
    await settle(leaver, dismissed);
    assert.deepEqual(dismissed.presenceFrom(0, leaver.bare).map((s) => s.attrs.type ?? 'available'), ['available', 'unavailable']);

    const marks = { subscriber: subscriber.mark(), stranger: stranger.mark(), dismissed: dismissed.mark(), stay: stay.mark() };
    const gone = (party: Party) => nextStanza(party.client, (s) => s.is('presence') && s.attrs.from === leaver.full && s.attrs.type === 'unavailable');
    const seen = Promise.all([gone(subscriber), gone(stranger), gone(stay)]);
    leaver.vanish();
    const [toSubscriber, toStranger, toOwn] = await seen;
    assert.equal(toSubscriber.attrs.to, subscriber.full);
    assert.equal(toStranger.attrs.to, stranger.full);
    assert.equal(toOwn.attrs.to, stay.full);
    await settle(subscriber, stranger, dismissed, stay);
    for (const [party, mark] of [[subscriber, marks.subscriber], [stranger, marks.stranger], [stay, marks.stay]] as const) {
      assert.equal(party.presenceFrom(mark, leaver.bare).length, 1, `${party.full}: exactly one "unavailable"`);
    }
    assert.deepEqual(dismissed.presenceFrom(marks.dismissed, leaver.bare).map(String), [], 'who was already told "unavailable" is not told again');
  });

  test('§4.5.2: explicit unavailable presence goes to subscribers and to directed-presence recipients', async () => {
    const user = await freshUser('explicit');
    const leaver = await login(user);
    const subscriber = await login(await freshUser('subscriber'));
    const stranger = await login(await freshUser('stranger'));
    await subscribe(subscriber, leaver);
    await leaver.send(xml('presence', { to: stranger.bare }));
    await settle(leaver, stranger);
    const marks = { subscriber: subscriber.mark(), stranger: stranger.mark() };
    await leaver.send(xml('presence', { type: 'unavailable' }, xml('status', {}, 'bye')));
    await settle(leaver, subscriber, stranger);
    for (const [party, mark] of [[subscriber, marks.subscriber], [stranger, marks.stranger]] as const) {
      const got = party.presenceFrom(mark, leaver.bare);
      assert.deepEqual(got.map((s) => s.attrs.type), ['unavailable'], party.full);
      assert.equal(got[0].attrs.from, leaver.full);
    }
    assert.equal(subscriber.presenceFrom(marks.subscriber, leaver.bare)[0].getChildText('status'), 'bye', 'the status travels with it');
  });

  test('§4.6: directed presence to a non-contact is delivered; the recipient\'s roster is untouched and no subscription follows', async () => {
    const sender = await login(await freshUser('director'));
    const stranger = await login(await freshUser('stranger'));
    const mark = stranger.mark();
    await sender.send(xml('presence', { to: stranger.bare }, xml('show', {}, 'chat')));
    await settle(sender, stranger);
    const got = stranger.presenceFrom(mark, sender.bare);
    assert.equal(got.length, 1);
    assert.equal(got[0].attrs.from, sender.full);
    assert.equal(got[0].attrs.to, stranger.full);
    assert.equal(got[0].getChildText('show'), 'chat');
    const roster = await stranger.iq('get', xml('query', { xmlns: NS_ROSTER }));
    assert.deepEqual(roster.getChild('query', NS_ROSTER)!.getChildren('item'), []);
    // The stranger's own broadcasts do not go to the sender: there is no subscription.
    const senderMark = sender.mark();
    await stranger.send(xml('presence', {}, xml('show', {}, 'xa')));
    await settle(sender, stranger);
    assert.deepEqual(sender.presenceFrom(senderMark, stranger.bare).map(String), []);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// §8.5 delivery to a local account.
// ---------------------------------------------------------------------------------------------------------------

describe('RFC 6121 §8.5: delivery to a local account', () => {
  let alice: Party;
  let high: Party; // priority 5
  let low: Party; // priority 1
  let negative: Party; // priority -1
  let quiet: Party; // connected, no presence: not available
  let bob: string;
  let all: Party[];
  let n = 0;

  before(async () => {
    alice = await login(await freshUser('alice'));
    bob = await freshUser('bob');
    high = await login(bob, { resource: 'high', presence: withPriority(5) });
    low = await login(bob, { resource: 'low', presence: withPriority(1) });
    negative = await login(bob, { resource: 'negative', presence: withPriority(-1) });
    quiet = await login(bob, { resource: 'quiet', presence: null });
    all = [alice, high, low, negative, quiet];
  });

  /** Alice sends a message; returns who got it (by resource) and what came back to Alice. */
  async function sendMessage(to: string, type: string | undefined): Promise<{ got: string[]; back: Stanza[] }> {
    const body = `message ${++n}`;
    const marks = new Map(all.map((p) => [p, p.mark()]));
    await alice.send(xml('message', { to, type, id: `m${n}` }, xml('body', {}, body)));
    await settle(...all);
    const got = [high, low, negative, quiet].filter((p) => p.messages(marks.get(p)!, body).length > 0).map((p) => p.client.jid!.resource);
    for (const p of [high, low, negative, quiet]) assert.ok(p.messages(marks.get(p)!, body).length <= 1, `${p.full} got it twice`);
    const back = alice.heard(marks.get(alice)!).filter((s) => s.is('message'));
    return { got, back };
  }

  function assertBounced(back: Stanza[], condition: string): void {
    assert.equal(back.length, 1, back.map(String).join('\n'));
    assert.equal(back[0].attrs.type, 'error');
    assert.deepEqual(errorCondition(back[0]), { type: 'cancel', condition });
  }

  test('§8.5.2.1.1: a "chat" message to the bare JID goes to the highest-priority available resource only', async () => {
    const { got, back } = await sendMessage(`${bob}@localhost`, 'chat');
    assert.deepEqual(got, ['high']);
    assert.deepEqual(back, []);
  });

  test('§8.5.2.1.1: so does a "normal" message (no type)', async () => {
    assert.deepEqual((await sendMessage(`${bob}@localhost`, undefined)).got, ['high']);
    assert.deepEqual((await sendMessage(`${bob}@localhost`, 'normal')).got, ['high']);
  });

  test('§8.5.2.1.1: a "headline" goes to every available resource with non-negative priority', async () => {
    const { got, back } = await sendMessage(`${bob}@localhost`, 'headline');
    assert.deepEqual(got.sort(), ['high', 'low']);
    assert.deepEqual(back, []);
  });

  test('§8.5.2.1.1: a "groupchat" message to a bare JID is answered with service-unavailable', async () => {
    const { got, back } = await sendMessage(`${bob}@localhost`, 'groupchat');
    assert.deepEqual(got, []);
    assertBounced(back, 'service-unavailable');
    assert.equal(back[0].attrs.from, `${bob}@localhost`);
    assert.equal(back[0].attrs.id, `m${n}`);
  });

  test('§8.5.2.1.1: an "error" message to a bare JID is silently dropped', async () => {
    const { got, back } = await sendMessage(`${bob}@localhost`, 'error');
    assert.deepEqual(got, []);
    assert.deepEqual(back, []);
  });

  test('§8.5.2.1.1: when the highest priority is shared, the message goes to one or more of those resources, never lower ones', async () => {
    const carol = await freshUser('carol');
    const first = await login(carol, { resource: 'first', presence: withPriority(3) });
    const second = await login(carol, { resource: 'second', presence: withPriority(3) });
    const lower = await login(carol, { resource: 'lower', presence: withPriority(0) });
    const marks = [first, second, lower].map((p) => p.mark());
    await alice.send(xml('message', { to: `${carol}@localhost`, type: 'chat' }, xml('body', {}, 'to the tied')));
    await settle(alice, first, second, lower);
    const counts = [first, second, lower].map((p, i) => p.messages(marks[i], 'to the tied').length);
    assert.ok(counts[0] + counts[1] >= 1, `counts ${counts}`);
    assert.ok(counts[0] <= 1 && counts[1] <= 1, `counts ${counts}`);
    assert.equal(counts[2], 0);
  });

  test('§8.5.2.2: with only negative-priority resources, "chat" is not delivered to them (no offline storage here: service-unavailable)', async () => {
    const dora = await freshUser('dora');
    const shy = await login(dora, { resource: 'shy', presence: withPriority(-5) });
    const markShy = shy.mark();
    const markAlice = alice.mark();
    await alice.send(xml('message', { to: `${dora}@localhost`, type: 'chat', id: 'to-shy' }, xml('body', {}, 'anyone?')));
    await alice.send(xml('message', { to: `${dora}@localhost`, type: 'headline', id: 'to-shy-headline' }, xml('body', {}, 'news')));
    await settle(alice, shy);
    assert.deepEqual(shy.heard(markShy).filter((s) => s.is('message')).map(String), []);
    const back = alice.heard(markAlice).filter((s) => s.is('message'));
    assertBounced(back, 'service-unavailable');
    assert.equal(back[0].attrs.id, 'to-shy', 'the headline is dropped silently (§8.5.2.2.1)');
  });

  test('§8.5.3.1: a message to a full JID is delivered to that resource, available or not, whatever its priority', async () => {
    assert.deepEqual((await sendMessage(`${bob}@localhost/quiet`, 'chat')).got, ['quiet']);
    assert.deepEqual((await sendMessage(`${bob}@localhost/negative`, 'chat')).got, ['negative']);
    assert.deepEqual((await sendMessage(`${bob}@localhost/low`, 'normal')).got, ['low']);
    assert.deepEqual((await sendMessage(`${bob}@localhost/low`, 'headline')).got, ['low']);
  });

  test('§8.5.3.2.1: to a resource that does not exist, "chat" and "normal" are handled as if sent to the bare JID', async () => {
    assert.deepEqual((await sendMessage(`${bob}@localhost/gone`, 'chat')).got, ['high']);
    assert.deepEqual((await sendMessage(`${bob}@localhost/gone`, undefined)).got, ['high']);
  });

  test('§8.5.3.2.1: to a resource that does not exist, "groupchat" gets service-unavailable, "headline" and "error" are dropped', async () => {
    const groupchat = await sendMessage(`${bob}@localhost/gone`, 'groupchat');
    assert.deepEqual(groupchat.got, []);
    assertBounced(groupchat.back, 'service-unavailable');
    for (const type of ['headline', 'error']) {
      const { got, back } = await sendMessage(`${bob}@localhost/gone`, type);
      assert.deepEqual(got, [], type);
      assert.deepEqual(back, [], type);
    }
  });

  test('§8.5.1: a message to an account that does not exist gets service-unavailable', async () => {
    const markAlice = alice.mark();
    await alice.send(xml('message', { to: 'nobody-at-all@localhost', type: 'chat', id: 'to-nobody' }, xml('body', {}, 'hello?')));
    await settle(alice);
    assertBounced(alice.heard(markAlice).filter((s) => s.is('message')), 'service-unavailable');
  });

  test('§8.5.2.1.3: an IQ to another user\'s bare JID is answered by the server on the account\'s behalf', async () => {
    const marks = new Map(all.map((p) => [p, p.mark()]));
    const info = await alice.iq('get', xml('query', { xmlns: NS_DISCO_INFO }), `${bob}@localhost`);
    assert.equal(info.attrs.type, 'result', info.toString());
    assert.equal(info.attrs.from, `${bob}@localhost`);
    assert.ok(info.getChild('query', NS_DISCO_INFO)?.getChildren('identity').some((i) => i.attrs.category === 'account'), info.toString());
    const unknown = await alice.iq('get', xml('query', { xmlns: 'urn:example:nothing-handles-this' }), `${bob}@localhost`);
    assert.equal(unknown.attrs.type, 'error');
    assert.equal(unknown.attrs.from, `${bob}@localhost`);
    assert.deepEqual(errorCondition(unknown), { type: 'cancel', condition: 'service-unavailable' });
    await settle(...all);
    for (const p of [high, low, negative, quiet]) assert.deepEqual(p.heard(marks.get(p)!).filter((s) => s.is('iq')).map(String), [], `${p.full} sees none of it`);
  });

  test('§8.5.3.1 / §8.5.3.2.3: an IQ to a full JID goes to that resource, even an unavailable one; to a missing resource, service-unavailable', async () => {
    const request = nextStanza(quiet.client, (s) => s.is('iq') && s.attrs.id === 'to-quiet');
    await alice.send(xml('iq', { type: 'get', id: 'to-quiet', to: quiet.full }, xml('query', { xmlns: 'urn:example:direct' })));
    const got = await request;
    assert.equal(got.attrs.from, alice.full);
    const missing = await alice.iq('get', xml('query', { xmlns: 'urn:example:direct' }), `${bob}@localhost/gone`);
    assert.equal(missing.attrs.type, 'error');
    assert.deepEqual(errorCondition(missing), { type: 'cancel', condition: 'service-unavailable' });
  });

  test('§8.5.1: an IQ to an account that does not exist gets service-unavailable', async () => {
    const answer = await alice.iq('get', xml('query', { xmlns: 'urn:example:direct' }), 'nobody-at-all@localhost');
    assert.equal(answer.attrs.type, 'error');
    assert.deepEqual(errorCondition(answer), { type: 'cancel', condition: 'service-unavailable' });
  });

  test('§8.5.2.1.2: presence to the bare JID goes to every available resource, not to unavailable ones', async () => {
    const marks = new Map(all.map((p) => [p, p.mark()]));
    await alice.send(xml('presence', { to: `${bob}@localhost` }, xml('status', {}, 'directed to bob')));
    await settle(...all);
    const got = [high, low, negative, quiet].filter((p) => p.presenceFrom(marks.get(p)!, alice.bare).length === 1).map((p) => p.client.jid!.resource);
    assert.deepEqual(got.sort(), ['high', 'low', 'negative']);
  });

  test('RFC 6120 §10.5.1 / RFC 6121 §8.5.1: presence to the server itself, or to no such user, is handled quietly; no error comes back', async () => {
    const markAlice = alice.mark();
    await alice.send(xml('presence', { to: 'localhost' }));
    await alice.send(xml('presence', { to: 'localhost', type: 'unavailable' }));
    await alice.send(xml('presence', { to: 'nobody-at-all@localhost' }));
    await settle(alice);
    assert.deepEqual(alice.heard(markAlice).map(String), []);
  });
});
