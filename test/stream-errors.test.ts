// Stream-level behaviour of RFC 6120 over raw sockets: the header and features the server sends, every stream error
// Quire raises (§4.9.3), STARTTLS (§5) and SASL (§6) done by hand, resource binding (§7). Each test is a short
// conversation: what the client (C) writes, and the exact XML the server (S) must answer with, parsed with
// Quire's own stream parser (test/helpers/raw-login.ts) so that namespaces and structure are checked, not text.
import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { NS } from '../src/core/stanza.js';
import { ClientStream } from '../src/core/stream/c2s.js';
import type { Element } from '../src/core/xml/element.js';
import { NS_REGISTER_FEATURE } from '../src/modules/register/index.js';
import { RawClient, startTestServer, type TestServer } from './helpers/server.js';
import { authenticate, bindResource, expectStreamError, rawLogin, RawStream, SaslFailure, type RawLoginOptions, type ServerStreamSnapshot } from './helpers/raw-login.js';

// --- helpers -------------------------------------------------------------------------------------------------------

/** A client stream header with exactly these attributes. */
const streamHeader = (attrs: string) => `<?xml version='1.0'?><stream:stream ${attrs}>`;
const NAMESPACES = `xmlns='${NS.client}' xmlns:stream='${NS.streams}'`;

/** {namespace}local-name, to compare element structure exactly. */
const qname = (e: Element) => `{${e.ns}}${e.localName}`;
const childNames = (e: Element) => e.elements().map(qname);

/** Streams opened by the current test; closed after it, so sessions do not pile up (max_sessions_per_account). */
const opened: RawStream[] = [];
afterEach(() => {
  for (const stream of opened.splice(0)) stream.close();
});

async function connect(port: number, options: { tls?: boolean } = {}): Promise<RawStream> {
  const stream = await RawStream.connect(port, options);
  opened.push(stream);
  return stream;
}

async function login(server: TestServer, options: RawLoginOptions) {
  const result = await rawLogin(server, options);
  opened.push(result.stream);
  return result;
}

/** A stream after STARTTLS, with the new header and features read: ready for SASL. */
async function securedStream(server: TestServer): Promise<{ stream: RawStream; features: Element }> {
  const stream = await connect(server.port);
  await stream.open();
  await stream.startTls();
  const { features } = await stream.open();
  return { stream, features };
}

/** The server's own stream header (RFC 6120 §4.7): from its domain, a stream id, version 1.0, jabber:client, the stream prefix. */
function assertServerHeader(header: ServerStreamSnapshot['header'], expected: { to?: string } = {}): void {
  assert.ok(header, 'the server sent a stream header');
  assert.equal(header.name, 'stream:stream');
  assert.equal(header.ns, NS.streams);
  assert.equal(header.attrs['xmlns:stream'], NS.streams);
  assert.equal(header.attrs.xmlns, NS.client);
  assert.equal(header.attrs.from, 'localhost');
  assert.equal(header.attrs.version, '1.0');
  assert.ok(header.attrs.id && header.attrs.id.length >= 16, `a stream id: ${header.attrs.id}`);
  assert.equal(header.attrs.to, expected.to);
}

/** The next element is <failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'> with exactly this condition (RFC 6120 §6.5). */
async function expectSaslFailure(stream: RawStream, condition: string): Promise<Element> {
  const failure = await stream.next(`<failure><${condition}/></failure>`);
  assert.equal(qname(failure), `{${NS.sasl}}failure`, failure.toString());
  const conditions = failure.elements().filter((e) => e.localName !== 'text');
  assert.deepEqual(conditions.map(qname), [`{${NS.sasl}}${condition}`], failure.toString());
  return failure;
}

const saslPlain = (username: string, password: string, authzid = '') =>
  `<auth xmlns='${NS.sasl}' mechanism='PLAIN'>${Buffer.from(`${authzid}\0${username}\0${password}`).toString('base64')}</auth>`;

const ping = (id: string) => `<iq type='get' id='${id}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`;

async function expectPong(stream: RawStream, id: string): Promise<void> {
  const pong = await stream.next(`the answer to ping ${id}`);
  assert.equal(pong.name, 'iq', pong.toString());
  assert.deepEqual([pong.attrs.type, pong.attrs.id, pong.attrs.from], ['result', id, 'localhost']);
}

/**
 * Bytes the server has read from clients, counted in ClientStream.receive (what the transport hands the stream).
 * A test that writes a byte and waits here knows the byte arrived as a read of its own: a real split, not one the
 * kernel may or may not make.
 */
const serverReads = {
  bytes: 0,
  reads: 0,
  waiters: [] as { bytes: number; resolve: () => void }[],
  until(bytes: number): Promise<void> {
    if (this.bytes >= bytes) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ bytes, resolve }));
  },
};
const originalReceive = ClientStream.prototype.receive;
before(() => {
  ClientStream.prototype.receive = function (this: ClientStream, chunk: Buffer): void {
    originalReceive.call(this, chunk);
    serverReads.bytes += chunk.length;
    serverReads.reads++;
    serverReads.waiters = serverReads.waiters.filter((w) => (serverReads.bytes >= w.bytes ? void w.resolve() : true));
  };
});
after(() => {
  ClientStream.prototype.receive = originalReceive;
});

/** Writes data in pieces, each one read by the server on its own before the next is sent. */
async function trickle(stream: RawStream, pieces: (string | Buffer)[]): Promise<void> {
  for (const piece of pieces) {
    const target = serverReads.bytes + Buffer.byteLength(piece);
    await stream.write(piece);
    await serverReads.until(target);
  }
}

