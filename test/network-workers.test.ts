// network_workers: client connections carried by child processes (sockets, TLS, write batching) while the core
// process runs the streams. What a user sees must not change; what the workers add is tested here: connections
// spread over the workers, a dead worker costs only its own clients, a client that stops reading is cut off,
// and the workers leave with the server. (npm test also runs the transport-heavy files with workers: run-tests.js.)
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { xml } from '../src/core/xml/element.js';
import { expectStreamError, rawLogin } from './helpers/raw-login.js';
import { connectClient, nextStanza, startTestServer, xmppXml, type TestServer, type XmppClient } from './helpers/server.js';

/** The network worker processes of this test process (the server under test runs in it). */
function workerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1');
      if (ppid === process.pid && cmdline.includes('network-worker.js')) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids.sort();
}

/** The worker carrying a client: the one holding the socket whose peer port is the client's local port. */
function socketOwner(client: XmppClient): number {
  const port = socketOf(client).localPort!;
  const inodes = new Set<string>();
  for (const line of readFileSync('/proc/net/tcp', 'latin1').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length >= 10 && Number.parseInt(fields[2]!.split(':')[1]!, 16) === port) inodes.add(fields[9]!);
  }
  for (const pid of workerPids()) {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      const inode = /^socket:\[(\d+)\]$/.exec(readlinkOrEmpty(`/proc/${pid}/fd/${fd}`))?.[1];
      if (inode && inodes.has(inode)) return pid;
    }
  }
  return 0;
}

/** The TCP socket under @xmpp/client's connection (its TLS socket wraps it after STARTTLS). */
function socketOf(client: XmppClient): net.Socket {
  const socket = (client as unknown as { socket: { socket: net.Socket } }).socket.socket;
  return socket;
}

function readlinkOrEmpty(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
}

