// Client connections over TCP: STARTTLS on the c2s port (RFC 6120 §5) and direct TLS (XEP-0368).
import net from 'node:net';
import tls from 'node:tls';
import { ClientStream, type Connection } from '../core/stream/c2s.js';
import type { Logger } from '../core/logger.js';
import type { Server } from '../core/server.js';
import { X509Certificate } from 'node:crypto';
import { serverEndPointBinding, tlsChannelBinding, type ChannelBindingType } from '../core/sasl/index.js';

export interface TcpListenerOptions {
  host: string;
  port: number;
  /** 'starttls': plain TCP upgraded by STARTTLS; 'direct-tls': TLS from the first byte (XEP-0368). */
  mode: 'starttls' | 'direct-tls';
  secureContext: tls.SecureContext | null;
  /** The certificate and key (PEM) of direct TLS, for clients that send no SNI (connecting to an address). */
  certificate?: { cert: string; key: string };
}

/** How long a closing connection may take to say goodbye before it is destroyed. */
const CLOSE_GRACE_MS = 3000;

/** What a connection's bytes go to: the XMPP stream, or the link to the core process in a network worker. */
export interface ConnectionSink {
  receive(chunk: Buffer): void;
  disconnected(): void;
}

/** The inbound rate limit of every connection (ServerLimits' bytesPerSecond and burstBytes). */
export interface RateLimit {
  bytesPerSecond: number;
  burstBytes: number;
}

/** A client socket: batched writes, backpressure both ways, an inbound rate limit and STARTTLS in place. */
export class TcpConnection implements Connection {
  private socket: net.Socket;
  private corked = false;
  private tokens: number;
  private lastRefill = Date.now();
  private throttled = false;
  /** Reading paused from outside (a network worker whose link to the core is backed up). */
  private held = false;
  private exporterBinding: Buffer | null | undefined;
  readonly remoteAddress: string;
  secure: boolean;
  stream!: ConnectionSink;

  constructor(
    socket: net.Socket,
    private limits: RateLimit,
    private log: Logger,
    private secureContext: tls.SecureContext | null,
    /** tls-server-end-point data of the certificate this connection's TLS uses (serverEndPointOf), or null. */
    private serverEndPoint: Buffer | null,
  ) {
    this.socket = socket;
    this.secure = socket instanceof tls.TLSSocket;
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.tokens = limits.burstBytes;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 60_000);
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.on('data', this.onData);
    socket.on('drain', this.onDrain);
    socket.once('close', this.onClose);
    socket.on('error', this.onError);
  }

  private detach(socket: net.Socket): void {
    socket.off('data', this.onData);
    socket.off('drain', this.onDrain);
    socket.off('close', this.onClose);
    socket.off('error', this.onError);
  }

  private onData = (chunk: Buffer): void => {
    this.stream.receive(chunk);
    this.rateLimit(chunk.length);
  };

  /** Token bucket on inbound bytes: a flooding client is paused, not buffered. */
  private rateLimit(bytes: number): void {
    const limits = this.limits;
    const now = Date.now();
    this.tokens = Math.min(limits.burstBytes, this.tokens + ((now - this.lastRefill) * limits.bytesPerSecond) / 1000);
    this.lastRefill = now;
    this.tokens -= bytes;
    if (this.tokens >= 0 || this.throttled) return;
    this.throttled = true;
    this.socket.pause();
    const wait = Math.ceil((-this.tokens / limits.bytesPerSecond) * 1000);
    setTimeout(() => {
      this.throttled = false;
      this.resumeIfClear();
    }, wait).unref();
  }

  private onDrain = (): void => {
    this.resumeIfClear();
  };

  /** Reading resumes only when nothing holds it back: the rate limit, unread replies, or hold(). */
  private resumeIfClear(): void {
    if (!this.throttled && !this.held && !this.socket.writableNeedDrain) this.socket.resume();
  }

  /** Stops (true) or restarts (false) reading from the client, whatever the rate limit says. */
  hold(on: boolean): void {
    this.held = on;
    if (on) this.socket.pause();
    else this.resumeIfClear();
  }

  private onClose = (): void => {
    this.stream.disconnected();
  };

  private onError = (err: Error): void => {
    this.log.debug({ err, remote: this.remoteAddress }, 'connection error');
  };

  get canStartTls(): boolean {
    return !this.secure && this.secureContext !== null;
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  write(data: string | Buffer): void {
    if (this.socket.destroyed) return;
    // Writes made in the same tick leave in one packet.
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(this.uncork);
    }
    // A client that does not read its replies stops being read until it catches up.
    if (!this.socket.write(data)) this.socket.pause();
  }

  private uncork = (): void => {
    this.corked = false;
    this.socket.uncork();
  };

  async startTls(): Promise<void> {
    const raw = this.socket;
    // Bytes that arrive from now on belong to the TLS handshake, not to the old stream.
    this.detach(raw);
    // <proceed/> must reach the client in clear before the handshake starts. 'drain' only follows a write
    // that returned false, so wait for an empty write's callback: writes complete in order.
    if (this.corked) this.uncork();
    if (raw.writableLength > 0) await new Promise<void>((resolve) => raw.write('', () => resolve()));
    const secured = new tls.TLSSocket(raw, { isServer: true, secureContext: this.secureContext!, ALPNProtocols: ['xmpp-client'] });
    this.attach(secured);
    raw.on('error', this.onError);
    this.secure = true;
    this.exporterBinding = undefined;
    await new Promise<void>((resolve, reject) => {
      secured.once('secure', resolve);
      secured.once('error', reject);
      secured.once('close', () => reject(new Error('closed during the TLS handshake')));
    });
  }

  end(): void {
    if (this.corked) this.uncork();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }

  channelBinding(type: ChannelBindingType): Buffer | null {
    if (!(this.socket instanceof tls.TLSSocket)) return null;
    if (type === 'tls-server-end-point') return this.serverEndPoint;
    if (this.exporterBinding === undefined) this.exporterBinding = tlsChannelBinding(this.socket, 'tls-exporter');
    return this.exporterBinding;
  }

  channelBindingTypes(): ChannelBindingType[] {
    if (!(this.socket instanceof tls.TLSSocket)) return [];
    const types: ChannelBindingType[] = [];
    if (this.socket.getProtocol() === 'TLSv1.3') types.push('tls-exporter');
    if (this.serverEndPoint) types.push('tls-server-end-point');
    return types;
  }
}

