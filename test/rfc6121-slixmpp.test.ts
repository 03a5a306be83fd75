// The everyday RFC 6121 handshake with a second, independent client library: Bob on slixmpp (Python, driven by
// test/interop/slix_subscribe.py) asks for Alice's presence, Alice on @xmpp/client approves and asks back, Bob
// approves: both rosters end at "both", each side having seen the other's presence.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { Element as Stanza } from '@xmpp/xml';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { PYTHON, interopScript, slixmppMissing, type SlixEvent } from './helpers/slixmpp.js';

const NS_ROSTER = 'jabber:iq:roster';

const missing = slixmppMissing();

/** One run of the script: its JSON lines as events, in order. */
class SlixRun {
  readonly events: SlixEvent[] = [];
  private stderr = '';
  private waiters: { match: (e: SlixEvent) => boolean; resolve: (e: SlixEvent) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(args: Record<string, string | number>) {
    const argv = [interopScript('slix_subscribe.py'), ...Object.entries(args).flatMap(([name, value]) => [`--${name}`, String(value)])];
    const child = spawn(PYTHON, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      pending += chunk;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line) this.add(JSON.parse(line) as SlixEvent);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    this.exited = new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
  }

  private add(event: SlixEvent): void {
    this.events.push(event);
    this.waiters = this.waiters.filter((w) => {
      if (!w.match(event)) return true;
      w.resolve(event);
      return false;
    });
  }

  /** What the script said so far, for failure messages. */
  transcript(): string {
    return `${this.events.map((e) => JSON.stringify(e)).join('\n')}\n${this.stderr}`;
  }

  /** The first event that matches, past or future; rejects if the script exits without it. */
  event(match: (e: SlixEvent) => boolean, what: string): Promise<SlixEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve });
      void this.exited.then((code) => reject(new Error(`slix_subscribe.py exited (${code}) without ${what}:\n${this.transcript()}`)));
    });
  }

  /** Waits for something on the @xmpp/client side, unless the script dies first (its output then says why). */
  meanwhile<T>(promise: Promise<T>, what: string): Promise<T> {
    return Promise.race([
      promise,
      this.exited.then((code) => {
        throw new Error(`slix_subscribe.py exited (${code}) before ${what}:\n${this.transcript()}`);
      }),
    ]);
  }
}

