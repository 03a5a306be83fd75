// Raw-socket XMPP for stream-level tests: what the server sent, parsed with Quire's own stream parser (so a test
// asserts on elements and namespaces, not on regexes), and the steps of a c2s login done by hand: STARTTLS
// (RFC 6120 §5), SASL with any mechanism Quire offers (§6, with the repo's SCRAM client), resource binding (§7).
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { ScramClient, tlsChannelBinding, type ChannelBindingType, type HashName } from '../../src/core/sasl/index.js';
import { NS } from '../../src/core/stanza.js';
import { xml, type Element } from '../../src/core/xml/element.js';
import { StreamParser } from '../../src/core/xml/parser.js';
import { RawClient, type TestServer } from './server.js';

const OUTPUT_LIMITS = { maxStanzaBytes: 64 * 1024 * 1024, maxDepth: 10_000, maxAttributes: 10_000 };

/** The server's side of one stream (from its header up to a restart), as parsed so far. */
export interface ServerStreamSnapshot {
  /** The server's <stream:stream> open tag: qualified name, attributes as written, resolved namespace. */
  header: { name: string; attrs: Record<string, string>; ns: string } | null;
  /** Top-level children of the stream (features, stanzas, nonzas, <stream:error/>), in order. */
  elements: Element[];
  /** True once </stream:stream> arrived. */
  ended: boolean;
  /** Set when the server's own output is not well-formed XML (a server bug, e.g. two headers in one stream). */
  parseError: string | null;
  text: string;
}

/** Parses server output with the same parser the server uses on clients, so malformed output fails the test. */
export function parseServerStream(text: string): ServerStreamSnapshot {
  const snapshot: ServerStreamSnapshot = { header: null, elements: [], ended: false, parseError: null, text };
  const parser = new StreamParser(
    {
      streamStart: (name, attrs, ns) => void (snapshot.header = { name, attrs: { ...attrs }, ns }),
      stanza: (element) => void snapshot.elements.push(element),
      streamEnd: () => void (snapshot.ended = true),
      error: (condition, message) => void (snapshot.parseError = `${condition}: ${message}`),
    },
    // Generous: what the server relays may exceed the limits it enforces on input (it adds 'from', for one).
    OUTPUT_LIMITS,
  );
  parser.write(text);
  return snapshot;
}

export type MechanismName = 'PLAIN' | `SCRAM-SHA-${'1' | '256' | '512'}` | `SCRAM-SHA-${'1' | '256' | '512'}-PLUS`;

/** A SASL exchange that ended in <failure/> (RFC 6120 §6.5). */
export class SaslFailure extends Error {
  constructor(
    readonly condition: string,
    readonly failure: Element,
  ) {
    super(`SASL failure: ${condition}`);
  }
}

/**
 * A raw client stream. Elements are read in order with next(), like a conversation: the test sends something and
 * takes the next thing the server said. restart() and startTls() begin a new stream view (RFC 6120 §4.3.3).
 */
export class RawStream {
  /** Offset in client.received where the current stream's output begins. */
  private base = 0;
  /** Elements of the current stream already returned by next(). */
  private taken = 0;

  constructor(readonly client: RawClient) {}

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<RawStream> {
    return new RawStream(await RawClient.connect(port, options));
  }

  get socket(): RawClient['socket'] {
    return this.client.socket;
  }

  /** The TLS version in use, or null before TLS. */
  get tlsProtocol(): string | null {
    return this.client.socket instanceof tls.TLSSocket ? this.client.socket.getProtocol() : null;
  }

  send(data: string | Buffer): void {
    this.client.send(data);
  }

  /** Sends and resolves once the data has been handed to the kernel. */
  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.client.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** The current stream's output as parsed so far. */
  snapshot(): ServerStreamSnapshot {
    return parseServerStream(this.client.received.slice(this.base));
  }

