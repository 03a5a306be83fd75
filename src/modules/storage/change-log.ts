// The durable change log of every node, behind the event streams: what changed (an item published with its id and
// revision, items retracted, the node purged, configured, created or deleted), each change with an event id, so a
// reader that lost its connection resumes with Last-Event-ID and misses nothing.
//
// Event ids are decimal numbers that only grow: microseconds since the epoch, or one more than the last id issued
// when changes come faster. So "what came after id N" is a comparison, whatever the node, and ids never repeat after
// a restart. Archive store 'storage-changes', in the service's partition: `with` = node, id = <node>␟<event id>,
// `when` = the millisecond of the id. The log is bounded: at most change_log_max_entries per node (the oldest go
// first) and nothing older than change_log_max_days. When entries are dropped for the count, a watermark row
// (<node>␟trimmed) records the newest dropped id, so a reader whose id is older is told to reload, never silently
// left with a gap. A deleted node's log goes with it.
import type { Logger } from '../../core/logger.js';
import { parseStoredXml } from '../../core/roster.js';
import type { ArchiveStore } from '../../core/storage-api.js';
import { xml } from '../../core/xml/element.js';
import { NS_STORAGE } from './quota.js';

export const CHANGES_STORE = 'storage-changes';
const SEPARATOR = '\u001f';
const WATERMARK = 'trimmed';
/** A node is trimmed at every this many appends (checking its count costs a query); the bound holds within that. */
const TRIM_EVERY = 32;
/** Nodes whose appends are counted; past that the counts start over (trimming comes later, never wrongly). */
const COUNTED_NODES = 10_000;

export type ChangeKind = 'created' | 'published' | 'retracted' | 'purged' | 'configured' | 'deleted';

export interface LoggedChange {
  id: string;
  kind: ChangeKind;
  node: string;
  /** Milliseconds since the epoch. */
  at: number;
  /** published: the item, its revision and publisher. */
  item?: string;
  rev?: string;
  publisher?: string;
  /** retracted: the items. */
  items?: string[];
}

export type Replay = { changes: LoggedChange[] } | { reset: string };

let lastIssued = 0;

/** The next event id: strictly greater than every id this process issued, and than the clock's microseconds. */
function nextId(): number {
  lastIssued = Math.max(lastIssued + 1, Date.now() * 1000);
  return lastIssued;
}

export class ChangeLog {
  private appendsSinceTrim = new Map<string, number>();

  constructor(
    private readonly archive: ArchiveStore,
    private readonly maxEntries: number,
    private readonly maxAgeMs: number,
    private readonly log: Logger,
  ) {}

  /** Whether changes are kept at all (change_log_max_entries above 0). */
  get enabled(): boolean {
    return this.maxEntries > 0;
  }

  /** The id a reader that has seen everything up to now resumes from. */
  now(): string {
    return String(nextId());
  }

  async append(host: string, user: string, change: Omit<LoggedChange, 'id' | 'at'>): Promise<LoggedChange> {
    const n = nextId();
    const logged: LoggedChange = { ...change, id: String(n), at: Math.floor(n / 1000) };
    if (!this.enabled) return logged;
    const el = xml('change', { xmlns: NS_STORAGE, kind: change.kind, item: change.item, rev: change.rev, publisher: change.publisher });
    for (const id of change.items ?? []) el.append(xml('item', { id }));
    await this.archive.append(host, user, { id: change.node + SEPARATOR + logged.id, when: logged.at, with: change.node, value: el.toString() });
    const key = host + SEPARATOR + user + SEPARATOR + change.node;
    const appends = (this.appendsSinceTrim.get(key) ?? 0) + 1;
    if (appends >= TRIM_EVERY) {
      this.appendsSinceTrim.delete(key);
      this.trim(host, user, change.node).catch((err: unknown) => this.log.warn({ err, node: change.node }, 'trimming the change log failed'));
    } else {
      if (this.appendsSinceTrim.size >= COUNTED_NODES) this.appendsSinceTrim.clear();
      this.appendsSinceTrim.set(key, appends);
    }
    return logged;
  }

