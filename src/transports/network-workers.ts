// Network workers (config: network_workers): child processes that carry the client connections, so that socket
// I/O and TLS run on other cores while this process runs the XMPP streams. The workers accept from shared
// listening sockets; each worker's pipe carries its connections' bytes both ways in frames (worker-link.ts), and
// the stream here sees an ordinary Connection. All account state stays in this process.
import type { ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import type { Logger } from '../core/logger.js';
import type { Server } from '../core/server.js';
import type { ChannelBindingType } from '../core/sasl/index.js';
import { ClientStream, UNREAD_LIMIT_TEXT, type Connection } from '../core/stream/c2s.js';
import type { WorkerSettings } from './network-worker.js';
import { CLOSED, END, FrameReader, FrameWriter, LINK_FD, OPENED, OVERFLOWED, RECEIVED, SECURED, SEND, START_TLS, type ConnectionInfo, type TlsInfo } from './worker-link.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./network-worker.js', import.meta.url));

/** A worker that dies is started again, but not in a loop: at most this many restarts per minute. */
const MAX_RESTARTS_PER_MINUTE = 5;

/** A client connection carried by a worker, as the stream sees it. */
class RemoteConnection implements Connection {
  readonly remoteAddress: string;
  secure: boolean;
  readonly canStartTlsInitially: boolean;
  stream!: ClientStream;
  private tls: TlsInfo | null;
  private tlsStarted: { resolve: () => void; reject: (err: Error) => void; done: Promise<void> } | null = null;
  /** Bytes that came after the TLS handshake, kept until the stream has taken the upgrade (see secured()). */
  private afterHandshake: Buffer[] | null = null;

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

  /** Unsent bytes live in the worker, which says when a client has fallen too far behind (overflow()). */
  get bufferedBytes(): number {
    return 0;
  }

  write(data: string): void {
    this.link.writer.push(this.id, SEND, data);
  }

  startTls(): Promise<void> {
    this.link.writer.push(this.id, START_TLS);
    let resolve!: () => void;
    let reject!: (err: Error) => void;
    const done = new Promise<void>((res, rej) => ((resolve = res), (reject = rej)));
    this.tlsStarted = { resolve, reject, done };
    return done;
  }

  received(chunk: Buffer): void {
    if (this.afterHandshake) this.afterHandshake.push(chunk);
    else this.stream.receive(chunk);
  }

  end(): void {
    this.link.writer.push(this.id, END);
  }

  channelBinding(type: ChannelBindingType): Buffer | null {
    const data = this.tls?.bindings[type];
    return data ? Buffer.from(data, 'base64') : null;
  }

  channelBindingTypes(): ChannelBindingType[] {
    return Object.keys(this.tls?.bindings ?? {}) as ChannelBindingType[];
  }

  secured(info: TlsInfo): void {
    this.tls = info;
    this.secure = true;
    if (!this.tlsStarted) return;
    // The client's first bytes over TLS can come in the same read as this frame. The stream leaves its
    // 'starting-tls' state in a continuation of startTls()'s promise; this one was attached after it, so it runs
    // after it, and only then are those bytes handed over.
    const { resolve, done } = this.tlsStarted;
    this.tlsStarted = null;
    this.afterHandshake = [];
    resolve();
    void done.then(() => {
      const chunks = this.afterHandshake ?? [];
      this.afterHandshake = null;
      for (const chunk of chunks) this.stream.receive(chunk);
    });
  }

  /** The worker's queue for this client passed the limit: close now rather than at the next write. */
  overflow(): void {
    this.stream.close('policy-violation', UNREAD_LIMIT_TEXT);
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
    const pipe = child.stdio[LINK_FD] as net.Socket;
    // The worker is behind on writing to its clients: read nothing more from it (its clients then wait in turn)
    // until it has caught up.
    this.writer = new FrameWriter(pipe, () => pipe.pause());
    pipe.on('drain', () => pipe.resume());
    pipe.on('data', (chunk: Buffer) => this.reader.feed(chunk));
    pipe.on('error', (err) => server.log.debug({ err }, 'network worker pipe error'));
    // The pipe closes when the worker dies, usually before its exit is reported.
    pipe.on('close', () => this.lost());
  }