  /**
   * Resolves with find's first defined result, re-evaluated on each chunk from the server. Rejects if the server's
   * output is not well-formed, if the connection closes first, or after timeoutMs (a guard, never a wait).
   */
  wait<T>(find: (snapshot: ServerStreamSnapshot) => T | undefined, what: string, timeoutMs = 10_000): Promise<T> {
    const socket = this.client.socket;
    return new Promise<T>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (settle: () => void) => {
        socket.off('data', onData);
        socket.off('close', onClose);
        clearTimeout(timer);
        settle();
      };
      const attempt = (): boolean => {
        const snapshot = this.snapshot();
        if (snapshot.parseError) {
          done(() => reject(new Error(`the server's output is not well-formed (${snapshot.parseError}) while waiting for ${what}:\n${snapshot.text}`)));
          return true;
        }
        const found = find(snapshot);
        if (found === undefined) return false;
        done(() => resolve(found));
        return true;
      };
      // Registered after RawClient's own listener, so client.received already holds the chunk.
      const onData = () => void attempt();
      const onClose = () => void (attempt() || done(() => reject(new Error(`connection closed while waiting for ${what}; the server sent:\n${this.snapshot().text}`))));
      if (attempt()) return;
      socket.on('data', onData);
      socket.once('close', onClose);
      timer = setTimeout(() => done(() => reject(new Error(`timed out waiting for ${what}; the server sent:\n${this.snapshot().text}`))), timeoutMs);
    });
  }

  /** The server's stream header (waits for it). */
  header(): Promise<NonNullable<ServerStreamSnapshot['header']>> {
    return this.wait((s) => s.header ?? undefined, 'the server stream header');
  }

  /** The next top-level element the server sends on this stream. */
  async next(what = 'the next element from the server'): Promise<Element> {
    const element = await this.wait((s) => s.elements[this.taken], what);
    this.taken++;
    return element;
  }

  /** Elements of the current stream not yet taken with next() (without waiting). */
  unread(): Element[] {
    return this.snapshot().elements.slice(this.taken);
  }

  /** Resolves when the connection is closed (the TLS socket after STARTTLS). */
  get closed(): Promise<void> {
    const socket = this.client.socket;
    if (socket.closed) return Promise.resolve();
    return new Promise((resolve) => socket.once('close', () => resolve()));
  }

  /** Forgets the current stream's output: what comes next is a new stream (after SASL success, RFC 6120 §6.4.6). */
  restart(): void {
    this.base = this.client.received.length;
    this.taken = 0;
  }

  /** Sends a stream header and returns the server's header and features (RFC 6120 §4.2, §4.3.2). */
  async open(to = 'localhost'): Promise<{ header: NonNullable<ServerStreamSnapshot['header']>; features: Element }> {
    this.send(RawClient.header(to));
    const header = await this.header();
    const features = await this.next('<stream:features/>');
    assert.equal(features.name, 'stream:features', `expected <stream:features/>, got ${features.toString()}`);
    assert.equal(features.ns, NS.streams);
    return { header, features };
  }

  /**
   * RFC 6120 §5.4.2/§5.4.3.3: <starttls/>, <proceed/>, TLS handshake; a new stream view begins. maxVersion pins the
   * TLS version; pipelined is plaintext sent in the same write right after <starttls/> (an injection attempt);
   * beforeHandshake runs once <proceed/> is in, just before the ClientHello goes out.
   */
  async startTls(options: { maxVersion?: tls.SecureVersion; pipelined?: string; beforeHandshake?: () => void } = {}): Promise<void> {
    this.send(`<starttls xmlns='${NS.tls}'/>` + (options.pipelined ?? ''));
    const proceed = await this.next('<proceed/>');
    assert.equal(`${proceed.ns} ${proceed.name}`, `${NS.tls} proceed`, `expected <proceed/>, got ${proceed.toString()}`);
    options.beforeHandshake?.();
    const previous = tls.DEFAULT_MAX_VERSION;
    // RawClient.startTls calls tls.connect synchronously, which reads the default there and then.
    if (options.maxVersion) tls.DEFAULT_MAX_VERSION = options.maxVersion;
    let upgrading: Promise<void>;
    try {
      upgrading = this.client.startTls();
    } finally {
      tls.DEFAULT_MAX_VERSION = previous;
    }
    await upgrading;
    // RawClient.startTls clears client.received.
    this.base = 0;
    this.taken = 0;
  }

  close(): void {
    this.client.close();
  }
}