  /** Keeps a node's log within its bounds. */
  async trim(host: string, user: string, node: string): Promise<void> {
    await this.archive.delete(host, user, { with: node, end: Date.now() - this.maxAgeMs });
    const count = await this.archive.count(host, user, { with: node });
    // The watermark row is one of them.
    const excess = count - 1 - this.maxEntries;
    if (excess <= 0) return;
    const oldest = (await this.archive.query(host, user, { with: node, limit: excess + 1 })).items.filter((i) => !i.id.endsWith(SEPARATOR + WATERMARK)).slice(0, excess);
    if (oldest.length === 0) return;
    const upTo = oldest[oldest.length - 1].id.slice(node.length + 1);
    // The watermark first: a reader must never find the gap without it.
    await this.archive.append(host, user, { id: node + SEPARATOR + WATERMARK, when: Date.now(), with: node, value: xml('trimmed', { xmlns: NS_STORAGE, upto: upTo }).toString() });
    await this.archive.delete(host, user, { with: node, ids: oldest.map((i) => i.id) });
  }

  /** The newest event id of a node, or null when its log is empty. */
  async latest(host: string, user: string, node: string): Promise<string | null> {
    const { items } = await this.archive.query(host, user, { with: node, reverse: true, limit: 2 });
    const found = items.find((i) => !i.id.endsWith(SEPARATOR + WATERMARK));
    return found ? found.id.slice(node.length + 1) : null;
  }

  /**
   * The changes of a node after an event id, oldest first; or a reset (with the reason) when the log no longer holds
   * everything after it: the id is not one of ours, is older than the log keeps, or changes after it were dropped.
   */
  async since(host: string, user: string, node: string, lastId: string): Promise<Replay> {
    if (!this.enabled) return { reset: 'this server keeps no change log' };
    if (!/^\d{1,17}$/.test(lastId)) return { reset: `"${lastId}" is not an event id of this server` };
    const last = Number(lastId);
    const from = Math.floor(last / 1000);
    if (from < Date.now() - this.maxAgeMs) return { reset: 'the last event id is older than the change log keeps' };
    if (last > lastIssued && last > Date.now() * 1000) return { reset: `"${lastId}" is not an event id of this server` };
    const watermark = (await this.archive.query(host, user, { with: node, ids: [node + SEPARATOR + WATERMARK], limit: 1 })).items[0];
    if (watermark && Number(parseStoredXml(watermark.value).attrs.upto) > last) return { reset: 'changes after the last event id are no longer in the change log' };
    const limit = this.maxEntries * 2 + 2;
    const page = await this.archive.query(host, user, { with: node, start: from, limit });
    if (!page.complete) return { reset: 'too many changes since the last event id' };
    const changes: LoggedChange[] = [];
    for (const row of page.items) {
      const id = row.id.slice(node.length + 1);
      if (id === WATERMARK || Number(id) <= last) continue;
      changes.push(this.toChange(node, id, row.when, row.value));
    }
    return { changes };
  }

  /** Forgets a deleted node's log. */
  async drop(host: string, user: string, node: string): Promise<void> {
    if (this.enabled) await this.archive.delete(host, user, { with: node });
  }

  private toChange(node: string, id: string, at: number, value: string): LoggedChange {
    const el = parseStoredXml(value);
    const change: LoggedChange = { id, kind: el.attrs.kind as ChangeKind, node, at };
    if (el.attrs.item !== undefined) change.item = el.attrs.item;
    if (el.attrs.rev !== undefined) change.rev = el.attrs.rev;
    if (el.attrs.publisher !== undefined) change.publisher = el.attrs.publisher;
    const items = el.getChildren('item').map((i) => i.attrs.id);
    if (items.length) change.items = items;
    return change;
  }
}