describe('network workers (network_workers: 2)', () => {
  let server: TestServer;

  before(async () => {
    // No inbound rate limit: one test sends megabytes quickly.
    server = await startTestServer({ extra: 'network_workers: 2\nlimits: { rate: { bytes_per_second: 1073741824, burst: 1073741824 } }' });
    for (const name of ['romeo', 'juliet', 'nurse', 'tybalt', 'mercutio', 'slow', 'loud']) await server.createUser(name);
  });

  after(async () => {
    await server?.stop();
  });

  test('two worker processes run beside the server', () => {
    assert.equal(workerPids().length, 2);
  });

  test('connections spread over the workers, and users on different workers talk to each other', async () => {
    const romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    const a = socketOwner(romeo);
    assert.ok(workerPids().includes(a), "romeo's socket belongs to a worker");
    const juliet = await connectOn(server, 'juliet', 'balcony', (pid) => pid !== a);
    try {
      const received = nextStanza(juliet, (s) => s.is('message'));
      await romeo.send(xmppXml('message', { to: 'juliet@localhost/balcony', type: 'chat' }, xmppXml('body', {}, 'By yonder blessed moon é😀')));
      const message = await received;
      assert.equal(message.attrs.from, 'romeo@localhost/orchard');
      assert.equal(message.getChildText('body'), 'By yonder blessed moon é😀');
    } finally {
      await Promise.allSettled([romeo.stop(), juliet.stop()]);
    }
  });

  test('direct TLS and STARTTLS both log in through a worker, with channel binding (SCRAM-SHA-256-PLUS)', async () => {
    const direct = await rawLogin(server, { username: 'nurse', mechanism: 'SCRAM-SHA-256-PLUS', directTls: true, resource: 'direct' });
    const upgraded = await rawLogin(server, { username: 'nurse', mechanism: 'SCRAM-SHA-256-PLUS', cbType: 'tls-server-end-point', resource: 'upgraded' });
    try {
      assert.equal(direct.sasl.cbType, 'tls-exporter');
      assert.equal(upgraded.sasl.cbType, 'tls-server-end-point');
      assert.equal(direct.jid, 'nurse@localhost/direct');
      assert.equal(upgraded.jid, 'nurse@localhost/upgraded');
    } finally {
      direct.stream.close();
      upgraded.stream.close();
    }
  });

  test('a worker that dies disconnects only its own clients; a new worker takes its place and serves new logins', async () => {
    const tybalt = await connectClient(server, 'tybalt', undefined, 'a');
    const victim = socketOwner(tybalt);
    const mercutio = await connectOn(server, 'mercutio', 'b', (pid) => pid !== victim);
    try {
      const before = workerPids();
      const lost = new Promise<void>((resolve) => socketOf(tybalt).once('close', () => resolve()));
      process.kill(victim, 'SIGKILL');
      await lost;
      // The server replaces the worker when it has noticed the loss (and ended the sessions it carried).
      await waitUntil(() => workerPids().length === 2 && !workerPids().includes(victim), 'a replacement worker');
      assert.notDeepEqual(workerPids(), before);
      // Mercutio's stream is untouched: he still gets answers.
      const pong = await mercutio.iqCaller.request(xmppXml('iq', { type: 'get', to: 'localhost' }, xmppXml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
      // The session of the lost connection is gone: a message to it bounces as for an offline user.
      const bounced = nextStanza(mercutio, (s) => s.is('message') && s.attrs.type === 'error');
      await mercutio.send(xmppXml('message', { to: 'tybalt@localhost/a', type: 'chat', id: 'gone' }, xmppXml('body', {}, 'Tybalt?')));
      assert.equal((await bounced).attrs.id, 'gone');
      // The new worker takes logins too.
      const replacement = workerPids().find((pid) => !before.includes(pid))!;
      const again = await connectOn(server, 'tybalt', 'c', (pid) => pid === replacement);
      await again.stop();
    } finally {
      await Promise.allSettled([tybalt.stop(), mercutio.stop()]);
    }
  });

  test('a client that stops reading is closed with policy-violation once its unsent data passes the limit; the sender is unaffected', async () => {
    const slow = await rawLogin(server, { username: 'slow', resource: 'r' });
    const loud = await connectClient(server, 'loud', undefined, 'r');
    try {
      slow.stream.send(xml('presence').toString());
      slow.client.socket.pause();
      // 4 MiB is the limit at the default max_stanza_size; 24 MiB is well past it with the kernel's buffers.
      const body = 'x'.repeat(60 * 1024);
      for (let i = 0; i < 400; i++) await loud.send(xmppXml('message', { to: 'slow@localhost/r', type: 'chat' }, xmppXml('body', {}, body)));
      // Megabytes of backlog are read without keeping them (the raw stream helper would parse it all); the stream
      // must end with the error, then </stream:stream>, and the server must close the connection.
      const socket = slow.client.socket;
      socket.removeAllListeners('data');
      let tail = '';
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString('latin1')).slice(-4096)));
      socket.resume();
      await closed;
      const error = /<stream:error>(.*)<\/stream:error><\/stream:stream>$/.exec(tail)?.[1] ?? `(no stream error at the end: …${tail.slice(-300)})`;
      assert.match(error, /^<policy-violation xmlns="urn:ietf:params:xml:ns:xmpp-streams"\/><text xmlns="urn:ietf:params:xml:ns:xmpp-streams"[^>]*>too much unread data/);
      const pong = await loud.iqCaller.request(xmppXml('iq', { type: 'get', to: 'localhost' }, xmppXml('ping', { xmlns: 'urn:xmpp:ping' })));
      assert.equal(pong.attrs.type, 'result');
    } finally {
      slow.stream.close();
      await loud.stop();
    }
  });

  test('malformed XML gets the not-well-formed stream error through the worker', async () => {
    const { stream } = await rawLogin(server, { username: 'romeo', resource: 'broken' });
    stream.send('<message><body>unclosed</message>');
    await expectStreamError(stream, 'not-well-formed');
  });
});

describe('network workers at shutdown', () => {
  test('server.stop() closes every stream with system-shutdown, and the workers exit with it', async () => {
    const server = await startTestServer({ extra: 'network_workers: 1' });
    await server.createUser('romeo');
    const { stream } = await rawLogin(server, { username: 'romeo' });
    assert.equal(workerPids().length, 1);
    const stopped = server.stop();
    await expectStreamError(stream, 'system-shutdown');
    await stopped;
    assert.deepEqual(workerPids(), []);
  });
});

/**
 * Logs in until the kernel hands the connection to a worker that `wanted` accepts (the workers race to accept
 * from the shared socket); the others are logged out. Twenty misses in a row would mean a worker is not accepting.
 */
async function connectOn(server: TestServer, user: string, resource: string, wanted: (pid: number) => boolean): Promise<XmppClient> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const client = await connectClient(server, user, undefined, resource);
    if (wanted(socketOwner(client))) return client;
    await client.stop();
  }
  assert.fail(`no connection of ${user} reached the wanted worker in 20 attempts`);
}

async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  // Polls state the server does not announce (processes appearing); bounded so that a failure names what was awaited.
  for (let i = 0; i < 500; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`timed out waiting for ${what}`);
}
