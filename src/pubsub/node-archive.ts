// A node's items, and one item's history, read as message archives (XEP-0442: MAM on a pubsub node), so the XEP-0313
// query runner pages, filters and counts them as it does a user archive. Both answer ArchiveStore's query() and
// count() with archive entries whose `with` is the item's publisher.
//
// A result is named by the item and its revision (`<ItemID>@<rev>`): republishing an item makes a new entry at the
// end of the archive, and the old name is no longer found, since XEP-0313 ids are never reused. A client paging from
// an entry that was republished since gets item-not-found and starts again, rather than silently missing items.
//
// - The node archive is the node's current items in publication order (a republished id counts as new, as
//   XEP-0060 §7.1.2 overwriting wants). A `with` filter is checked on the entries, read a chunk at a time: the items
//   store indexes them by node, not by publisher.
// - An item's history is its earlier revisions, oldest first, then the current one. It holds max_revisions + 1
//   entries at most, so it is held in memory and searched there (ListArchive).
import type { ArchiveCountQuery, ArchiveItem, ArchiveQuery, ArchiveResult, ReadableArchive } from '../core/storage-api.js';
import { indexWords, matchesSearch, searchWords } from '../storage/text-search.js';
import { payloadText } from './search-text.js';
import type { StoredItem, PubSubStore } from './store.js';

export interface NodeArchive extends ReadableArchive {
  /** The item a result entry shows (its ItemID, publisher, payload). */
  itemOf(entry: ArchiveItem): StoredItem;
}

/** Entries read per step when the publisher must be checked on each. */
const SCAN_CHUNK = 200;

/** The name of one revision of an item in an archive. Revisions are base64url: the last '@' ends the ItemID. */
export function resultId(item: StoredItem): string {
  return `${item.id}@${item.rev}`;
}

function parseResultId(id: string): { item: string; rev: string } {
  const at = id.lastIndexOf('@');
  if (at <= 0) throw notFound();
  return { item: id.slice(0, at), rev: id.slice(at + 1) };
}

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

  itemOf(entry: ArchiveItem): StoredItem {
    return this.store.toItem(this.node, this.store.itemKey(this.node, parseResultId(entry.id).item), entry.when, entry.value);
  }

  private entry(stored: ArchiveItem): ArchiveItem {
    const item = this.store.toItem(this.node, stored.id, stored.when, stored.value);
    return { id: resultId(item), when: stored.when, with: item.publisher, value: stored.value };
  }

  /** The store's key of the item a result names, while that revision is the current one. */
  private async keyOf(host: string, user: string, id: string): Promise<string> {
    const { item, rev } = parseResultId(id);
    const current = await this.store.item(host, user, this.node, item);
    if (current?.rev !== rev) throw notFound();
    return this.store.itemKey(this.node, item);
  }

  /** The store's query for the same entries: the node's items, result names turned into the store's keys. */
  private async storeQuery(host: string, user: string, q: ArchiveQuery): Promise<ArchiveQuery> {
    const start = q.start === undefined ? this.since : this.since === undefined ? q.start : Math.max(q.start, this.since);
    return {
      with: this.node,
      start,
      end: q.end,
      text: q.text,
      ids: q.ids?.map((id) => this.store.itemKey(this.node, parseResultId(id).item)),
      after: q.after === undefined ? undefined : await this.keyOf(host, user, q.after),
      before: q.before === undefined ? undefined : await this.keyOf(host, user, q.before),
      reverse: q.reverse,
      limit: q.limit,
    };
  }

  async query(host: string, user: string, q: ArchiveQuery = {}): Promise<ArchiveResult> {
    const base = await this.storeQuery(host, user, q);
    // Asked by name, only the revisions named: an item republished since is another entry.
    const named = q.ids ? new Set(q.ids) : undefined;
    const keep = (entry: ArchiveItem) => (named === undefined || named.has(entry.id)) && (q.with === undefined || entry.with === q.with);
    if (named === undefined && q.with === undefined) {
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
        if (!keep(entry)) continue;
        if (items.length === limit) return { items, complete: false };
        items.push(entry);
      }
      if (chunk.complete || chunk.items.length === 0) return { items, complete: true };
      cursor = chunk.items[chunk.items.length - 1].id;
    }
  }

  async count(host: string, user: string, q: ArchiveCountQuery = {}): Promise<number> {
    if (q.with === undefined) {
      const { with: node, start, end, text } = await this.storeQuery(host, user, q);
      return this.store.archive.count(host, user, { with: node, start, end, text });
    }
    return (await this.query(host, user, { with: q.with, start: q.start, end: q.end, text: q.text })).items.length;
  }
}

/** One entry of a small archive held in memory: an item (or a revision of one) and the words of its payload. */
interface ListEntry {
  entry: ArchiveItem;
  item: StoredItem;
  words: ReadonlySet<string>;
}

/** An archive of a few items in memory, in the order given: an item's history, or nothing (a transient node). */
export class ListArchive implements NodeArchive {
  private readonly entries: ListEntry[];
  private readonly byId = new Map<string, ListEntry>();

  constructor(items: StoredItem[]) {
    this.entries = items.map((item) => ({
      entry: { id: resultId(item), when: item.when, with: item.publisher, value: '' },
      item,
      words: new Set(indexWords(payloadText(item.payload) ?? '')),
    }));
    for (const e of this.entries) this.byId.set(e.entry.id, e);
  }

  itemOf(entry: ArchiveItem): StoredItem {
    const found = this.byId.get(entry.id);
    if (!found) throw notFound();
    return found.item;
  }

  private position(id: string): number {
    const found = this.byId.get(id);
    if (!found) throw notFound();
    return this.entries.indexOf(found);
  }

  private matching(q: ArchiveCountQuery & { ids?: string[] }): ListEntry[] {
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
