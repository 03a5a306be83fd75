// Test helpers: a real Quire server on free loopback ports with its own data folder,
// and real clients (@xmpp/client, raw sockets) that talk to it.
import { mkdtempSync, rmSync, createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import tls from 'node:tls';
import { StringDecoder } from 'node:string_decoder';
import { client, xml as xmppXml } from '@xmpp/client';
import { loadConfigText } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/start.js';
import type { StorageBackend } from '../../src/core/storage-api.js';
import { StorageTracker } from './tracked-storage.js';

// The test servers use a self-signed certificate generated per data folder; clients accept it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
process.removeAllListeners('warning');

export interface TestServer {
  running: RunningServer;
  domain: string;
  port: number;
  tlsPort: number;
  /** The web listeners' ports (0 when no enabled module serves HTTP). */
  httpPort: number;
  httpsPort: number;
  dataDir: string;
  /** Creates an account and returns its bare JID. */
  createUser(name: string, password?: string): Promise<string>;
  /**
   * Waits until the server has finished what the stanzas sent so far caused. `roundTrip` (pings from the clients
   * involved: the server answers each after what that client sent before it) is repeated until a round starts no
   * storage operation and none is left in flight, since storage is where that work waits.
   */
  settle(roundTrip: () => Promise<unknown>): Promise<void>;
  /** Stops the server; the data folder is removed unless keepData is set (to restart on it). */
  stop(options?: { keepData?: boolean }): Promise<void>;
}

export interface TestServerOptions {
  /** YAML for the `modules:` section (default: the modules of the built-in config). */
  modules?: string;
  /** Extra top-level YAML appended to the config. */
  extra?: string;
  tlsRequired?: boolean;
  /** Reuse the data folder of a server stopped with keepData (a restart). */
  dataDir?: string;
  /** Puts something between the server and its storage (a backend that lacks a capability, say). */
  wrapStorage?: (backend: StorageBackend) => StorageBackend;
}

let counter = 0;

/**
 * With QUIRE_TEST_STORAGE=postgres the end-to-end suite runs on PostgreSQL (npm test does one such pass): each
 * server gets its own schema, named in its data folder so that a restart on the same folder finds its data.
 */
async function testStorage(dataDir: string): Promise<{ yaml: string; drop(): Promise<void> }> {
  if (process.env.QUIRE_TEST_STORAGE !== 'postgres') return { yaml: '', drop: async () => {} };
  const base = process.env.QUIRE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const marker = join(dataDir, 'pg-schema');
  const schema = existsSync(marker) ? readFileSync(marker, 'utf8') : `quire_e2e_${randomBytes(6).toString('hex')}`;
  writeFileSync(marker, schema);
  const { default: postgres } = await import('postgres');
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await admin.end();
  const url = new URL(base);
  url.searchParams.set('search_path', schema);
  return {
    yaml: `storage: { backend: postgres, url: ${JSON.stringify(url.toString())} }`,
    async drop() {
      const sql = postgres(base, { max: 1, onnotice: () => {} });
      await sql.unsafe(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await sql.end();
    },
  };
}

/**
 * With QUIRE_TEST_NETWORK_WORKERS=N the servers carry their client connections in N network worker processes
 * (npm test runs the transport-heavy files once that way), unless a test sets network_workers itself.
 */
function networkWorkersYaml(extra = ''): string {
  const workers = process.env.QUIRE_TEST_NETWORK_WORKERS;
  return workers && !/^network_workers:/m.test(extra) ? `network_workers: ${Number(workers)}` : '';
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'quire-test-'));
  const storage = await testStorage(dataDir);
  const yaml = [
    'hosts: [localhost]',
    `data_dir: ${JSON.stringify(dataDir)}`,
    'listeners:',
    '  c2s: { host: 127.0.0.1, port: 0 }',
    '  c2s_tls: { host: 127.0.0.1, port: 0 }',
    '  http: { host: 127.0.0.1, port: 0 }',
    '  https: { host: 127.0.0.1, port: 0 }',
    `tls: { required: ${options.tlsRequired ?? true} }`,
    storage.yaml,
    networkWorkersYaml(options.extra),
    'log: { level: debug, format: json }',
    options.modules ?? 'modules:\n  roster:\n  presence:\n  disco:\n  ping:\n  version:\n  time:\n  register: { registrations_per_hour: 0 }',
    options.extra ?? '',
  ].join('\n');
  const loaded = loadConfigText(yaml, `test-${++counter}.yaml`, dataDir);
  const tracker = new StorageTracker();
  const running = await startServer(loaded, { logDestination: createWriteStream(join(dataDir, 'server.log'), { flags: 'a' }), wrapStorage: (backend) => tracker.wrap(options.wrapStorage ? options.wrapStorage(backend) : backend) });
  return {
    running,
    domain: 'localhost',
    port: running.ports.c2s,
    tlsPort: running.ports.c2s_tls,
    httpPort: running.ports.http ?? 0,
    httpsPort: running.ports.https ?? 0,
    dataDir,
    async createUser(name, password = 'secret-password') {
      await running.server.accounts.create('localhost', name, password);
      return `${name}@localhost`;
    },
    async settle(roundTrip) {
      // Bounded: a server that keeps storage busy by itself (timers) must not hang a test.
      for (let round = 0; round < 50; round++) {
        // What is in flight finishes and writes what it writes; the round trips then come back after all of it.
        await tracker.quiet();
        const started = tracker.started;
        await roundTrip();
        await tracker.quiet();
        if (tracker.started === started) return;
      }
    },
    async stop({ keepData = false } = {}) {
      await running.stop();
      if (!keepData) await storage.drop();
      if (!keepData && !process.env.QUIRE_KEEP_TEST_DATA) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export type XmppClient = ReturnType<typeof client>;
export { xmppXml };

/** Logs in with @xmpp/client over STARTTLS and SCRAM-SHA-1; resolves once the resource is bound. */
export async function connectClient(server: TestServer, username: string, password = 'secret-password', resource?: string): Promise<XmppClient> {
  const xmpp = client({ service: `xmpp://127.0.0.1:${server.port}`, domain: server.domain, username, password, resource });
  // The default 2 s per step is too short on a loaded CI machine where the server shares the process.
  Object.assign(xmpp, { timeout: 20_000 });
  xmpp.on('error', () => {});
  // The reconnect module would hide failures the tests want to see.
  xmpp.reconnect.stop();
  await xmpp.start();
  return xmpp;
}

/** Resolves with the next stanza the client receives that matches. */
export function nextStanza(xmpp: XmppClient, match: (stanza: import('@xmpp/xml').Element) => boolean): Promise<import('@xmpp/xml').Element> {
  return new Promise((resolve) => {
    const listener = (stanza: import('@xmpp/xml').Element) => {
      if (!match(stanza)) return;
      xmpp.removeListener('stanza', listener);
      resolve(stanza);
    };
    xmpp.on('stanza', listener);
  });
}

/** A raw connection that collects everything the server sends, for stream-level tests. */
export class RawClient {
  socket: net.Socket;
  received = '';
  private waiters: { test: (s: string) => boolean; resolve: (s: string) => void }[] = [];
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  private attach(socket: net.Socket): void {
    // A character split across reads must not be garbled.
    const decoder = new StringDecoder('utf8');
    socket.on('data', (chunk: Buffer) => {
      this.received += decoder.write(chunk);
      this.check();
    });
    socket.on('error', () => {});
  }

  private check(): void {
    this.waiters = this.waiters.filter((w) => {
      if (!w.test(this.received)) return true;
      w.resolve(this.received);
      return false;
    });
  }

  static async connect(port: number, options: { tls?: boolean } = {}): Promise<RawClient> {
    const socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['xmpp-client'] })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Resolves when everything received so far contains the text (or matches the regex). */
  waitFor(what: string | RegExp): Promise<string> {
    const test = typeof what === 'string' ? (s: string) => s.includes(what) : (s: string) => what.test(s);
    if (test(this.received)) return Promise.resolve(this.received);
    return new Promise((resolve) => {
      this.waiters.push({ test, resolve });
    });
  }

  /** Upgrades to TLS after <proceed/>. */
  async startTls(): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, servername: 'localhost', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.received = '';
    this.attach(secure);
  }

  /** The stream header a client opens with. */
  static header(to = 'localhost', extra = ''): string {
    return `<?xml version='1.0'?><stream:stream to='${to}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'${extra}>`;
  }

  close(): void {
    this.socket.destroy();
  }
}
