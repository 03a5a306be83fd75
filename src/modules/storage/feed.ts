// Live changes to the event streams that watch them, after a replay from the change log. Every stream is checked
// again at each change it is sent (the node's access model, the token's expiry), so a reader who loses access stops
// hearing of the node; a deleted node's streams get the deletion and end. Open streams are limited per account and
// per client address.
import type { FastifyReply } from 'fastify';
import type { Logger } from '../../core/logger.js';
import { dateTime } from '../../pubsub/config.js';
import { HttpError } from '../../http/errors.js';
import type { PubSubService } from '../../pubsub/index.js';
import type { ChangeLog, LoggedChange } from './change-log.js';
import { EventStream } from './event-stream.js';
import { vary } from './negotiate.js';
import type { Caller } from './grants.js';
import type { StorageOptions } from './options.js';
import type { Target } from './targets.js';

/** How long EventSource waits before reconnecting (the `retry:` field). */
const RETRY_MS = 3000;

function etag(rev: string): string {
  return `"${rev}"`;
}

/** A change, and the service it happened in (a PEP service may have been reloaded since the stream opened). */
type Live = { change: LoggedChange; service: PubSubService };

class Watcher {
  /** Live changes that arrive while the replay is being read; null once the replay is sent. */
  private pending: Live[] | null = [];
  /** The id of the last event sent; nothing at or below it is sent again. */
  private lastSent = 0;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly target: Target,
    readonly node: string,
    readonly caller: Caller,
    readonly stream: EventStream,
  ) {}

  /** A live change. */
  deliver(live: Live): void {
    if (this.pending) this.pending.push(live);
    else this.enqueue(live);
  }

  /** Sends the replay (or a reset), then what arrived meanwhile, then goes live. */
  async start(replay: LoggedChange[] | { reset: string; id: string } | { from: string }): Promise<void> {
    if ('reset' in replay) {
      this.stream.send({ id: replay.id, event: 'reload', data: { node: this.node, reason: replay.reset } });
      this.lastSent = Number(replay.id);
    } else if ('from' in replay) {
      // No event, only the id: a reader that reconnects resumes from here.
      this.stream.send({ id: replay.from });
      this.lastSent = Number(replay.from);
    } else {
      for (const change of replay) await this.send(change, this.target.service);
    }
    const pending = this.pending ?? [];
    this.pending = null;
    for (const live of pending) this.enqueue(live);
  }

  private enqueue({ change, service }: Live): void {
    this.chain = this.chain.then(() => this.send(change, service)).catch(() => this.stream.end());
  }

  private async send(change: LoggedChange, service: PubSubService): Promise<void> {
    if (!this.stream.isOpen || Number(change.id) <= this.lastSent) return;
    const grant = this.caller.principal?.token;
    if (grant && grant.expiresAt !== null && grant.expiresAt <= Date.now()) return this.stream.end();
    const node = service.nodes.get(change.node);
    if (change.kind !== 'deleted' && (!node || (await service.checkAccess(node, this.caller.jid, 'retrieve')) !== null)) {
      // The reader lost access: it hears nothing more of this node (reconnecting gets it the HTTP error).
      return this.stream.end();
    }
    const data: Record<string, unknown> = { node: change.node };
    if (change.kind === 'published') {
      data.item = change.item;
      data.etag = etag(change.rev ?? '');
      data.published = dateTime(change.at);
      // The publisher, as XMPP notifications show it (§12.21 itemreply), and always to owners.
      const ownerAsks = this.caller.jid !== null && node?.affiliationOf(this.caller.jid.bare) === 'owner';
      if (change.publisher && (node?.config.itemreply === 'publisher' || ownerAsks)) data.publisher = change.publisher;
    }
    if (change.kind === 'retracted') data.items = change.items ?? [];
    this.stream.send({ id: change.id, event: change.kind, data });
    this.lastSent = Number(change.id);
    if (change.kind === 'deleted') this.stream.end();
  }
}

export class ChangeFeed {
  private watchers = new Map<string, Set<Watcher>>();
  private perAccount = new Map<string, number>();
  private perAddress = new Map<string, number>();
  private streams = new Set<EventStream>();

  constructor(
    private readonly changeLog: ChangeLog,
    private readonly options: StorageOptions,
    private readonly log: Logger,
  ) {}

  private key(address: string, node: string): string {
    return address + '\u001f' + node;
  }

  /** Tells the streams watching a node of a change (after the change log has it). */
  dispatch(service: PubSubService, node: string, change: LoggedChange): void {
    const watchers = this.watchers.get(this.key(service.address, node));
    if (!watchers) return;
    const live = { change, service };
    for (const watcher of watchers) watcher.deliver(live);
  }

  /**
   * Serves an event stream on a reply whose access was checked: the changes after `lastEventId` (or from now), then
   * live ones. 429 when the caller has too many streams open.
   */
  async watch(reply: FastifyReply, target: Target, node: string, caller: Caller, address: string, lastEventId: string | undefined): Promise<void> {
    const account = caller.jid?.bare;
    if (account && (this.perAccount.get(account) ?? 0) >= this.options.max_streams_per_account) {
      throw new HttpError(429, 'too-many-streams', `${account} has ${this.options.max_streams_per_account} event streams open already`, { 'Retry-After': '30' });
    }
    if ((this.perAddress.get(address) ?? 0) >= this.options.max_streams_per_ip) {
      throw new HttpError(429, 'too-many-streams', `this address has ${this.options.max_streams_per_ip} event streams open already`, { 'Retry-After': '30' });
    }
    // Taken before the watcher listens: changes after it are the reader's, changes before it are not.
    const from = this.changeLog.now();
    reply.hijack();
    const stream = new EventStream(reply.raw, this.options.max_stream_buffer);
    // Headers set before (CORS) go out with the stream's head, which the stream writes itself.
    vary(reply, 'Authorization');
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(reply.getHeaders())) if (typeof value === 'string') headers[name] = value;
    stream.open(headers, RETRY_MS, this.options.heartbeat_interval * 1000);
    const watcher = new Watcher(target, node, caller, stream);
    const key = this.key(target.address.bare, node);
    let set = this.watchers.get(key);
    if (!set) this.watchers.set(key, (set = new Set()));
    set.add(watcher);
    this.streams.add(stream);
    if (account) this.perAccount.set(account, (this.perAccount.get(account) ?? 0) + 1);
    this.perAddress.set(address, (this.perAddress.get(address) ?? 0) + 1);
    stream.onClose(() => {
      set!.delete(watcher);
      if (set!.size === 0 && this.watchers.get(key) === set) this.watchers.delete(key);
      this.streams.delete(stream);
      if (account) decrement(this.perAccount, account);
      decrement(this.perAddress, address);
    });
    try {
      if (lastEventId === undefined) return await watcher.start({ from });
      const { host, user } = target.service.env;
      const replay = await this.changeLog.since(host, user, node, lastEventId);
      await watcher.start('reset' in replay ? { reset: replay.reset, id: this.changeLog.now() } : replay.changes);
    } catch (err) {
      // Storage failed while replaying: the reader reconnects with its last id and gets the rest then.
      this.log.warn({ err, node }, 'an event stream could not replay the change log');
      stream.end();
    }
  }

  /** Ends every stream (the server is stopping): readers reconnect to another node or later, with their last id. */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.end();
  }
}

function decrement(counts: Map<string, number>, key: string): void {
  const n = (counts.get(key) ?? 1) - 1;
  if (n <= 0) counts.delete(key);
  else counts.set(key, n);
}