/** The hash a SCRAM mechanism name uses. */
function scramHash(mechanism: string): HashName {
  const match = /^SCRAM-(SHA-(?:1|256|512))(?:-PLUS)?$/.exec(mechanism);
  if (!match) throw new Error(`not a SCRAM mechanism: ${mechanism}`);
  return match[1] as HashName;
}

export interface SaslOptions {
  username: string;
  password: string;
  mechanism: MechanismName;
  /** For -PLUS: the binding type (default: tls-exporter on TLS 1.3, else tls-server-end-point). */
  cbType?: ChannelBindingType;
  /** For -PLUS: binding data to send instead of the channel's own (to test that the server checks it). */
  cbData?: Buffer;
  /** SCRAM without -PLUS: the gs2 flag ('y' claims the server could not bind, RFC 5802 §6). */
  cbFlag?: 'n' | 'y';
  authzid?: string;
}

export interface SaslResult {
  success: Element;
  /** SCRAM: whether the server's signature (v=) in <success/> verified (RFC 5802 §3); null for PLAIN. */
  serverVerified: boolean | null;
  cbType: ChannelBindingType | null;
}

/** Runs one SASL exchange on a stream that offered mechanisms; throws SaslFailure on <failure/>. Does not restart the stream. */
export async function authenticate(stream: RawStream, options: SaslOptions): Promise<SaslResult> {
  const { mechanism } = options;
  const expectSaslElement = async (names: string[]): Promise<Element> => {
    const element = await stream.next(`one of ${names.join(', ')}`);
    if (element.ns === NS.sasl && element.localName === 'failure') {
      const condition = element.elements().find((e) => e.localName !== 'text')?.localName ?? '(none)';
      throw new SaslFailure(condition, element);
    }
    assert.ok(element.ns === NS.sasl && names.includes(element.localName), `expected ${names.join(' or ')}, got ${element.toString()}`);
    return element;
  };
  if (mechanism === 'PLAIN') {
    // RFC 4616 §2: [authzid] NUL authcid NUL passwd
    const message = Buffer.from(`${options.authzid ?? ''}\0${options.username}\0${options.password}`, 'utf8');
    stream.send(xml('auth', { xmlns: NS.sasl, mechanism }, message.toString('base64')).toString());
    const success = await expectSaslElement(['success']);
    return { success, serverVerified: null, cbType: null };
  }
  const plus = mechanism.endsWith('-PLUS');
  let cbType: ChannelBindingType | null = null;
  let cbData: Buffer | undefined;
  if (plus) {
    const socket = stream.socket;
    assert.ok(socket instanceof tls.TLSSocket, '-PLUS mechanisms need TLS');
    cbType = options.cbType ?? (socket.getProtocol() === 'TLSv1.3' ? 'tls-exporter' : 'tls-server-end-point');
    cbData = options.cbData ?? tlsChannelBinding(socket, cbType, 'client') ?? undefined;
    assert.ok(cbData, `no ${cbType} channel binding data on this connection`);
  }
  const scram = new ScramClient({
    hash: scramHash(mechanism),
    username: options.username,
    password: options.password,
    ...(plus ? { cbType: cbType!, cbData } : { cbFlag: options.cbFlag ?? 'n' }),
    ...(options.authzid !== undefined && { authzid: options.authzid }),
  });
  stream.send(xml('auth', { xmlns: NS.sasl, mechanism }, scram.first().toString('base64')).toString());
  const challenge = await expectSaslElement(['challenge']);
  const final = await scram.final(Buffer.from(challenge.text(), 'base64'));
  stream.send(xml('response', { xmlns: NS.sasl }, final.toString('base64')).toString());
  const success = await expectSaslElement(['success']);
  // RFC 6120 §6.3.10: SCRAM's server-final-message rides in <success/> as additional data.
  const serverVerified = scram.verifyServer(Buffer.from(success.text(), 'base64'));
  return { success, serverVerified, cbType };
}