  private onFrame(id: number, kind: number, payload: Buffer): void {
    if (kind === RECEIVED) {
      this.connections.get(id)?.received(payload);
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

  send(message: object): void {
    if (this.child.connected) this.child.send(message);
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

/** A client listener opened in every worker. */
export interface WorkerListener {
  name: string;
  host: string;
  port: number;
  mode: 'starttls' | 'direct-tls';
}

type WorkerReply = { type: 'ready' } | { type: 'log'; line: string } | { type: 'listening'; name: string; port: number } | { type: 'listen-failed'; name: string; port: number; code?: string; message: string };

export class NetworkWorkers {
  private links = new Set<WorkerLink>();
  private listeners: WorkerListener[] = [];
  private stopping = false;
  private restarts: number[] = [];
  private log: Logger;

  constructor(
    private server: Server,
    private options: NetworkWorkersOptions,
  ) {
    this.log = server.log.child({ component: 'network-workers' });
  }

  /** Starts the workers, each listening on every listener; resolves with the ports bound (for port 0). */
  async start(listeners: WorkerListener[]): Promise<Record<string, number>> {
    // node:cluster shares one socket per address and port among the workers of this process, so port 0 would
    // give every server in it (tests start several) the same socket. A free port is chosen here instead; should
    // another program take it first, the next one is tried.
    for (let attempt = 1; ; attempt++) {
      const picked = new Set<string>();
      this.listeners = await Promise.all(
        listeners.map(async (listener) => {
          if (listener.port !== 0) return listener;
          picked.add(listener.name);
          return { ...listener, port: await freePort(listener.host) };
        }),
      );
      try {
        // The first worker binds the ports (and reports EADDRINUSE and the like); the others share its sockets.
        const ports = await this.spawn();
        await Promise.all(Array.from({ length: this.options.count - 1 }, () => this.spawn()));
        return ports;
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { listener?: string };
        if (e.code !== 'EADDRINUSE' || !picked.has(e.listener ?? '') || attempt === 5) throw err;
        await this.stop();
        this.stopping = false;
      }
    }
  }

  private async spawn(): Promise<Record<string, number>> {
    // node:cluster lets every worker accept from the same listening sockets, without the connections passing
    // through this process (SCHED_NONE: the kernel hands each connection to one waiting worker). Workers log
    // through this process (the 'log' replies); only a crash's trace goes to stderr.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: WORKER_SCRIPT, args: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc', 'pipe'] }); // the 'pipe' is LINK_FD
    const worker = cluster.fork();
    const link = new WorkerLink(this.server, worker.process);
    this.links.add(link);
    const waiting = new Map<string, { resolve: (port: number) => void; reject: (err: Error) => void }>();
    let ready!: () => void;
    let exited = false;
    const isReady = new Promise<void>((resolve) => (ready = resolve));
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'ready') ready();
      else if (reply.type === 'log') this.relayLog(worker.process.pid ?? 0, reply.line);
      else if (reply.type === 'listening') waiting.get(reply.name)?.resolve(reply.port);
      else if (reply.type === 'listen-failed') waiting.get(reply.name)?.reject(Object.assign(new Error(reply.message), { code: reply.code, port: reply.port, listener: reply.name }));
    });
    worker.on('exit', (code, signal) => {
      link.lost();
      this.links.delete(link);
      for (const { reject } of waiting.values()) reject(new Error(`the network worker exited (${signal ?? code})`));
      exited = true;
      ready();
      if (!this.stopping) this.replace(worker.process.pid, code, signal);
    });
    await isReady;
    if (exited) throw new Error('a network worker exited while starting');
    link.send({ type: 'settings', ...this.options.settings });
    const ports: Record<string, number> = {};
    for (const listener of this.listeners) {
      ports[listener.name] = await new Promise<number>((resolve, reject) => {
        waiting.set(listener.name, { resolve, reject });
        link.send({ type: 'listen', ...listener });
      });
    }
    return ports;
  }

  private replace(pid: number | undefined, code: number | null, signal: string | null): void {
    this.log.error({ pid, code, signal }, 'a network worker exited; its clients were disconnected');
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      this.log.error('network workers keep exiting: not starting another; the others carry the connections');
      return;
    }
    this.restarts.push(now);
    this.spawn().catch((err: unknown) => this.log.error({ err }, 'could not start a network worker'));
  }

  private relayLog(worker: number, line: string): void {
    const { level, msg, time: _time, pid: _pid, hostname: _hostname, ...fields } = JSON.parse(line) as { level: number; msg?: string; [key: string]: unknown };
    const name = (pino.levels.labels[level] ?? 'info') as 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
    this.log[name]({ ...fields, worker }, msg ?? '');
  }

  /** Stops accepting: each worker closes its listeners (the sockets close with the last of them). */
  stopListening(): void {
    for (const link of this.links) link.send({ type: 'unlisten' });
  }

  /** After the streams have closed: the workers leave once their sockets are closed. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.links].map(
        (link) =>
          new Promise<void>((resolve) => {
            const child = link.child;
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            link.send({ type: 'stop' });
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
          }),
      ),
    );
  }
}

/** A port nothing listens on now (the kernel's choice for port 0). */
async function freePort(host: string): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host, port: 0 }, () => resolve());
  });
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
