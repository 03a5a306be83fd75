// XEP-0198 Stream Management over raw client streams: Juliet enables it, the server and she count each other's
// stanzas, her connection dies (socket.destroy(), no </stream:stream>), Romeo writes to her meanwhile, and she resumes
// on a new connection and gets what she missed, while Romeo never sees her go offline. When she does not come back
// in time, her session ends: Romeo sees her unavailable, and what she never acknowledged waits in offline storage.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newItem } from '../src/core/roster.js';
import { NS } from '../src/core/stanza.js';
import { xml, type Element } from '../src/core/xml/element.js';
import { authenticate, bindResource, expectStreamError, rawLogin, RawStream } from './helpers/raw-login.js';
import { connectClient, startTestServer, xmppXml, type TestServer } from './helpers/server.js';

const NS_SM = 'urn:xmpp:sm:3';
const NS_DELAY = 'urn:xmpp:delay';

const isStanza = (el: Element) => el.ns === NS.client && (el.name === 'message' || el.name === 'presence' || el.name === 'iq');
const isSm = (el: Element, name: string) => el.ns === NS_SM && el.name === name;

/**
 * A raw client that keeps XEP-0198's books on its side: `handled` counts the stanzas it has read from the server
 * (its 'h'), `sent` the stanzas it has sent since <enable/>.
 */
class SmClient {
  handled = 0;
  sent = 0;
  /** Everything read while looking for something else. */
  skipped: Element[] = [];

  constructor(
    readonly stream: RawStream,
    readonly jid: string,
  ) {}

  get bare(): string {
    return this.jid.slice(0, this.jid.indexOf('/'));
  }

  send(element: Element): void {
    // Built here without a namespace: the stream's default (jabber:client) applies.
    if (element.name === 'message' || element.name === 'presence' || element.name === 'iq') this.sent++;
    this.stream.send(element.toString());
  }

  /** Reads elements until one matches, counting the stanzas among them. */
  async expect(match: (el: Element) => boolean, what: string): Promise<Element> {
    for (;;) {
      const el = await this.stream.next(what);
      if (isStanza(el)) this.handled++;
      if (match(el)) return el;
      this.skipped.push(el);
    }
  }