describe('RFC 6121 subscription handshake with slixmpp', { skip: missing }, () => {
  let server: TestServer;
  let alice: XmppClient;
  const received: Stanza[] = [];

  before(async () => {
    // slixmpp 1.8 binds SCRAM-PLUS only with tls-unique, which TLS 1.3 lacks; without -PLUS on offer it logs in
    // with plain SCRAM (see test/slixmpp.test.ts). @xmpp/client uses SCRAM-SHA-1.
    server = await startTestServer({ extra: 'auth: { mechanisms: [SCRAM-SHA-256, SCRAM-SHA-1] }' });
    await server.createUser('alice');
    await server.createUser('bob', 'bob-password');
    alice = await connectClient(server, 'alice', undefined, 'desk');
    alice.on('stanza', (s) => received.push(s));
    await alice.iqCaller.get(xml('query', { xmlns: NS_ROSTER }));
    const echoed = nextStanza(alice, (s) => s.is('presence') && s.attrs.from === 'alice@localhost/desk');
    await alice.send(xml('presence', {}, xml('show', {}, 'chat'), xml('status', {}, 'On the balcony')));
    await echoed;
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await server?.stop();
  });

  test('Bob (slixmpp) subscribes to Alice, she approves and asks back, he approves: "both" on both sides', async () => {
    const bob = new SlixRun({ port: server.port, jid: 'bob@localhost', password: 'bob-password', contact: 'alice@localhost' });

    // §3.1.3: Alice receives Bob's request from his bare JID.
    const request = await bob.meanwhile(nextStanza(alice, (s) => s.is('presence') && s.attrs.type === 'subscribe'), 'Alice got the request');
    assert.equal(request.attrs.from, 'bob@localhost');
    assert.equal(request.attrs.to, 'alice@localhost/desk');
    const session = await bob.event((e) => e.event === 'session_start', 'a session');
    assert.match(String(session.jid), /^bob@localhost\/.+/);
    assert.deepEqual((await bob.event((e) => e.event === 'roster', 'the roster')).items, {}, 'his roster starts empty (§2.2, with ver: §2.6)');
    // §3.1.2: Bob's roster gets Alice with ask="subscribe".
    await bob.event((e) => e.event === 'roster_push' && e.jid === 'alice@localhost' && e.subscription === 'none' && e.ask === 'subscribe', 'the Pending Out push');

    // §3.1.5: Alice approves. Bob gets "subscribed", a push with subscription="to", and her presence.
    const alicePush = nextStanza(alice, (s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.jid === 'bob@localhost');
    await alice.send(xml('presence', { to: 'bob@localhost', type: 'subscribed' }));
    assert.deepEqual((await bob.meanwhile(alicePush, "Alice's push")).getChild('query', NS_ROSTER)!.getChild('item')!.attrs, { jid: 'bob@localhost', subscription: 'from' });
    const subscribed = await bob.event((e) => e.event === 'subscribed', '"subscribed"');
    assert.equal(subscribed.from, 'alice@localhost');
    await bob.event((e) => e.event === 'roster_push' && e.jid === 'alice@localhost' && e.subscription === 'to' && e.ask === null, 'the "to" push');
    const presence = await bob.event((e) => e.event === 'presence', "Alice's presence");
    assert.deepEqual(presence, { event: 'presence', from: 'alice@localhost/desk', show: 'chat', status: 'On the balcony' });

    // Alice asks back; Bob's slixmpp approves; Alice sees "subscribed", "both", and Bob's presence.
    const approval = nextStanza(alice, (s) => s.is('presence') && s.attrs.type === 'subscribed');
    const bobPresence = nextStanza(alice, (s) => s.is('presence') && (s.attrs.from ?? '').startsWith('bob@localhost/') && s.attrs.type === undefined);
    const both = nextStanza(alice, (s) => s.is('iq') && s.getChild('query', NS_ROSTER)?.getChild('item')?.attrs.subscription === 'both');
    await alice.send(xml('presence', { to: 'bob@localhost', type: 'subscribe' }));
    assert.equal((await bob.meanwhile(approval, 'Bob approved')).attrs.from, 'bob@localhost');
    assert.equal((await bob.meanwhile(bobPresence, "Bob's presence")).getChildText('status'), 'from slixmpp');
    await bob.meanwhile(both, 'the "both" push to Alice');
    assert.equal((await bob.event((e) => e.event === 'subscribe', 'her request')).from, 'alice@localhost');

    assert.equal(await bob.exited, 0, bob.transcript());
    assert.deepEqual(bob.events.find((e) => e.event === 'final'), { event: 'final', subscription: 'both', pending_out: false });
    assert.equal(bob.events.at(-1)?.event, 'done');
    // In order; a repeated push of an unchanged item (Alice's request made Bob "To + Pending In", which a roster
    // does not show) is allowed and left out.
    const pushes = bob.events.filter((e) => e.event === 'roster_push').map((e) => `${e.subscription}${e.ask ? '+ask' : ''}`);
    assert.deepEqual(
      pushes.filter((p, i) => p !== pushes[i - 1]),
      ['none+ask', 'to', 'both'],
      'the pushes Bob saw',
    );

    // The server's view matches what both clients were told.
    const roster = await alice.iqCaller.get(xml('query', { xmlns: NS_ROSTER }));
    assert.deepEqual(roster.getChildren('item').map((i) => i.attrs), [{ jid: 'bob@localhost', subscription: 'both' }]);
    assert.equal(await server.running.server.rosters.subscription('localhost', 'bob', 'alice@localhost'), 'both');
    assert.equal(received.filter((s) => s.is('presence') && s.attrs.type === 'subscribe').length, 1, 'one request reached Alice');
  });
});