/**
 * RFC 5929 tls-server-end-point data of a PEM certificate (its first, the server's own): the same for every
 * connection, so worked out once per listener rather than read back from each TLS socket.
 */
export function serverEndPointOf(certificatePem: string): Buffer | null {
  return serverEndPointBinding(Buffer.from(new X509Certificate(certificatePem).raw));
}

function accept(server: Server, socket: net.Socket, secureContext: tls.SecureContext | null, serverEndPoint: Buffer | null): void {
  if (server.isShuttingDown) {
    socket.destroy();
    return;
  }
  const connection = new TcpConnection(socket, server.options.limits, server.log, secureContext, serverEndPoint);
  connection.stream = new ClientStream(server, connection);
  connection.attach(socket);
}

/** Starts listening; resolves with the bound net.Server once it accepts connections. */
export async function listenTcp(server: Server, options: TcpListenerOptions): Promise<net.Server> {
  let listener: net.Server;
  const serverEndPoint = options.certificate ? serverEndPointOf(options.certificate.cert) : null;
  if (options.mode === 'direct-tls') {
    if (!options.secureContext || !options.certificate) throw new Error('direct TLS needs a certificate');
    const context = options.secureContext;
    // One certificate for every name, with or without SNI.
    listener = tls.createServer({ cert: options.certificate.cert, key: options.certificate.key, minVersion: 'TLSv1.2', ALPNProtocols: ['xmpp-client'] }, (socket) => accept(server, socket, context, serverEndPoint));
    // A failed handshake is the client's problem; it must not reach the process.
    listener.on('tlsClientError', (err) => server.log.debug({ err }, 'TLS handshake failed'));
  } else {
    listener = net.createServer((socket) => accept(server, socket, options.secureContext, options.secureContext ? serverEndPoint : null));
  }
  listener.maxConnections = 20_000;
  await listen(listener, options.host, options.port);
  return listener;
}

/** Resolves once the listener accepts connections; rejects with the listen error (EADDRINUSE, EACCES). */
export async function listen(listener: net.Server, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    listener.once('error', reject);
    listener.listen({ host, port }, () => {
      listener.off('error', reject);
      resolve();
    });
  });
}