/**
 * A TCP relay in front of the server that can hold back what the client sends after its TLS ClientHello, then hand
 * it over in one write: the server then reads the client's handshake Finished and its first encrypted bytes in
 * one read, as happens on a loaded server or a fast network, but here every time.
 */
class Relay {
  private armed = false;
  private held: Buffer[] = [];
  private seenClientHello = false;
  private waiter: (() => void) | null = null;
  private sockets: net.Socket[] = [];
  private upstream: net.Socket | null = null;

  private constructor(
    private listener: net.Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<Relay> {
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const relay = new Relay(listener, (listener.address() as net.AddressInfo).port);
    listener.on('connection', (client) => {
      const upstream = net.connect(targetPort, '127.0.0.1');
      relay.upstream = upstream;
      relay.sockets.push(client, upstream);
      client.setNoDelay(true);
      upstream.setNoDelay(true);
      upstream.on('data', (chunk) => client.write(chunk));
      client.on('data', (chunk) => relay.fromClient(chunk));
      for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
        a.on('end', () => b.end());
        a.on('error', () => b.destroy());
      }
    });
    return relay;
  }

  /** From now on, forward the next TLS record (the ClientHello) and hold everything after it. */
  arm(): void {
    this.armed = true;
  }

  private fromClient(chunk: Buffer): void {
    if (!this.armed) return void this.upstream!.write(chunk);
    if (!this.seenClientHello) {
      // The ClientHello is one handshake record (type 22) written on its own.
      assert.equal(chunk[0], 22, 'a TLS handshake record');
      this.seenClientHello = true;
      const length = 5 + chunk.readUInt16BE(3);
      this.upstream!.write(chunk.subarray(0, length));
      chunk = chunk.subarray(length);
    }
    if (chunk.length) this.held.push(chunk);
    this.waiter?.();
  }

  /** Complete TLS records of this content type held so far. */
  private heldRecords(type: number): number {
    const data = Buffer.concat(this.held);
    let count = 0;
    for (let offset = 0; offset + 5 <= data.length; ) {
      const end = offset + 5 + data.readUInt16BE(offset + 3);
      if (end > data.length) break;
      if (data[offset] === type) count++;
      offset = end;
    }
    return count;
  }

  /** Waits until `count` application-data records (type 23) are held, then sends all held bytes in one write. */
  async releaseAfter(count: number): Promise<void> {
    while (this.heldRecords(23) < count) await new Promise<void>((resolve) => (this.waiter = resolve));
    this.waiter = null;
    this.armed = false;
    this.upstream!.write(Buffer.concat(this.held.splice(0)));
  }

  close(): void {
    for (const socket of this.sockets) socket.destroy();
    this.listener.close();
  }
}

/**
 * The modules every server here runs: ping to check a stream still works, register for its XEP-0077 stream feature.
 * Pinned, so that the exact feature lists below are the stream layer's and do not change as modules are added to
 * the test helper's default set (roster versioning, pre-approval... add features of their own).
 */
const MODULES = 'modules:\n  disco:\n  ping:\n  register: { registrations_per_hour: 0 }';

// --- the main server: a small stanza limit, no login throttling ---------------------------------------------------