/** RFC 6120 §7: binds a resource (or lets the server pick one) and returns the full JID the server assigned. */
export async function bindResource(stream: RawStream, resource?: string, id = 'bind-1'): Promise<string> {
  stream.send(xml('iq', { type: 'set', id }, xml('bind', { xmlns: NS.bind }, resource !== undefined ? xml('resource', {}, resource) : null)).toString());
  const result = await stream.next('the bind result');
  assert.equal(result.name, 'iq', `expected the bind result, got ${result.toString()}`);
  assert.equal(result.attrs.id, id);
  assert.equal(result.attrs.type, 'result', `binding failed: ${result.toString()}`);
  const jid = result.getChild('bind', NS.bind)?.getChildText('jid', NS.bind);
  assert.ok(jid, `no <jid/> in ${result.toString()}`);
  return jid;
}

export interface RawLoginOptions {
  username: string;
  password?: string;
  /** Default SCRAM-SHA-256. */
  mechanism?: MechanismName;
  cbType?: ChannelBindingType;
  resource?: string;
  /** Connect to the direct TLS port (XEP-0368) instead of using STARTTLS. */
  directTls?: boolean;
  /** Pin the TLS version of the STARTTLS upgrade (e.g. 'TLSv1.2' to test without tls-exporter). */
  tlsMaxVersion?: tls.SecureVersion;
}

export interface RawLogin {
  stream: RawStream;
  client: RawClient;
  /** The full JID the server bound. */
  jid: string;
  /** The features offered once TLS was on (mechanisms, channel binding types, ...). */
  tlsFeatures: Element;
  sasl: SaslResult;
}

/** Connects, secures (STARTTLS or direct TLS), authenticates, restarts the stream and binds a resource. */
export async function rawLogin(server: TestServer, options: RawLoginOptions): Promise<RawLogin> {
  const stream = await RawStream.connect(options.directTls ? server.tlsPort : server.port, { tls: options.directTls });
  try {
    if (!options.directTls) {
      const { features } = await stream.open(server.domain);
      assert.ok(features.getChild('starttls', NS.tls), `no <starttls/> offered: ${features.toString()}`);
      await stream.startTls({ maxVersion: options.tlsMaxVersion });
    }
    const { features: tlsFeatures } = await stream.open(server.domain);
    const sasl = await authenticate(stream, {
      username: options.username,
      password: options.password ?? 'secret-password',
      mechanism: options.mechanism ?? 'SCRAM-SHA-256',
      cbType: options.cbType,
    });
    if (sasl.serverVerified === false) throw new Error(`the server's SCRAM signature did not verify: ${sasl.success.toString()}`);
    // RFC 6120 §6.4.6: after <success/> the client restarts the stream.
    stream.restart();
    const { features } = await stream.open(server.domain);
    assert.ok(features.getChild('bind', NS.bind), `no <bind/> offered: ${features.toString()}`);
    const jid = await bindResource(stream, options.resource);
    return { stream, client: stream.client, jid, tlsFeatures, sasl };
  } catch (err) {
    stream.close();
    throw err;
  }
}

/**
 * Waits for the stream to end and checks its last element is a stream error (RFC 6120 §4.9.2) with exactly one
 * defined condition, `condition`, in urn:ietf:params:xml:ns:xmpp-streams, optionally a <text/> in the same
 * namespace, and nothing else; that </stream:stream> follows it; and that the server closes the TCP connection.
 */
export async function expectStreamError(stream: RawStream, condition: string): Promise<{ snapshot: ServerStreamSnapshot; error: Element; text: string | undefined }> {
  const snapshot = await stream.wait((s) => (s.ended ? s : undefined), `a <${condition}/> stream error and </stream:stream>`);
  const error = snapshot.elements.at(-1);
  assert.ok(error && error.name === 'stream:error' && error.ns === NS.streams, `expected <stream:error/> before </stream:stream>, the server sent:\n${snapshot.text}`);
  const children = error.elements();
  const conditions = children.filter((c) => c.localName !== 'text');
  assert.deepEqual(conditions.map((c) => `{${c.ns}}${c.name}`), [`{${NS.streamErrors}}${condition}`], `wrong stream error condition in ${error.toString()}`);
  assert.equal(conditions[0]!.children.length, 0, 'a defined condition element is empty');
  const texts = children.filter((c) => c.localName === 'text');
  assert.ok(texts.length <= 1, 'at most one <text/>');
  for (const t of texts) assert.equal(t.ns, NS.streamErrors, '<text/> is qualified by the streams error namespace');
  await stream.closed;
  return { snapshot, error, text: texts[0]?.text() };
}
