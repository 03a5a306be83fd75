// Interop with a second, independent client library: slixmpp (Python, asyncio), driven by
// test/interop/slix_chat.py. Bob logs in with slixmpp and talks to Alice on @xmpp/client; Dave
// creates his account in-band (XEP-0077) from slixmpp and then logs in with it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { connectClient, nextStanza, startTestServer, xmppXml as xml, type TestServer, type XmppClient } from './helpers/server.js';
import { PYTHON, interopScript, slixmppMissing, type SlixEvent } from './helpers/slixmpp.js';

const missing = slixmppMissing();

interface SlixRun {
  /** Resolves when the script has exited. */
  exited: Promise<{ code: number | null; events: SlixEvent[]; stderr: string }>;
  /** Resolves with the first event of this name; rejects if the script exits without printing it. */
  event(name: string): Promise<SlixEvent>;
}

/** Runs one scenario of slix_chat.py; its JSON lines become events. The script bounds its own run time. */
function runSlix(scenario: 'chat' | 'register' | 'login', args: Record<string, string | number>): SlixRun {
  const argv = [interopScript('slix_chat.py'), scenario];
  for (const [name, value] of Object.entries(args)) argv.push(`--${name}`, String(value));
  const child = spawn(PYTHON, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: SlixEvent[] = [];
  const waiters: { name: string; resolve: (e: SlixEvent) => void }[] = [];
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    let newline: number;
    while ((newline = stdout.indexOf('\n')) >= 0) {
      const line = stdout.slice(0, newline).trim();
      stdout = stdout.slice(newline + 1);
      if (!line) continue;
      const event = JSON.parse(line) as SlixEvent;
      events.push(event);
      for (const w of waiters.filter((w) => w.name === event.event)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(event);
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; events: SlixEvent[]; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, events, stderr }));
  });
  return {
    exited,
    event(name) {
      const seen = events.find((e) => e.event === name);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ name, resolve });
        void exited.then(({ code }) => reject(new Error(`slix_chat.py exited (${code}) without "${name}"; it printed:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${stderr}`)));
      });
    },
  };
}

/** Waits for a promise, unless the script exits first (then its output explains why). */
function beforeExit<T>(run: SlixRun, promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    run.exited.then(({ code, events, stderr }) => {
      throw new Error(`slix_chat.py exited (${code}) before ${what}:\n${events.map((e) => JSON.stringify(e)).join('\n')}\n${stderr}`);
    }),
  ]);
}