describe('with one server (max_stanza_size 10000)', () => {
  let server: TestServer;

  before(async () => {
    // RFC 6120 §13.12: 10000 bytes is the smallest stanza limit a server may set. Throttling is off here
    // (1000 failures) so that the failed logins below do not lock out the others; it has its own server further down.
    server = await startTestServer({ modules: MODULES, extra: 'limits: { max_stanza_size: 10000 }\nauth: { max_failures: 1000 }' });
    await server.createUser('romeo');
    await server.createUser('juliet');
  });

  after(async () => {
    await server?.stop();
  });

  describe('stream header and features (RFC 6120 §4.3, §4.7, §5, §6, XEP-0440, XEP-0077)', () => {
    test("C: a header to 'localhost'. S: its own header (from, id, version 1.0, jabber:client, stream prefix), no 'to'", async () => {
      const stream = await connect(server.port);
      const { header } = await stream.open();
      assertServerHeader(header);
      // RFC 6120 §4.7.4
      assert.equal(header.attrs['xml:lang'], 'en');
      assert.match(stream.client.received, /^<\?xml version=['"]1\.0['"]\?>/, 'an XML declaration first');
      const other = await connect(server.port);
      const { header: otherHeader } = await other.open();
      assert.notEqual(otherHeader.attrs.id, header.attrs.id, 'each stream gets its own id (§4.7.3)');
    });

    test("C: a header from 'romeo@localhost'. S: a header to 'romeo@localhost' (§4.7.2)", async () => {
      const stream = await connect(server.port);
      stream.send(RawClient.header('localhost', " from='romeo@localhost'"));
      assertServerHeader(await stream.header(), { to: 'romeo@localhost' });
    });

    test('before TLS the only feature is <starttls><required/></starttls>: no mechanisms, no registration (§5.3.1)', async () => {
      const stream = await connect(server.port);
      const { features } = await stream.open();
      assert.deepEqual(childNames(features), [`{${NS.tls}}starttls`]);
      assert.deepEqual(childNames(features.getChild('starttls', NS.tls)!), [`{${NS.tls}}required`]);
    });

    test('C: <starttls/>. S: <proceed/>; after the handshake a new stream with SCRAM, -PLUS, PLAIN, tls-exporter and tls-server-end-point, register', async () => {
      const stream = await connect(server.port);
      const { header: before } = await stream.open();
      await stream.startTls();
      assert.equal(stream.tlsProtocol, 'TLSv1.3');
      const { header, features } = await stream.open();
      assertServerHeader(header);
      assert.notEqual(header.attrs.id, before.attrs.id, 'a new stream id after TLS (§5.4.3.3)');
      assert.deepEqual(childNames(features), [`{${NS.sasl}}mechanisms`, `{${NS.saslChannelBinding}}sasl-channel-binding`, `{${NS_REGISTER_FEATURE}}register`]);
      // §6.4.1: in order of preference.
      const mechanisms = features.getChild('mechanisms', NS.sasl)!;
      assert.deepEqual(childNames(mechanisms), Array(7).fill(`{${NS.sasl}}mechanism`));
      assert.deepEqual(
        mechanisms.elements().map((m) => m.text()),
        ['SCRAM-SHA-512-PLUS', 'SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS', 'SCRAM-SHA-512', 'SCRAM-SHA-256', 'SCRAM-SHA-1', 'PLAIN'],
      );
      // XEP-0440: tls-exporter (RFC 9266) on TLS 1.3, and always tls-server-end-point.
      const cb = features.getChild('sasl-channel-binding', NS.saslChannelBinding)!;
      assert.deepEqual(childNames(cb), [`{${NS.saslChannelBinding}}channel-binding`, `{${NS.saslChannelBinding}}channel-binding`]);
      assert.deepEqual(cb.elements().map((c) => c.attrs.type).sort(), ['tls-exporter', 'tls-server-end-point']);
      assert.equal(features.getChild('register', NS_REGISTER_FEATURE)!.children.length, 0);
    });

    test('over TLS 1.2 the channel binding type is tls-server-end-point only (RFC 9266 §3), and -PLUS is still offered', async () => {
      const stream = await connect(server.port);
      await stream.open();
      await stream.startTls({ maxVersion: 'TLSv1.2' });
      assert.equal(stream.tlsProtocol, 'TLSv1.2');
      const { features } = await stream.open();
      const cb = features.getChild('sasl-channel-binding', NS.saslChannelBinding)!;
      assert.deepEqual(cb.elements().map((c) => c.attrs.type), ['tls-server-end-point']);
      assert.ok(features.getChild('mechanisms', NS.sasl)!.elements().some((m) => m.text() === 'SCRAM-SHA-512-PLUS'));
    });

    test('direct TLS port (XEP-0368): no <starttls/>, mechanisms and channel binding straight away', async () => {
      const stream = await connect(server.tlsPort, { tls: true });
      const { header, features } = await stream.open();
      assertServerHeader(header);
      assert.deepEqual(childNames(features), [`{${NS.sasl}}mechanisms`, `{${NS.saslChannelBinding}}sasl-channel-binding`, `{${NS_REGISTER_FEATURE}}register`]);
      assert.equal(features.getChild('mechanisms', NS.sasl)!.elements()[0]!.text(), 'SCRAM-SHA-512-PLUS');
    });

    test('direct TLS port without SNI (a client connecting to an address) gets the certificate too', async () => {
      const socket = tls.connect({ host: '127.0.0.1', port: server.tlsPort, rejectUnauthorized: false, ALPNProtocols: ['xmpp-client'] });
      await new Promise<void>((resolve, reject) => {
        socket.once('secureConnect', resolve);
        socket.once('error', reject);
      });
      assert.equal(socket.servername, false, 'no SNI was sent');
      assert.ok(socket.getPeerX509Certificate()?.checkHost('localhost'));
      socket.destroy();
    });

    test('C: <starttls/> when TLS is already on. S: <failure xmlns=tls/>, then </stream:stream> and the connection closes (§5.4.2.2)', async () => {
      const stream = await connect(server.tlsPort, { tls: true });
      await stream.open();
      stream.send(`<starttls xmlns='${NS.tls}'/>`);
      const failure = await stream.next();
      assert.equal(qname(failure), `{${NS.tls}}failure`);
      assert.equal(failure.children.length, 0);
      const snapshot = await stream.wait((s) => (s.ended ? s : undefined), '</stream:stream>');
      assert.equal(snapshot.elements.length, 2, 'nothing between <failure/> and </stream:stream>');
      await stream.closed;
    });

    test('plaintext pipelined after <starttls/> is discarded, never read as part of the encrypted stream (§5.4.3.3)', async () => {
      const stream = await connect(server.port);
      await stream.open();
      await stream.startTls({ pipelined: saslPlain('romeo', 'secret-password') + "<message to='juliet@localhost'><body>injected</body></message>" });
      const { header, features } = await stream.open();
      assertServerHeader(header);
      assert.ok(features.getChild('mechanisms', NS.sasl), 'still unauthenticated: the injected <auth/> was not processed');
      stream.send(`<iq type='get' id='reg2'><query xmlns='jabber:iq:register'/></iq>`);
      const answer = await stream.next();
      assert.deepEqual([answer.name, answer.attrs.id], ['iq', 'reg2'], 'nothing came before the answer to our first stanza');
    });

    test("the client's first bytes over TLS, read together with its handshake Finished, are not lost (§5.4.3.3)", async () => {
      const relay = await Relay.start(server.port);
      try {
        const stream = await connect(relay.port);
        await stream.open();
        await stream.startTls({ beforeHandshake: () => relay.arm() });
        // TLS 1.3: the client's Finished is an encrypted record, and so is the stream header right behind it.
        stream.send(RawClient.header());
        await relay.releaseAfter(2);
        assertServerHeader(await stream.header());
        assert.ok((await stream.next()).getChild('mechanisms', NS.sasl));
      } finally {
        relay.close();
      }
    });

    test('C: </stream:stream>. S: </stream:stream> with no error, and the TCP connection closes (§4.4)', async () => {
      const stream = await connect(server.port);
      await stream.open();
      stream.send('</stream:stream>');
      const snapshot = await stream.wait((s) => (s.ended ? s : undefined), '</stream:stream>');
      assert.deepEqual(snapshot.elements.map(qname), [`{${NS.streams}}features`]);
      await stream.closed;
    });

    test('whitespace between stanzas is a keepalive, not an error (§4.6)', async () => {
      const { stream } = await login(server, { username: 'romeo' });
      await trickle(stream, [' ', '\n', '\t \r\n']);
      stream.send(ping('after-whitespace'));
      await expectPong(stream, 'after-whitespace');
    });
  });

  describe('errors caused by the stream header: the server still sends its own header first (§4.9.1.2)', () => {
    /** C sends `opening`; S must answer with its header, the stream error and </stream:stream>, then close. */
    async function headerError(opening: string | Buffer, condition: string): Promise<void> {
      const stream = await connect(server.port);
      stream.send(opening);
      const { snapshot } = await expectStreamError(stream, condition);
      assertServerHeader(snapshot.header);
      assert.deepEqual(snapshot.elements.map(qname), [`{${NS.streams}}error`], 'only the error: no features');
    }

    test("to='example.org', a domain not served here: host-unknown (§4.9.3.6)", () => headerError(streamHeader(`to='example.org' version='1.0' ${NAMESPACES}`), 'host-unknown'));

    test("no 'to' at all: host-unknown (§4.7.2, §4.9.3.6)", () => headerError(streamHeader(`version='1.0' ${NAMESPACES}`), 'host-unknown'));

    test('the stream element in another namespace: invalid-namespace (§4.9.3.10)', () =>
      headerError(streamHeader(`to='localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams-wrong'`), 'invalid-namespace'));

    test('a default namespace other than jabber:client, or none: invalid-namespace (§4.9.3.10)', async () => {
      await headerError(streamHeader(`to='localhost' version='1.0' xmlns='jabber:server' xmlns:stream='${NS.streams}'`), 'invalid-namespace');
      await headerError(streamHeader(`to='localhost' version='1.0' xmlns='urn:example:content' xmlns:stream='${NS.streams}'`), 'invalid-namespace');
      await headerError(streamHeader(`to='localhost' version='1.0' xmlns:stream='${NS.streams}'`), 'invalid-namespace');
    });

    test("version='2.0': unsupported-version (§4.9.3.25)", () => headerError(streamHeader(`to='localhost' version='2.0' ${NAMESPACES}`), 'unsupported-version'));

    test('no version at all (pre-1.0, §4.7.5): unsupported-version', () => headerError(streamHeader(`to='localhost' ${NAMESPACES}`), 'unsupported-version'));

    test("a bad header on the stream restarted after SASL success (to='example.org') also gets a fresh server header first", async () => {
      const { stream } = await securedStream(server);
      await authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
      stream.restart();
      stream.send(streamHeader(`to='example.org' version='1.0' ${NAMESPACES}`));
      const { snapshot } = await expectStreamError(stream, 'host-unknown');
      assertServerHeader(snapshot.header);
      assert.deepEqual(snapshot.elements.map(qname), [`{${NS.streams}}error`]);
    });

    test("version='1.1' is answered with version 1.0 and features (§4.7.5: a higher minor version is fine)", async () => {
      const stream = await connect(server.port);
      stream.send(streamHeader(`to='localhost' version='1.1' ${NAMESPACES}`));
      assertServerHeader(await stream.header());
      assert.equal(qname(await stream.next()), `{${NS.streams}}features`);
    });

    test('a DOCTYPE before the header: restricted-xml (§11.1)', () =>
      headerError(`<?xml version='1.0'?><!DOCTYPE stream:stream><stream:stream to='localhost' version='1.0' ${NAMESPACES}>`, 'restricted-xml'));

    test('an HTTP request instead of a stream header: not-well-formed (§4.9.3.13)', () => headerError('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n', 'not-well-formed'));

    test('an encoding other than UTF-8 declared: unsupported-encoding (§4.9.3.22, §11.6)', () =>
      headerError(`<?xml version='1.0' encoding='ISO-8859-1'?><stream:stream to='localhost' version='1.0' ${NAMESPACES}>`, 'unsupported-encoding'));
  });

  describe('errors in the stream after a good header (§4.9.3): one header, the features, the error, </stream:stream>', () => {
    /** C opens a stream (plain TCP), then sends `data`; S must close it with `condition`. */
    async function errorAfterHeader(data: string | Buffer | (string | Buffer)[], condition: string): Promise<Element> {
      const stream = await connect(server.port);
      const { header } = await stream.open();
      if (Array.isArray(data)) await trickle(stream, data);
      else stream.send(data);
      const { snapshot, error } = await expectStreamError(stream, condition);
      assert.equal(snapshot.header?.attrs.id, header.attrs.id, 'the same stream: no second header');
      assert.deepEqual(snapshot.elements.map(qname), [`{${NS.streams}}features`, `{${NS.streams}}error`]);
      return error;
    }

    test('mismatched tags <message><body></message>: not-well-formed (§4.9.3.13)', async () => void (await errorAfterHeader('<message><body>hi</message>', 'not-well-formed')));

    test('a character XML forbids (U+0001): not-well-formed', async () => void (await errorAfterHeader('<message><body>a\u0001b</body></message>', 'not-well-formed')));

    test('bytes that are not UTF-8: not-well-formed (§11.6)', async () =>
      void (await errorAfterHeader(Buffer.concat([Buffer.from('<message><body>'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('</body></message>')]), 'not-well-formed')));

    test('garbage that is not XML: not-well-formed', async () => void (await errorAfterHeader('<<<%%% garbage >>>', 'not-well-formed')));

    test('a comment: restricted-xml (§4.9.3.18, §11.1)', async () => void (await errorAfterHeader('<!-- hello -->', 'restricted-xml')));

    test('a processing instruction: restricted-xml (§11.1)', async () => void (await errorAfterHeader("<?php echo 'hi'; ?>", 'restricted-xml')));

    test('a DOCTYPE inside the stream: restricted-xml (§11.1)', async () => void (await errorAfterHeader('<!DOCTYPE message>', 'restricted-xml')));

    test('a reference to an undeclared entity (&foo;): restricted-xml (§11.1)', async () => void (await errorAfterHeader('<message><body>&foo;</body></message>', 'restricted-xml')));

    test('a stanza that never ends, trickled in 1000-byte reads past the 10000-byte limit, is cut off: policy-violation (§13.12)', async () => {
      const pieces = ['<message><body>', ...Array.from({ length: 10 }, () => 'a'.repeat(1000))];
      const error = await errorAfterHeader(pieces, 'policy-violation');
      assert.match(error.getChildText('text', NS.streamErrors) ?? '', /too large/);
    });

    test('C: <message/> before TLS when TLS is required. S: policy-violation', async () => void (await errorAfterHeader('<message to="juliet@localhost"><body>hi</body></message>', 'policy-violation')));

    test('C: <auth/> before TLS when TLS is required. S: <failure><encryption-required/></failure> (§6.5.4)', async () => {
      const stream = await connect(server.port);
      await stream.open();
      stream.send(saslPlain('romeo', 'secret-password'));
      await expectSaslFailure(stream, 'encryption-required');
    });
  });

  describe('errors before authentication and after binding', () => {
    test('C: <message/> after TLS but before authentication. S: not-authorized (§4.9.3.12)', async () => {
      const { stream } = await securedStream(server);
      stream.send("<message to='juliet@localhost'><body>hi</body></message>");
      const { snapshot } = await expectStreamError(stream, 'not-authorized');
      assert.deepEqual(snapshot.elements.map(qname), [`{${NS.streams}}features`, `{${NS.streams}}error`]);
    });

    test('C: a disco#info IQ before authentication. S: not-authorized; but the XEP-0077 registration form is answered', async () => {
      const { stream } = await securedStream(server);
      stream.send("<iq type='get' id='reg1'><query xmlns='jabber:iq:register'/></iq>");
      const form = await stream.next();
      assert.deepEqual([form.name, form.attrs.type, form.attrs.id], ['iq', 'result', 'reg1']);
      assert.ok(form.getChild('query', 'jabber:iq:register')?.getChild('username'));
      stream.send("<iq type='get' id='disco1' to='localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>");
      await expectStreamError(stream, 'not-authorized');
    });

    test('C: an unknown top-level element after binding. S: unsupported-stanza-type (§4.9.3.24)', async () => {
      const { stream } = await login(server, { username: 'romeo' });
      stream.send("<frobnicate xmlns='urn:example:unknown'/>");
      await expectStreamError(stream, 'unsupported-stanza-type');
    });

    test("C: a <message/> in jabber:server on a client stream. S: unsupported-stanza-type", async () => {
      const { stream } = await login(server, { username: 'romeo' });
      stream.send("<message xmlns='jabber:server' to='juliet@localhost'><body>hi</body></message>");
      await expectStreamError(stream, 'unsupported-stanza-type');
    });

    test("C: a message from='juliet@localhost/balcony' on Romeo's stream. S: invalid-from (§4.9.3.9, §8.1.2.1)", async () => {
      const { stream } = await login(server, { username: 'romeo' });
      stream.send("<message from='juliet@localhost/balcony' to='juliet@localhost' type='chat'><body>it is I</body></message>");
      await expectStreamError(stream, 'invalid-from');
    });

    test("C: a message from='romeo@localhost/other' (another resource of the same account). S: invalid-from", async () => {
      const { stream } = await login(server, { username: 'romeo' });
      stream.send("<message from='romeo@localhost/other' to='juliet@localhost'><body>hi</body></message>");
      await expectStreamError(stream, 'invalid-from');
    });

    test("a 'from' of the client's own bare JID is accepted and stamped with the full JID (§8.1.2.1)", async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      stream.send(`<message from='romeo@localhost' to='${jid}' id='self1'><body>to myself</body></message>`);
      const echoed = await stream.next();
      assert.deepEqual([echoed.name, echoed.attrs.from, echoed.attrs.to, echoed.attrs.id], ['message', jid, jid, 'self1']);
    });

    /** A message from a bound client to itself whose serialized size is exactly `bytes`, with multi-byte text in it. */
    function messageOfSize(to: string, bytes: number): string {
      const head = `<message to='${to}' id='big'><body>`;
      const tail = '</body></message>';
      const room = bytes - Buffer.byteLength(head + tail);
      // 'é' is 2 bytes and '😀' 4 in UTF-8: the limit is in bytes, not characters.
      const filler = 'é'.repeat(1000) + '😀'.repeat(500);
      const body = filler + 'a'.repeat(room - Buffer.byteLength(filler));
      const message = head + body + tail;
      assert.equal(Buffer.byteLength(message), bytes);
      return message;
    }

    test('a stanza of exactly 10000 bytes (multi-byte text included) is accepted (§13.12)', async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      const message = messageOfSize(jid, 10000);
      stream.send(message);
      const echoed = await stream.next();
      assert.equal(echoed.getChildText('body'), message.slice(message.indexOf('<body>') + 6, message.indexOf('</body>')));
    });

    test('a stanza of 10001 bytes: policy-violation (§4.9.3.14, §13.12)', async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      stream.send(messageOfSize(jid, 10001));
      const { error } = await expectStreamError(stream, 'policy-violation');
      assert.match(error.getChildText('text', NS.streamErrors) ?? '', /too large/);
    });

    const nested = (levels: number) => "<x xmlns='urn:example:deep'>".repeat(levels) + '</x>'.repeat(levels);

    test('elements nested 32 deep (the stream root is 0) are accepted', async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      stream.send(`<message to='${jid}' id='deep'>${nested(31)}</message>`);
      const echoed = await stream.next();
      assert.equal(echoed.attrs.id, 'deep');
    });

    test('elements nested 33 deep: policy-violation', async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      stream.send(`<message to='${jid}' id='deep'>${nested(32)}</message>`);
      const { error } = await expectStreamError(stream, 'policy-violation');
      assert.match(error.getChildText('text', NS.streamErrors) ?? '', /nested too deep/);
    });

    const attributes = (count: number) => Array.from({ length: count }, (_, i) => ` a${i}='${i}'`).join('');

    test('64 attributes on one element are accepted', async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      stream.send(`<message to='${jid}' id='attrs'${attributes(62)}/>`);
      const echoed = await stream.next();
      assert.equal(echoed.attrs.a61, '61');
    });

    test('65 attributes on one element: policy-violation', async () => {
      const { stream, jid } = await login(server, { username: 'romeo' });
      stream.send(`<message to='${jid}' id='attrs'${attributes(63)}/>`);
      const { error } = await expectStreamError(stream, 'policy-violation');
      assert.match(error.getChildText('text', NS.streamErrors) ?? '', /too many attributes/);
    });
  });

  describe('the bytes of one character split across reads', () => {
    test('Romeo writes a message with é😀中 one byte per read; Juliet receives it intact', async () => {
      const juliet = await login(server, { username: 'juliet', resource: 'balcony' });
      const romeo = await login(server, { username: 'romeo', resource: 'orchard' });
      const message = Buffer.from(`<message to='${juliet.jid}' type='chat' id='mb1'><body>é😀中</body></message>`);
      const readsBefore = serverReads.reads;
      await trickle(romeo.stream, [...message].map((byte) => Buffer.from([byte])));
      assert.equal(serverReads.reads - readsBefore, message.length, 'the server read every byte separately');
      const received = await juliet.stream.next();
      assert.equal(received.name, 'message');
      assert.deepEqual([received.attrs.from, received.attrs.to, received.attrs.type, received.attrs.id], [romeo.jid, juliet.jid, 'chat', 'mb1']);
      assert.equal(received.getChildText('body'), 'é😀中');
    });

    test('a stream header split inside a multi-byte character of an attribute still opens the stream', async () => {
      const stream = await connect(server.port);
      const header = Buffer.from(RawClient.header('localhost', " from='ромео@localhost'"));
      await trickle(stream, [...header].map((byte) => Buffer.from([byte])));
      assertServerHeader(await stream.header(), { to: 'ромео@localhost' });
    });
  });

  describe('one client breaking its stream does not disturb the others', () => {
    test('after a not-well-formed error, a bound client keeps working and a new client logs in and talks to it', async () => {
      const juliet = await login(server, { username: 'juliet', resource: 'window' });
      const vandal = await connect(server.port);
      await vandal.open();
      vandal.send('<message><body></message>');
      await expectStreamError(vandal, 'not-well-formed');
      juliet.stream.send(ping('still-here'));
      await expectPong(juliet.stream, 'still-here');
      const romeo = await login(server, { username: 'romeo', resource: 'garden' });
      romeo.stream.send(`<message to='${juliet.jid}' type='chat' id='after-vandal'><body>Is the east still there?</body></message>`);
      const received = await juliet.stream.next();
      assert.deepEqual([received.attrs.from, received.attrs.id, received.getChildText('body')], ['romeo@localhost/garden', 'after-vandal', 'Is the east still there?']);
    });
  });

  describe('SASL over a raw stream after STARTTLS (RFC 6120 §6.4, §6.5)', () => {
    test("C: <auth mechanism='FOO'/>. S: <failure><invalid-mechanism/></failure> (§6.5.7)", async () => {
      const { stream } = await securedStream(server);
      stream.send(`<auth xmlns='${NS.sasl}' mechanism='FOO'/>`);
      await expectSaslFailure(stream, 'invalid-mechanism');
    });

    test('C: <auth/> with no mechanism. S: invalid-mechanism (§6.5.7)', async () => {
      const { stream } = await securedStream(server);
      stream.send(`<auth xmlns='${NS.sasl}'/>`);
      await expectSaslFailure(stream, 'invalid-mechanism');
    });

    test('C: PLAIN with data that is not base64. S: <failure><incorrect-encoding/></failure> (§6.5.5)', async () => {
      const { stream } = await securedStream(server);
      stream.send(`<auth xmlns='${NS.sasl}' mechanism='PLAIN'>%%%not*base64!</auth>`);
      await expectSaslFailure(stream, 'incorrect-encoding');
    });

    test('C: PLAIN with a wrong password. S: <failure><not-authorized/></failure> (§6.5.10); an unknown user gets the same', async () => {
      const { stream } = await securedStream(server);
      stream.send(saslPlain('romeo', 'wrong-password'));
      await expectSaslFailure(stream, 'not-authorized');
      stream.send(saslPlain('nobody', 'secret-password'));
      await expectSaslFailure(stream, 'not-authorized');
    });

    test('SCRAM-SHA-256 with a wrong password: not-authorized; for an unknown user a challenge is still sent first (no user enumeration)', async () => {
      const { stream } = await securedStream(server);
      await assert.rejects(authenticate(stream, { username: 'romeo', password: 'wrong', mechanism: 'SCRAM-SHA-256' }), (err) => err instanceof SaslFailure && err.condition === 'not-authorized');
      await assert.rejects(authenticate(stream, { username: 'nobody', password: 'wrong', mechanism: 'SCRAM-SHA-256' }), (err) => err instanceof SaslFailure && err.condition === 'not-authorized');
      assert.deepEqual(stream.snapshot().elements.map((e) => e.localName), ['features', 'challenge', 'failure', 'challenge', 'failure']);
    });

    test('C: <auth/>, S: <challenge/>, C: <abort/>. S: <failure><aborted/></failure> (§6.4.4); a new attempt then succeeds on the same stream', async () => {
      const { stream } = await securedStream(server);
      stream.send(`<auth xmlns='${NS.sasl}' mechanism='SCRAM-SHA-256'>${Buffer.from('n,,n=romeo,r=abcdefghijklmnop').toString('base64')}</auth>`);
      assert.equal(qname(await stream.next()), `{${NS.sasl}}challenge`);
      stream.send(`<abort xmlns='${NS.sasl}'/>`);
      await expectSaslFailure(stream, 'aborted');
      const result = await authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
      assert.equal(result.serverVerified, true);
    });

    test('C: <response/> with no exchange in progress. S: <failure><malformed-request/></failure> (§6.5.8)', async () => {
      const { stream } = await securedStream(server);
      stream.send(`<response xmlns='${NS.sasl}'>=</response>`);
      await expectSaslFailure(stream, 'malformed-request');
    });

    test('PLAIN asking to act as someone else (authzid juliet@localhost): <failure><invalid-authzid/></failure> (§6.5.6)', async () => {
      const { stream } = await securedStream(server);
      stream.send(saslPlain('romeo', 'secret-password', 'juliet@localhost'));
      await expectSaslFailure(stream, 'invalid-authzid');
    });

    test('SCRAM-SHA-256-PLUS with channel binding data of another channel: not-authorized (RFC 5802 §6)', async () => {
      const { stream } = await securedStream(server);
      const attempt = authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256-PLUS', cbType: 'tls-exporter', cbData: randomBytes(32) });
      await assert.rejects(attempt, (err) => err instanceof SaslFailure && err.condition === 'not-authorized');
    });

    test("SCRAM-SHA-256 with the 'y' flag although -PLUS was offered (a stripped -PLUS): not-authorized (RFC 5802 §6)", async () => {
      const { stream } = await securedStream(server);
      const attempt = authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256', cbFlag: 'y' });
      await assert.rejects(attempt, (err) => err instanceof SaslFailure && err.condition === 'not-authorized');
    });

    test('five failed attempts on one stream: the fifth <failure/> is followed by a policy-violation stream error (§6.4.5)', async () => {
      const { stream } = await securedStream(server);
      for (let attempt = 1; attempt <= 5; attempt++) {
        stream.send(saslPlain('romeo', `wrong-${attempt}`));
        await expectSaslFailure(stream, 'not-authorized');
      }
      const { snapshot } = await expectStreamError(stream, 'policy-violation');
      assert.equal(snapshot.elements.filter((e) => e.localName === 'failure').length, 5);
    });
  });

  describe('successful logins with the repo SCRAM client (RFC 5802, RFC 7677, RFC 5929, RFC 9266)', () => {
    test('SCRAM-SHA-256 step by step: auth, challenge, response, success with v=, restart, bind, full JID', async () => {
      const { stream } = await securedStream(server);
      const result = await authenticate(stream, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256' });
      assert.deepEqual(stream.snapshot().elements.map(qname), [`{${NS.streams}}features`, `{${NS.sasl}}challenge`, `{${NS.sasl}}success`]);
      assert.match(Buffer.from(result.success.text(), 'base64').toString(), /^v=/);
      assert.equal(result.serverVerified, true, "the server's signature verifies");
      stream.restart();
      const { header, features } = await stream.open();
      assertServerHeader(header);
      // RFC 6120 §7.4; RFC 3921 sessions are announced as optional for old clients (RFC 6121 Appendix E).
      assert.deepEqual(childNames(features), [`{${NS.bind}}bind`, `{${NS.session}}session`]);
      assert.deepEqual(childNames(features.getChild('session', NS.session)!), [`{${NS.session}}optional`]);
      assert.equal(await bindResource(stream, 'chamber'), 'romeo@localhost/chamber');
    });

    test('binding without a resource: the server picks one (§7.6)', async () => {
      const { jid } = await login(server, { username: 'romeo' });
      assert.match(jid, /^romeo@localhost\/.+$/);
    });

    const cases: { name: string; options: Omit<RawLoginOptions, 'username'>; protocol: string; cbType: string | null }[] = [
      { name: 'SCRAM-SHA-1', options: { mechanism: 'SCRAM-SHA-1' }, protocol: 'TLSv1.3', cbType: null },
      { name: 'SCRAM-SHA-512', options: { mechanism: 'SCRAM-SHA-512' }, protocol: 'TLSv1.3', cbType: null },
      { name: 'SCRAM-SHA-512-PLUS with tls-exporter', options: { mechanism: 'SCRAM-SHA-512-PLUS', cbType: 'tls-exporter' }, protocol: 'TLSv1.3', cbType: 'tls-exporter' },
      { name: 'SCRAM-SHA-512-PLUS with tls-server-end-point', options: { mechanism: 'SCRAM-SHA-512-PLUS', cbType: 'tls-server-end-point' }, protocol: 'TLSv1.3', cbType: 'tls-server-end-point' },
      { name: 'SCRAM-SHA-256-PLUS with tls-server-end-point over TLS 1.2', options: { mechanism: 'SCRAM-SHA-256-PLUS', tlsMaxVersion: 'TLSv1.2' }, protocol: 'TLSv1.2', cbType: 'tls-server-end-point' },
      { name: 'SCRAM-SHA-512-PLUS with tls-exporter on the direct TLS port', options: { mechanism: 'SCRAM-SHA-512-PLUS', directTls: true }, protocol: 'TLSv1.3', cbType: 'tls-exporter' },
      { name: 'PLAIN (over TLS only, RFC 6120 §13.8.3)', options: { mechanism: 'PLAIN' }, protocol: 'TLSv1.3', cbType: null },
    ];
    for (const c of cases) {
      test(`${c.name}: success, the server's v= verifies, then bind gives the full JID`, async () => {
        const resource = c.name.replace(/\W+/g, '-');
        const { stream, jid, sasl } = await login(server, { username: 'romeo', resource, ...c.options });
        assert.equal(stream.tlsProtocol, c.protocol);
        assert.equal(sasl.cbType, c.cbType);
        assert.equal(sasl.serverVerified, c.options.mechanism === 'PLAIN' ? null : true);
        assert.equal(jid, `romeo@localhost/${resource}`);
        stream.send(ping('logged-in'));
        await expectPong(stream, 'logged-in');
      });
    }
  });
});

