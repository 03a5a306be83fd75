// A network worker process: it carries client connections for the core process (the socket, TLS, the inbound
// rate limit, write batching and backpressure) so that this work runs on another core. The XMPP streams
// themselves (parsing, SASL, routing, modules) stay in the core. Started by NetworkWorkers, never by hand.
import net from 'node:net';
import tls from 'node:tls';
import pino from 'pino';
import { serverEndPointOf, TcpConnection, type ConnectionSink } from './tcp.js';
import { CLOSED, END, FrameReader, FrameWriter, LINK_FD, OPENED, OVERFLOWED, RECEIVED, SECURED, SEND, START_TLS, type ConnectionInfo, type TlsInfo } from './worker-link.js';

/** The first message from the core: what every connection needs. */
export interface WorkerSettings {
  limits: { bytesPerSecond: number; burstBytes: number; maxOutboundBuffer: number; connectionTimeout: number };
  certificate: { cert: string; key: string } | null;
  logLevel: string;
}

/** A client listener to open (the sockets are shared with the other workers through node:cluster). */
export interface ListenMessage {
  type: 'listen';
  name: string;
  host: string;
  port: number;
  mode: 'starttls' | 'direct-tls';
}

let settings: WorkerSettings;
let secureContext: tls.SecureContext | null = null;
let serverEndPoint: Buffer | null = null;
/** Log records go to the core, which writes them where its own go (its log destination and settings). */
const toCore = { write: (line: string) => process.send?.({ type: 'log', line }) };
let log: pino.Logger = pino({ level: 'info' }, toCore);
const pipe = new net.Socket({ fd: LINK_FD, readable: true, writable: true });
// The core reads slower than the clients write: stop reading the clients until the pipe drains.
const writer = new FrameWriter(pipe, () => holdAll(true));
const connections = new Map<number, Forwarded>();
let nextId = 1;
let holding = false;
let stopping = false;

/** One client connection: its bytes go to the core, the core's frames come back to it. */
class Forwarded implements ConnectionSink {
  overflowed = false;

  constructor(
    readonly id: number,
    readonly connection: TcpConnection,
  ) {}

  receive(chunk: Buffer): void {
    writer.push(this.id, RECEIVED, chunk);
  }

  disconnected(): void {
    if (!connections.delete(this.id)) return;
    writer.push(this.id, CLOSED);
    if (stopping && connections.size === 0) process.exit(0);
  }

  send(data: Buffer): void {
    this.connection.write(data);
    if (!this.overflowed && this.connection.bufferedBytes > settings.limits.maxOutboundBuffer) {
      this.overflowed = true;
      writer.push(this.id, OVERFLOWED);
    }
  }
}

function holdAll(on: boolean): void {
  if (holding === on) return;
  holding = on;
  for (const forwarded of connections.values()) forwarded.connection.hold(on);
}

pipe.on('drain', () => {
  if (holding) holdAll(false);
});

function tlsInfo(socket: TcpConnection): TlsInfo {
  const bindings: TlsInfo['bindings'] = {};
  for (const type of socket.channelBindingTypes()) {
    const data = socket.channelBinding(type);
    if (data) bindings[type] = data.toString('base64');
  }
  return { bindings };
}

async function accept(socket: net.Socket, mode: ListenMessage['mode']): Promise<void> {
  const connection = new TcpConnection(socket, settings.limits, log, secureContext, serverEndPoint);
  const id = nextId++;
  const forwarded = new Forwarded(id, connection);
  if (mode === 'direct-tls') {
    // The handshake comes before the stream, as on a TLS listener; the connection timeout bounds it.
    connection.stream = { receive: () => {}, disconnected: () => {} };
    connection.attach(socket);
    const timer = setTimeout(() => socket.destroy(), settings.limits.connectionTimeout * 1000);
    try {
      await connection.startTls();
    } catch (err) {
      log.debug({ err }, 'TLS handshake failed');
      socket.destroy();
      return;
    } finally {
      clearTimeout(timer);
    }
  } else {
    connection.attach(socket);
  }
  connection.stream = forwarded;
  connections.set(id, forwarded);
  if (holding) connection.hold(true);
  const info: ConnectionInfo = {
    remoteAddress: connection.remoteAddress,
    tls: connection.secure ? tlsInfo(connection) : null,
    canStartTls: connection.canStartTls,
  };
  writer.push(id, OPENED, JSON.stringify(info));
}

const reader = new FrameReader((id, kind, payload) => {
  const forwarded = connections.get(id);
  if (!forwarded) return;
  if (kind === SEND) forwarded.send(payload);
  else if (kind === START_TLS) {
    forwarded.connection.startTls().then(
      () => writer.push(id, SECURED, JSON.stringify(tlsInfo(forwarded.connection))),
      // The socket closes with the failed handshake, and CLOSED tells the core.
      (err: unknown) => log.debug({ err }, 'STARTTLS handshake failed'),
    );
  } else if (kind === END) forwarded.connection.end();
});

pipe.on('data', (chunk: Buffer) => reader.feed(chunk));
// Without the core there is nothing to serve: its end of the pipe closes when it exits.
pipe.on('close', () => process.exit(0));
pipe.on('error', () => process.exit(0));

type CoreMessage = ({ type: 'settings' } & WorkerSettings) | ListenMessage | { type: 'unlisten' } | { type: 'stop' };
const listeners: net.Server[] = [];

function listen({ name, host, port, mode }: ListenMessage): void {
  const listener = net.createServer((socket) => void accept(socket, mode));
  listener.maxConnections = 20_000;
  listener.once('error', (err: NodeJS.ErrnoException) => process.send?.({ type: 'listen-failed', name, port, code: err.code, message: err.message }));
  listener.listen({ host, port }, () => {
    listeners.push(listener);
    process.send?.({ type: 'listening', name, port: (listener.address() as net.AddressInfo).port });
  });
}

process.on('message', (message: CoreMessage) => {
  if (message.type === 'settings') {
    settings = message;
    log = pino({ level: settings.logLevel }, toCore);
    if (settings.certificate) {
      secureContext = tls.createSecureContext({ ...settings.certificate, minVersion: 'TLSv1.2' });
      serverEndPoint = serverEndPointOf(settings.certificate.cert);
    }
  } else if (message.type === 'listen') {
    listen(message);
  } else if (message.type === 'unlisten') {
    for (const listener of listeners.splice(0)) listener.close();
  } else if (message.type === 'stop') {
    for (const listener of listeners.splice(0)) listener.close();
    // The core has ended every stream; leave when their sockets have closed (or after a grace period).
    stopping = true;
    if (connections.size === 0) process.exit(0);
    setTimeout(() => process.exit(0), 5000).unref();
  }
});

// Messages sent before this module ran (ES modules load asynchronously) would be lost: the core waits for this.
process.send?.({ type: 'ready' });
