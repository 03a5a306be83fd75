// Network workers (config: network_workers): child processes that carry the client connections, so that socket
// I/O and TLS run on other cores while this process runs the XMPP streams. The core accepts each connection and
// hands the socket to a worker in turn; from then on the worker's pipe carries its bytes both ways in frames
// (worker-link.ts), and the stream here sees an ordinary Connection. All account state stays in this process.
import { fork, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Logger } from '../core/logger.js';
import type { Server } from '../core/server.js';
import type { ChannelBindingType } from '../core/sasl/index.js';
import { ClientStream, type Connection } from '../core/stream/c2s.js';
import { listen } from './tcp.js';
import type { ConnectionMessage, WorkerSettings } from './network-worker.js';
import { CLOSED, END, FrameReader, FrameWriter, OPENED, OVERFLOWED, RECEIVED, SECURED, SEND, START_TLS, type ConnectionInfo, type TlsInfo } from './worker-link.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./network-worker.js', import.meta.url));
/** A worker that dies is started again, but not in a loop: at most this many restarts per minute. */
const MAX_RESTARTS_PER_MINUTE = 5;

/** A client connection carried by a worker, as the stream sees it. */
class RemoteConnection implements Connection {
  readonly remoteAddress: string;
  secure: boolean;
  readonly canStartTlsInitially: boolean;
  stream!: ClientStream;
  private overflowed = false;
  private tls: TlsInfo | null;
  private tlsStarted: { resolve: () => void; reject: (err: Error) => void } | null = null;

  constructor(
    private link: WorkerLink,
    private id: number,
    info: ConnectionInfo,
  ) {
    this.remoteAddress = info.remoteAddress;
    this.tls = info.tls;
    this.secure = info.tls !== null;
    this.canStartTlsInitially = info.canStartTls;
  }

  get canStartTls(): boolean {
    return !this.secure && this.canStartTlsInitially;
  }

  /** Unsent bytes live in the worker; it says when a client has fallen too far behind. */
  get bufferedBytes(): number {
    return this.overflowed ? Number.POSITIVE_INFINITY : 0;
  }

  write(data: string): void {
    this.link.writer.push(this.id, SEND, data);
  }

  startTls(): Promise<void> {
    this.link.writer.push(this.id, START_TLS);
    return new Promise((resolve, reject) => (this.tlsStarted = { resolve, reject }));
  }

  end(): void {
    this.link.writer.push(this.id, END);
  }

  channelBinding(type: ChannelBindingType): Buffer | null {
    const data = this.tls?.bindings[type];
    return data ? Buffer.from(data, 'base64') : null;
  }

  channelBindingTypes(): ChannelBindingType[] {
    return (this.tls?.bindingTypes ?? []) as ChannelBindingType[];
  }

  secured(info: TlsInfo): void {
    this.tls = info;
    this.secure = true;
    this.tlsStarted?.resolve();
    this.tlsStarted = null;
  }

  overflow(): void {
    this.overflowed = true;
  }

  closed(): void {
    this.tlsStarted?.reject(new Error('closed during the TLS handshake'));
    this.tlsStarted = null;
    this.stream.disconnected();
  }
}

/** One worker process and the connections it carries. */
class WorkerLink {
  readonly writer: FrameWriter;
  private connections = new Map<number, RemoteConnection>();
  private reader = new FrameReader((id, kind, payload) => this.onFrame(id, kind, payload));

  constructor(
    private server: Server,
    readonly child: ChildProcess,
  ) {
    const pipe = child.stdio[4] as net.Socket;
    this.writer = new FrameWriter(pipe);
    pipe.on('data', (chunk: Buffer) => this.reader.feed(chunk));
    pipe.on('error', (err) => server.log.debug({ err }, 'network worker pipe error'));
  }

  private onFrame(id: number, kind: number, payload: Buffer): void {
    if (kind === RECEIVED) {
      this.connections.get(id)?.stream.receive(payload);
      return;
    }
    if (kind === OPENED) {
      const connection = new RemoteConnection(this, id, JSON.parse(payload.toString()) as ConnectionInfo);
      this.connections.set(id, connection);
      connection.stream = new ClientStream(this.server, connection);
      return;
    }
    const connection = this.connections.get(id);
    if (!connection) return;
    if (kind === CLOSED) {
      this.connections.delete(id);
      connection.closed();
    } else if (kind === SECURED) connection.secured(JSON.parse(payload.toString()) as TlsInfo);
    else if (kind === OVERFLOWED) connection.overflow();
  }

  /** The worker died: its clients lost their connections. */
  lost(): void {
    const connections = [...this.connections.values()];
    this.connections.clear();
    for (const connection of connections) connection.closed();
  }
}

export interface NetworkWorkersOptions {
  count: number;
  settings: WorkerSettings;
}

export class NetworkWorkers {
  private links: WorkerLink[] = [];
  private next = 0;
  private stopping = false;
  private restarts: number[] = [];
  private log: Logger;

  constructor(
    private server: Server,
    private options: NetworkWorkersOptions,
  ) {
    this.log = server.log.child({ component: 'network-workers' });
  }

  async start(): Promise<void> {
    await Promise.all(Array.from({ length: this.options.count }, (_, slot) => this.spawn(slot)));
  }

  private async spawn(slot: number): Promise<void> {
    const child = fork(WORKER_SCRIPT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc', 'pipe'] });
    const link = new WorkerLink(this.server, child);
    this.links[slot] = link;
    child.on('exit', (code, signal) => {
      link.lost();
      if (this.stopping) return;
      this.log.error({ pid: child.pid, code, signal }, 'a network worker exited; its clients were disconnected');
      const now = Date.now();
      this.restarts = this.restarts.filter((t) => now - t < 60_000);
      if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
        this.log.error('network workers keep exiting: not starting another; connections go to the others');
        this.links.splice(this.links.indexOf(link), 1);
        return;
      }
      this.restarts.push(now);
      void this.spawn(this.links.indexOf(link));
    });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.send({ type: 'settings', ...this.options.settings });
  }

  /** Hands an accepted socket (accepted paused: nothing read here) to the next worker. */
  dispatch(socket: net.Socket, mode: ConnectionMessage['mode']): void {
    if (this.links.length === 0 || this.server.isShuttingDown) {
      socket.destroy();
      return;
    }
    const link = this.links[this.next++ % this.links.length];
    const message: ConnectionMessage = { type: 'connection', mode };
    link.child.send(message, socket, (err) => {
      if (err) socket.destroy();
    });
  }

  /** After the streams have closed: the workers leave once their sockets are closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      this.links.map(
        (link) =>
          new Promise<void>((resolve) => {
            if (link.child.exitCode !== null || link.child.signalCode !== null) return resolve();
            link.child.once('exit', () => resolve());
            link.child.send({ type: 'stop' });
            setTimeout(() => link.child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}

/** Listens like listenTcp, but each accepted socket goes to a network worker. */
export async function listenForWorkers(workers: NetworkWorkers, options: { host: string; port: number; mode: ConnectionMessage['mode'] }): Promise<net.Server> {
  const listener = net.createServer({ pauseOnConnect: true }, (socket) => workers.dispatch(socket, options.mode));
  await listen(listener, options.host, options.port);
  return listener;
}