// --- servers of their own: timers, shutdown and throttling affect everyone on a server -----------------------------

describe('negotiation timeout (limits.connection_timeout: 1)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ modules: MODULES, extra: 'limits: { connection_timeout: 1 }' });
    await server.createUser('romeo');
  });
  after(async () => {
    await server?.stop();
  });

  test('a client idle during negotiation gets connection-timeout (§4.9.3.4); a silent one gets the header first; a bound one stays', async () => {
    // PLAIN: the cheapest login, well inside the one second its own negotiation timer allows.
    const bound = await login(server, { username: 'romeo', mechanism: 'PLAIN' });
    // Both connect after Romeo bound: had his timer survived binding, it would have fired before theirs.
    const idle = await connect(server.port);
    await idle.open();
    const silent = await connect(server.port);
    const { snapshot: idleSnapshot } = await expectStreamError(idle, 'connection-timeout');
    assert.deepEqual(idleSnapshot.elements.map(qname), [`{${NS.streams}}features`, `{${NS.streams}}error`]);
    const { snapshot: silentSnapshot } = await expectStreamError(silent, 'connection-timeout');
    assertServerHeader(silentSnapshot.header);
    bound.stream.send(ping('after-timeouts'));
    await expectPong(bound.stream, 'after-timeouts');
  });
});

