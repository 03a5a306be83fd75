// A node's items, and one item's history, read as message archives (XEP-0442: MAM on a pubsub node), so the XEP-0313
// query runner pages, filters and counts them as it does a user archive. Both answer ArchiveStore's query() and
// count() with archive entries whose id is what a MAM result names and whose `with` is the item's publisher.
//
// - The node archive is the node's current items in publication order (a republished id counts as new, as
//   §7.1.2 overwriting wants): result ids are ItemIDs. A `with` filter (the publisher) is checked on the entries,
//   read a chunk at a time: the items store indexes them by node, not by publisher.
// - An item's history is its earlier revisions, oldest first, then the current one: result ids are revisions. It
//   holds max_revisions + 1 entries at most, so it is read whole and filtered in memory.
import type { ArchiveCountQuery, ArchiveItem, ArchiveQuery, ArchiveResult, ArchiveStore } from '../core/storage-api.js';
import { indexWords, matchesSearch, searchWords } from '../storage/text-search.js';
import { payloadText } from './search-text.js';
import type { StoredItem, PubSubStore } from './store.js';

/** What the XEP-0313 query runner reads. */
export type ReadableArchive = Pick<ArchiveStore, 'query' | 'count'>;

export interface NodeArchive extends ReadableArchive {
  /** The item a result entry shows (its ItemID, publisher, payload). */
  itemOf(entry: ArchiveItem): StoredItem;
}

/** Entries read per step when the publisher must be checked on each. */
const SCAN_CHUNK = 200;

/** The error a store gives for a cursor or id it does not hold, which the query runner turns into item-not-found. */
function notFound(): Error {
  return Object.assign(new Error('no such entry in the archive'), { code: 'item-not-found' });
}

export class NodeItemsArchive implements NodeArchive {
  constructor(
    private readonly store: PubSubStore,
    private readonly node: string,
    /** Items older than this are expired (item_expire) and not shown. */
    private readonly since: number | undefined,
  ) {}

  private key(id: string): string {
    return this.store.itemKey(this.node, id);
  }

  itemOf(entry: ArchiveItem): StoredItem {
    return this.store.toItem(this.node, this.key(entry.id), entry.when, entry.value);
  }

  private entry(stored: ArchiveItem): ArchiveItem {
    const item = this.store.toItem(this.node, stored.id, stored.when, stored.value);
    return { id: item.id, when: stored.when, with: item.publisher, value: stored.value };
  }

  /** The store's query for the same entries: the node's items, ids turned into the store's keys. */
  private storeQuery(q: ArchiveCountQuery & ArchiveQuery): ArchiveQuery {
    const start = q.start === undefined ? this.since : this.since === undefined ? q.start : Math.max(q.start, this.since);
    return {
      with: this.node,
      start,
      end: q.end,
      text: q.text,
      ids: q.ids?.map((id) => this.key(id)),
      after: q.after === undefined ? undefined : this.key(q.after),
      before: q.before === undefined ? undefined : this.key(q.before),
      reverse: q.reverse,
      limit: q.limit,
    };
  }

  async query(host: string, user: string, q: ArchiveQuery = {}): Promise<ArchiveResult> {
    const base = this.storeQuery(q);
    if (q.with === undefined) {
      const result = await this.store.archive.query(host, user, base);
      return { items: result.items.map((i) => this.entry(i)), complete: result.complete };
    }
    const items: ArchiveItem[] = [];
    const limit = q.limit ?? Infinity;
    let cursor = q.reverse ? base.before : base.after;
    for (;;) {
      const chunk = await this.store.archive.query(host, user, q.reverse ? { ...base, before: cursor, limit: SCAN_CHUNK } : { ...base, after: cursor, limit: SCAN_CHUNK });
      for (const stored of chunk.items) {
        const entry = this.entry(stored);
        if (entry.with !== q.with) continue;
        if (items.length === limit) return { items, complete: false };
        items.push(entry);
      }
      if (chunk.complete || chunk.items.length === 0) return { items, complete: true };
      cursor = chunk.items[chunk.items.length - 1].id;
    }
  }

  async count(host: string, user: string, q: ArchiveCountQuery = {}): Promise<number> {
    if (q.with === undefined) {
      const { with: node, start, end, text } = this.storeQuery(q);
      return this.store.archive.count(host, user, { with: node, start, end, text });
    }
    return (await this.query(host, user, { with: q.with, start: q.start, end: q.end, text: q.text })).items.length;
  }
}

/** One entry of an item's history: a revision (or the current item) and the words of its payload. */
interface HistoryEntry {
  entry: ArchiveItem;
  item: StoredItem;
  words: ReadonlySet<string>;
}

export class ItemHistoryArchive implements NodeArchive {
  private readonly entries: HistoryEntry[];
  private readonly byRev = new Map<string, HistoryEntry>();

  /** `revisions` oldest first, the current item last. */
  constructor(revisions: StoredItem[]) {
    this.entries = revisions.map((item) => ({
      entry: { id: item.rev, when: item.when, with: item.publisher, value: '' },
      item,
      words: new Set(indexWords(payloadText(item.payload) ?? '')),
    }));
    for (const e of this.entries) this.byRev.set(e.entry.id, e);
  }

  itemOf(entry: ArchiveItem): StoredItem {
    const found = this.byRev.get(entry.id);
    if (!found) throw notFound();
    return found.item;
  }

  private position(id: string): number {
    const at = this.entries.findIndex((e) => e.entry.id === id);
    if (at < 0) throw notFound();
    return at;
  }

  private matching(q: ArchiveCountQuery & { ids?: string[] }): HistoryEntry[] {
    const search = q.text === undefined ? undefined : searchWords(q.text);
    const ids = q.ids ? new Set(q.ids) : undefined;
    return this.entries.filter(({ entry, words }) =>
      (q.with === undefined || entry.with === q.with) &&
      (q.start === undefined || entry.when >= q.start) &&
      (q.end === undefined || entry.when <= q.end) &&
      (ids === undefined || ids.has(entry.id)) &&
      (search === undefined || matchesSearch(words, search)));
  }

  async query(_host: string, _user: string, q: ArchiveQuery = {}): Promise<ArchiveResult> {
    const lower = q.after === undefined ? -1 : this.position(q.after);
    const upper = q.before === undefined ? this.entries.length : this.position(q.before);
    let found = this.matching(q).filter((e) => {
      const at = this.entries.indexOf(e);
      return at > lower && at < upper;
    });
    if (q.reverse) found = found.reverse();
    const limit = q.limit ?? found.length;
    return { items: found.slice(0, limit).map((e) => e.entry), complete: found.length <= limit };
  }

  async count(_host: string, _user: string, q: ArchiveCountQuery = {}): Promise<number> {
    return this.matching(q).length;
  }
}