describe('slixmpp interop', { skip: missing }, () => {
  let server: TestServer;
  let alice: XmppClient;

  before(async () => {
    // slixmpp 1.8 only knows the tls-unique channel binding, which TLS 1.3 does not define, so against a server
    // that offers -PLUS its SCRAM attempts all fail (see the last test). Without -PLUS on offer it uses
    // SCRAM-SHA-512 with the gs2 flag "y", which is fine when the server never advertised channel binding.
    server = await startTestServer({ extra: 'auth: { mechanisms: [SCRAM-SHA-512, SCRAM-SHA-256, SCRAM-SHA-1] }' });
    await server.createUser('alice');
    await server.createUser('bob', 'bob-password');
    alice = await connectClient(server, 'alice', 'secret-password', 'desk');
    // RFC 6121 §8.5.2.1.1: only an available resource gets messages sent to the bare JID.
    const echoed = nextStanza(alice, (s) => s.is('presence') && s.attrs.from === 'alice@localhost/desk');
    await alice.send(xml('presence'));
    await echoed;
  });

  after(async () => {
    await alice?.stop().catch(() => {});
    await server?.stop();
  });

  test('Bob on slixmpp writes to Alice on @xmpp/client, and reads her answer', async () => {
    const question = 'Hello from slixmpp <&> é😀';
    const bob = runSlix('chat', { port: server.port, jid: 'bob@localhost', password: 'bob-password', to: 'alice@localhost', body: question });

    // Alice receives Bob's message at her bare JID, from his full JID.
    const received = await beforeExit(bob, nextStanza(alice, (s) => s.is('message') && (s.attrs.from ?? '').startsWith('bob@localhost/')), 'Alice got a message');
    const bobFullJid = received.attrs.from!;
    assert.equal(received.attrs.to, 'alice@localhost/desk');
    assert.equal(received.attrs.type, 'chat');
    assert.equal(received.getChildText('body'), question);

    // Alice answers his full JID.
    await alice.send(xml('message', { to: bobFullJid, type: 'chat', id: 'answer-1' }, xml('body', {}, 'Hello, Bob. Ünïcode & <tags> survive.')));

    const { code, events, stderr } = await bob.exited;
    assert.equal(code, 0, `slix_chat.py failed:\n${stderr}`);
    const auth = events.find((e) => e.event === 'auth');
    assert.equal(auth?.mechanism, 'SCRAM-SHA-512', 'slixmpp picks the strongest SCRAM on offer');
    assert.equal(events.find((e) => e.event === 'session_start')?.jid, bobFullJid);
    const answer = events.find((e) => e.event === 'message');
    assert.deepEqual(answer, { event: 'message', from: 'alice@localhost/desk', to: bobFullJid, type: 'chat', id: 'answer-1', body: 'Hello, Bob. Ünïcode & <tags> survive.' });
    assert.equal(events.at(-1)?.event, 'done');
  });

  test('Dave registers in-band (XEP-0077) with slixmpp, then logs in with the new account', async () => {
    const dave = runSlix('register', { port: server.port, jid: 'dave@localhost', password: 'dave-password' });
    const { code, events, stderr } = await dave.exited;
    assert.equal(code, 0, `slix_chat.py failed:\n${stderr}`);
    const form = events.find((e) => e.event === 'registration_form');
    assert.deepEqual(form?.fields, ['username', 'password']);
    assert.match(String(form?.instructions), /username and a password/);
    assert.deepEqual(events.find((e) => e.event === 'registered'), { event: 'registered', username: 'dave' });
    assert.equal(events.find((e) => e.event === 'auth')?.mechanism, 'SCRAM-SHA-512');
    assert.match(String(events.find((e) => e.event === 'session_start')?.jid), /^dave@localhost\/.+/);

    // The account is real: another client logs in with it.
    assert.equal(await server.running.server.accounts.exists('localhost', 'dave'), true);
    const again = await connectClient(server, 'dave', 'dave-password');
    assert.equal(again.jid?.toString().split('/')[0], 'dave@localhost');
    await again.stop();
  });

  test('registering a taken username with slixmpp is refused with conflict', async () => {
    const { code, events } = await runSlix('register', { port: server.port, jid: 'bob@localhost', password: 'another-password' }).exited;
    assert.equal(code, 1);
    assert.match(String(events.find((e) => e.event === 'error')?.message), /registration refused: conflict/);
    assert.equal(events.find((e) => e.event === 'auth'), undefined, 'it never logs in');
    // Bob's password is unchanged.
    const bob = await connectClient(server, 'bob', 'bob-password');
    await bob.stop();
  });

  test('with only SCRAM-SHA-256 and PLAIN on offer, slixmpp logs in with SCRAM-SHA-256', async () => {
    const other = await startTestServer({ extra: 'auth: { mechanisms: [SCRAM-SHA-256, PLAIN] }' });
    try {
      await other.createUser('erin', 'erin-password');
      const { code, events, stderr } = await runSlix('login', { port: other.port, jid: 'erin@localhost', password: 'erin-password' }).exited;
      assert.equal(code, 0, `slix_chat.py failed:\n${stderr}`);
      assert.equal(events.find((e) => e.event === 'auth')?.mechanism, 'SCRAM-SHA-256');
    } finally {
      await other.stop();
    }
  });

  describe('with the default mechanisms (SCRAM-*-PLUS offered, XEP-0440: tls-exporter, tls-server-end-point)', () => {
    // Each test gets its own server: failed attempts count against the address in the login throttle.
    async function withPlusServer(fn: (plus: TestServer) => Promise<void>): Promise<void> {
      const plus = await startTestServer();
      try {
        await plus.createUser('frank', 'frank-password');
        await fn(plus);
      } finally {
        await plus.stop();
      }
    }

    test("slixmpp's SCRAM-SHA-512-PLUS with tls-unique is refused, and so is its SCRAM-SHA-512 with the 'y' flag (RFC 5802 §6 downgrade)", async () => {
      await withPlusServer(async (plus) => {
        const { events } = await runSlix('login', { port: plus.port, jid: 'frank@localhost', password: 'frank-password' }).exited;
        const failed = events.filter((e) => e.event === 'failed_auth');
        assert.deepEqual(failed[0], { event: 'failed_auth', mechanism: 'SCRAM-SHA-512-PLUS', condition: 'not-authorized' });
        assert.ok(
          failed.some((e) => e.mechanism === 'SCRAM-SHA-512' && e.condition === 'not-authorized'),
          `the plain SCRAM-SHA-512 retry carries gs2 flag "y" after -PLUS was offered, which must fail:\n${events.map((e) => JSON.stringify(e)).join('\n')}`,
        );
      });
    });

    // Failures that never checked a password do not count toward the retry limit, so it reaches a mechanism that works.
    test(
      'slixmpp 1.8 still logs in: its channel-binding failures do not use up its attempts',
      async () => {
        await withPlusServer(async (plus) => {
          const { code, events, stderr } = await runSlix('login', { port: plus.port, jid: 'frank@localhost', password: 'frank-password' }).exited;
          assert.equal(code, 0, `${events.map((e) => JSON.stringify(e)).join('\n')}\n${stderr}`);
        });
      },
    );
  });
});