  /** A ping to the server and its result: everything the server sent before it is now read (and counted). */
  async roundTrip(id: string): Promise<void> {
    this.send(xml('iq', { type: 'get', id, to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    await this.expect((el) => el.name === 'iq' && el.attrs.id === id, `the result of ping ${id}`);
  }

  async enable(attrs: Record<string, string> = { resume: 'true' }): Promise<Element> {
    this.stream.send(xml('enable', { xmlns: NS_SM, ...attrs }).toString());
    const enabled = await this.stream.next('<enabled/>');
    assert.ok(isSm(enabled, 'enabled'), `expected <enabled/>, got ${enabled.toString()}`);
    return enabled;
  }

  /** The whole current stream as the server sent it, read or not. */
  all(): Element[] {
    return this.stream.snapshot().elements;
  }

  /** XEP-0198 §6: not a clean close, the connection just dies. */
  kill(): void {
    this.stream.socket.destroy();
  }
}

/** Up to the stream features after SASL, where <sm/> is offered and <resume/> goes. */
async function authenticated(server: TestServer, username: string): Promise<{ stream: RawStream; features: Element; before: Element }> {
  const stream = await RawStream.connect(server.port);
  await stream.open(server.domain);
  await stream.startTls();
  const { features: before } = await stream.open(server.domain);
  await authenticate(stream, { username, password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
  stream.restart();
  const { features } = await stream.open(server.domain);
  return { stream, features, before };
}

function failure(el: Element): { condition: string | undefined; h: string | undefined } {
  assert.ok(isSm(el, 'failed'), `expected <failed/>, got ${el.toString()}`);
  const conditions = el.elements().filter((c) => c.ns === NS.stanzaErrors);
  assert.equal(conditions.length, 1, `one stanza error condition in ${el.toString()}`);
  return { condition: conditions[0]!.name, h: el.attrs.h };
}

function harness(modules: string) {
  const state = { server: null as unknown as TestServer, opened: [] as RawStream[], users: 0 };
  before(async () => {
    state.server = await startTestServer({ modules });
  });
  after(async () => {
    for (const stream of state.opened) stream.close();
    await state.server?.stop();
  });
  const events = () => state.server.running.server.hosts.get('localhost')!.events;
  return {
    get server() {
      return state.server;
    },
    /** A new account each time, so tests do not share sessions or offline messages. */
    async user(prefix: string): Promise<string> {
      const name = `${prefix}${++state.users}`;
      await state.server.createUser(name);
      return name;
    },
    async login(user: string, resource = 'phone'): Promise<SmClient> {
      const { stream, jid } = await rawLogin(state.server, { username: user, resource });
      state.opened.push(stream);
      return new SmClient(stream, jid);
    },
    async authenticated(user: string) {
      const result = await authenticated(state.server, user);
      state.opened.push(result.stream);
      return result;
    },
    /** Subscribed both ways, straight in storage (the subscription protocol is tested elsewhere). */
    async contacts(a: string, b: string): Promise<void> {
      const rosters = state.server.running.server.rosters;
      for (const [user, contact] of [
        [a, b],
        [b, a],
      ]) {
        const roster = await rosters.get('localhost', user);
        await rosters.commit(roster, [{ ...newItem(`${contact}@localhost`), subscription: 'both' }]);
      }
    },
    /** Resolves once the server has noticed that the session's connection is gone (before it decides to keep it). */
    interrupted(jid: string): Promise<void> {
      return new Promise((resolve) => {
        const off = events().on(
          'session-interrupted',
          ({ session }: { session: { jid: { full: string } } }) => {
            if (session.jid.full !== jid) return undefined;
            off();
            resolve();
            return undefined;
          },
          1000,
        );
      });
    },
    hibernating(jid: string): boolean | undefined {
      const session = [...state.server.running.server.sessions.all()].find((s) => s.jid.full === jid);
      return session?.hibernating;
    },
  };
}

/** Logs in with initial presence and reads until its own presence comes back. */
async function online(h: ReturnType<typeof harness>, user: string, resource = 'phone', enable = false): Promise<SmClient> {
  const client = await h.login(user, resource);
  if (enable) await client.enable();
  client.send(xml('presence'));
  await client.expect((el) => el.name === 'presence' && el.attrs.from === client.jid && el.attrs.type === undefined, 'its own presence');
  return client;
}

const presenceFrom = (client: SmClient, jid: string) => client.all().filter((el) => el.name === 'presence' && el.attrs.from === jid);

describe('XEP-0198 stream management', () => {
  const h = harness('modules:\n  roster:\n  presence:\n  offline:\n  ping:\n  sm:\n    max_unacked: 20\n    request_ack_every: 3\n    request_ack_delay: 3600');

  test('§2: <sm/> is offered once the client has authenticated, not before', async () => {
    const user = await h.user('feature');
    const { features, before } = await h.authenticated(user);
    assert.equal(before.getChild('sm', NS_SM), undefined, `no <sm/> before SASL: ${before.toString()}`);
    assert.ok(features.getChild('sm', NS_SM), `<sm/> after SASL: ${features.toString()}`);
    assert.ok(features.getChild('bind', NS.bind));
  });

  test('§3/§5: <enable resume="true"/> is answered with <enabled id resume="true" max/>, a new unguessable id each time', async () => {
    const user = await h.user('enable');
    const first = await (await h.login(user, 'one')).enable();
    assert.equal(first.attrs.resume, 'true');
    assert.equal(first.attrs.max, '300');
    const second = await (await h.login(user, 'two')).enable({ resume: '1', max: '60' });
    assert.equal(second.attrs.max, '60', "the client's shorter 'max' is taken");
    for (const id of [first.attrs.id, second.attrs.id]) assert.ok(id && id.length >= 22, `a long random id: ${id}`);
    assert.notEqual(first.attrs.id, second.attrs.id);
    const plain = await (await h.login(user, 'three')).enable({});
    assert.deepEqual(plain.attrs, { xmlns: NS_SM }, 'without resume: no id, no resume, no max');
  });

  test('§4: the server acks what the client sent and asks for acks of what it sent; the client acks them', async () => {
    const juliet = await h.login(await h.user('acks'));
    await juliet.enable();
    // Two stanzas in: two results out, and an ack that counts the two stanzas.
    juliet.send(xml('iq', { type: 'get', id: 'p1', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    juliet.send(xml('iq', { type: 'get', id: 'p2', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    juliet.stream.send(`<r xmlns='${NS_SM}'/>`);
    assert.equal((await juliet.stream.next()).attrs.id, 'p1');
    assert.equal((await juliet.stream.next()).attrs.id, 'p2');
    const a = await juliet.stream.next('<a/>');
    assert.ok(isSm(a, 'a'));
    assert.equal(a.attrs.h, '2');
    // A third stanza out reaches request_ack_every (3): an <r/> follows it.
    juliet.send(xml('iq', { type: 'get', id: 'p3', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    assert.equal((await juliet.stream.next()).attrs.id, 'p3');
    assert.ok(isSm(await juliet.stream.next('<r/>'), 'r'));
    juliet.stream.send(`<a xmlns='${NS_SM}' h='3'/>`);
    // The server took the ack (an ack of more than was sent would be a stream error) and still counts: h=4.
    juliet.send(xml('iq', { type: 'get', id: 'p4', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
    juliet.stream.send(`<r xmlns='${NS_SM}'/>`);
    assert.equal((await juliet.stream.next()).attrs.id, 'p4');
    assert.equal((await juliet.stream.next('<a/>')).attrs.h, '4');
    assert.deepEqual(juliet.stream.unread(), []);
  });

  test('§6: acknowledging more than was sent is an undefined-condition stream error with <handled-count-too-high/>', async () => {
    const juliet = await h.login(await h.user('toohigh'));
    await juliet.enable();
    await juliet.roundTrip('x');
    juliet.stream.send(`<a xmlns='${NS_SM}' h='10'/>`);
    const snapshot = await juliet.stream.wait((s) => (s.ended ? s : undefined), 'a stream error and </stream:stream>');
    const error = snapshot.elements.at(-1)!;
    assert.equal(error.name, 'stream:error');
    assert.deepEqual(
      error.elements().map((c) => `{${c.ns}}${c.name}`),
      [`{${NS.streamErrors}}undefined-condition`, `{${NS_SM}}handled-count-too-high`, `{${NS.streamErrors}}text`],
    );
    const detail = error.getChild('handled-count-too-high', NS_SM)!;
    assert.deepEqual({ h: detail.attrs.h, sent: detail.attrs['send-count'] }, { h: '10', sent: '1' });
    await juliet.stream.closed;
  });

  test('§3/§9: misuse gets <failed><unexpected-request/></failed>: <enable/> before binding, twice, <r/> before <enable/>, <resume/> once bound', async () => {
    const user = await h.user('misuse');
    const { stream } = await h.authenticated(user);
    stream.send(`<enable xmlns='${NS_SM}'/>`);
    assert.equal(failure(await stream.next()).condition, 'unexpected-request');
    // The stream is still good for binding.
    const jid = await bindResource(stream, 'late');
    const juliet = new SmClient(stream, jid);
    juliet.stream.send(`<r xmlns='${NS_SM}'/>`);
    assert.equal(failure(await stream.next()).condition, 'unexpected-request');
    await juliet.enable();
    stream.send(`<enable xmlns='${NS_SM}'/>`);
    assert.equal(failure(await stream.next()).condition, 'unexpected-request');
    stream.send(`<resume xmlns='${NS_SM}' previd='whatever' h='0'/>`);
    assert.equal(failure(await stream.next()).condition, 'unexpected-request');
    await juliet.roundTrip('still-here');
  });

  test('§5: after a lost connection the session is resumed on a new one, with what was sent meanwhile, and contacts see no presence change', async () => {
    const romeoUser = await h.user('romeo');
    const julietUser = await h.user('juliet');
    await h.contacts(romeoUser, julietUser);
    const romeo = await online(h, romeoUser, 'orchard');
    const juliet = await online(h, julietUser, 'balcony', true);
    await romeo.expect((el) => el.name === 'presence' && el.attrs.from === juliet.jid, "Juliet's presence");
    const enabled = (juliet.all().find((el) => isSm(el, 'enabled')) as Element).attrs;
    await juliet.roundTrip('before');

    // The connection dies; the server keeps the session.
    const interrupted = h.interrupted(juliet.jid);
    juliet.kill();
    await interrupted;
    assert.equal(h.hibernating(juliet.jid), true);

    // Romeo writes to her full and bare JID meanwhile: she is still online for him.
    romeo.send(xml('message', { to: juliet.jid, type: 'chat', id: 'm1' }, xml('body', {}, 'Wilt thou be gone?')));
    romeo.send(xml('message', { to: juliet.bare, type: 'chat', id: 'm2' }, xml('body', {}, 'It is not yet near day.')));
    await romeo.roundTrip('sent');

    // A new connection, authenticated as Juliet, resumes instead of binding.
    const { stream, features } = await h.authenticated(julietUser);
    assert.ok(features.getChild('sm', NS_SM));
    stream.send(`<resume xmlns='${NS_SM}' previd='${enabled.id}' h='${juliet.handled}'/>`);
    const resumed = await stream.next('<resumed/>');
    assert.ok(isSm(resumed, 'resumed'), `expected <resumed/>, got ${resumed.toString()}`);
    // h: her stanzas the server handled: the presence and the ping.
    assert.deepEqual({ previd: resumed.attrs.previd, h: resumed.attrs.h }, { previd: enabled.id, h: String(juliet.sent) });
    // What she did not acknowledge comes again: the two messages (after anything else she had not read), then a
    // request for an ack.
    const again = new SmClient(stream, juliet.jid);
    again.handled = juliet.handled;
    const m1 = await again.expect((el) => el.name === 'message', 'the first message');
    const m2 = await again.expect((el) => el.name === 'message', 'the second message');
    assert.deepEqual([m1.attrs.id, m1.attrs.from, m1.attrs.to, m1.getChildText('body')], ['m1', romeo.jid, juliet.jid, 'Wilt thou be gone?']);
    assert.deepEqual([m2.attrs.id, m2.getChildText('body')], ['m2', 'It is not yet near day.']);
    assert.ok(isSm(await stream.next('<r/>'), 'r'));
    stream.send(`<a xmlns='${NS_SM}' h='${again.handled}'/>`);
    assert.equal(h.hibernating(juliet.jid), false);

    // Same session, same full JID: she writes back, Romeo gets it from the same resource.
    again.send(xml('message', { to: romeo.bare, type: 'chat', id: 'r1' }, xml('body', {}, 'Yond light is not daylight.')));
    const reply = await romeo.expect((el) => el.name === 'message' && el.attrs.id === 'r1', "Juliet's reply");
    assert.equal(reply.attrs.from, juliet.jid);
    // The count carried over: her presence, her ping and this message.
    stream.send(`<r xmlns='${NS_SM}'/>`);
    assert.equal((await again.expect((el) => isSm(el, 'a'), '<a/>')).attrs.h, String(juliet.sent + again.sent));
    // Romeo saw her available once, never unavailable, and no second broadcast on resumption.
    assert.deepEqual(
      presenceFrom(romeo, juliet.jid).map((p) => p.attrs.type ?? 'available'),
      ['available'],
    );
  });

  test('§5: a resume while the old connection still looks alive closes that one with a conflict stream error', async () => {
    const user = await h.user('takeover');
    const old = await online(h, user, 'phone', true);
    const id = (old.all().find((el) => isSm(el, 'enabled')) as Element).attrs.id;
    await old.roundTrip('before');
    const { stream } = await h.authenticated(user);
    stream.send(`<resume xmlns='${NS_SM}' previd='${id}' h='${old.handled}'/>`);
    const resumed = await stream.next('<resumed/>');
    assert.ok(isSm(resumed, 'resumed'), resumed.toString());
    await expectStreamError(old.stream, 'conflict');
    // The session goes on, on the new stream.
    const resumedClient = new SmClient(stream, old.jid);
    await resumedClient.roundTrip('after');
    assert.equal(h.hibernating(old.jid), false);
  });

  test('§5: an unknown id, someone else\'s id, or the id of a session that ended get <failed><item-not-found/></failed>; binding still works', async () => {
    const user = await h.user('failed');
    const other = await h.user('intruder');
    // A session that ended cleanly (</stream:stream>): no hibernation, and its id is gone.
    const gone = await h.login(user, 'gone');
    const id = (await gone.enable()).attrs.id;
    gone.send(xml('presence'));
    await gone.roundTrip('one');
    gone.stream.send('</stream:stream>');
    await gone.stream.closed;
    // Another account cannot take over a live session either.
    const live = await h.login(user, 'live');
    const liveId = (await live.enable()).attrs.id;

    const { stream } = await h.authenticated(user);
    stream.send(`<resume xmlns='${NS_SM}' previd='no-such-session' h='0'/>`);
    assert.deepEqual(failure(await stream.next()), { condition: 'item-not-found', h: undefined });
    stream.send(`<resume xmlns='${NS_SM}' previd='${id}' h='0'/>`);
    // XEP-0198 §5: the 'h' of the session that ended (its presence and its ping).
    assert.deepEqual(failure(await stream.next()), { condition: 'item-not-found', h: '2' });
    const { stream: intruder } = await h.authenticated(other);
    intruder.send(`<resume xmlns='${NS_SM}' previd='${liveId}' h='0'/>`);
    assert.deepEqual(failure(await intruder.next()), { condition: 'item-not-found', h: undefined });
    await live.roundTrip('unharmed');
    // §5: after a failed resumption the client binds a resource as usual.
    assert.equal(await bindResource(stream, 'fresh'), `${user}@localhost/fresh`);
  });

  test('@xmpp/client 0.14 enables it and has its stanzas acknowledged', async () => {
    const xmpp = await connectClient(h.server, await h.user('xmppjs'));
    try {
      type StreamManagement = { enabled: boolean; id: string; once(event: 'ack', listener: (stanza: { name: string }) => void): void };
      const sm = (xmpp as unknown as { streamManagement: StreamManagement }).streamManagement;
      // It sends <enable/> right after binding, and asks for an ack shortly after sending a stanza; the server's
      // <a/> releases the stanza from its queue.
      const acked = new Promise<{ name: string }>((resolve) => sm.once('ack', resolve));
      await xmpp.send(xmppXml('presence'));
      assert.equal((await acked).name, 'presence');
      assert.equal(sm.enabled, true);
      assert.ok(sm.id, 'resumable');
    } finally {
      await xmpp.stop();
    }
  });

  test('§4: a client that never acknowledges gets a policy-violation stream error past max_unacked', async () => {
    const romeo = await h.login(await h.user('sender'));
    const juliet = await h.login(await h.user('deaf'));
    await juliet.enable();
    for (let i = 0; i < 21; i++) romeo.send(xml('message', { to: juliet.jid, type: 'chat', id: `n${i}` }, xml('body', {}, `${i}`)));
    const { snapshot } = await expectStreamError(juliet.stream, 'policy-violation');
    assert.equal(snapshot.elements.filter((el) => el.name === 'message').length, 20);
  });
});

describe('XEP-0198 resumption timeout', () => {
  const h = harness('modules:\n  roster:\n  presence:\n  offline:\n  ping:\n  sm:\n    resume_timeout: 1\n    request_ack_delay: 0.05');

  test('§4: an unacknowledged stanza is followed by <r/> after request_ack_delay', async () => {
    const juliet = await h.login(await h.user('quiet'));
    await juliet.enable();
    await juliet.roundTrip('one');
    assert.ok(isSm(await juliet.stream.next('<r/>'), 'r'));
  });

  test('a session not resumed in time ends: contacts see it unavailable, and the messages it never acknowledged are in offline storage', async () => {
    const romeoUser = await h.user('romeo');
    const julietUser = await h.user('juliet');
    await h.contacts(romeoUser, julietUser);
    const romeo = await online(h, romeoUser, 'orchard');
    const juliet = await online(h, julietUser, 'balcony', true);
    await romeo.expect((el) => el.name === 'presence' && el.attrs.from === juliet.jid, "Juliet's presence");

    const interrupted = h.interrupted(juliet.jid);
    juliet.kill();
    await interrupted;
    romeo.send(xml('message', { to: juliet.jid, type: 'chat', id: 't1' }, xml('body', {}, 'Art thou gone so?')));
    romeo.send(xml('message', { to: juliet.bare, type: 'chat', id: 't2' }, xml('body', {}, 'I must hear from thee every day in the hour.')));

    // resume_timeout (1 s) later: unavailable, once, and no error for Romeo's messages.
    const unavailable = await romeo.expect((el) => el.name === 'presence' && el.attrs.from === juliet.jid && el.attrs.type === 'unavailable', "Juliet's unavailable presence");
    assert.ok(unavailable);
    assert.equal(h.hibernating(juliet.jid), undefined, 'the session is gone');
    await romeo.roundTrip('after');
    assert.deepEqual(romeo.all().filter((el) => el.name === 'message'), [], 'no bounce');

    // Her next login gets them from offline storage, in order, with a delay stamp.
    const back = await h.login(julietUser, 'balcony');
    back.send(xml('presence'));
    const t1 = await back.expect((el) => el.name === 'message' && el.attrs.id === 't1', 'the first message, from offline storage');
    const t2 = await back.expect((el) => el.name === 'message' && el.attrs.id === 't2', 'the second message, from offline storage');
    assert.equal(t1.getChildText('body'), 'Art thou gone so?');
    assert.equal(t2.getChildText('body'), 'I must hear from thee every day in the hour.');
    for (const message of [t1, t2]) {
      assert.equal(message.attrs.from, romeo.jid);
      assert.ok(message.getChild('delay', NS_DELAY), message.toString());
    }
  });
});