describe('shutdown', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ modules: MODULES });
    await server.createUser('romeo');
  });
  after(async () => {
    await server?.stop();
  });

  test('server.stop() closes every stream with system-shutdown (§4.9.3.20), bound or negotiating, and stops listening', async () => {
    const bound = await login(server, { username: 'romeo' });
    const negotiating = await connect(server.port);
    await negotiating.open();
    const stopping = server.stop();
    await expectStreamError(bound.stream, 'system-shutdown');
    const { snapshot } = await expectStreamError(negotiating, 'system-shutdown');
    assert.deepEqual(snapshot.elements.map(qname), [`{${NS.streams}}features`, `{${NS.streams}}error`]);
    await stopping;
    await assert.rejects(RawClient.connect(server.port), /ECONNREFUSED/);
  });
});

describe('login throttling (auth.max_failures: 2)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ modules: MODULES, extra: 'auth: { max_failures: 2 }' });
    await server.createUser('romeo');
  });
  after(async () => {
    await server?.stop();
  });

  test('after two failures the third attempt gets <temporary-auth-failure/>, even with the right password (§6.5.11)', async () => {
    const { stream } = await securedStream(server);
    stream.send(saslPlain('romeo', 'wrong-1'));
    await expectSaslFailure(stream, 'not-authorized');
    stream.send(saslPlain('romeo', 'wrong-2'));
    await expectSaslFailure(stream, 'not-authorized');
    stream.send(saslPlain('romeo', 'secret-password'));
    await expectSaslFailure(stream, 'temporary-auth-failure');
    // A new connection does not start afresh.
    const { stream: again } = await securedStream(server);
    await assert.rejects(authenticate(again, { username: 'romeo', password: 'secret-password', mechanism: 'SCRAM-SHA-256' }), (err) => err instanceof SaslFailure && err.condition === 'temporary-auth-failure');
  });
});
