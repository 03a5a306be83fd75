// Running a MAM query against the archive store: the filter form's bounds and the XEP-0059 cursor
// combined into one page, in the archive's order (the order messages arrived, XEP-0313 §3.1).
import { StanzaError } from '../../core/stanza.js';
import { parseStoredXml } from '../../core/roster.js';
import { tryParseJid, type Jid } from '../../core/jid/index.js';
import type { ArchiveItem, ArchiveQuery, ReadableArchive } from '../../core/storage-api.js';
import { xml, type Element } from '../../core/xml/element.js';
import { NS_RSM, type MamFilter, type RsmRequest } from './query.js';
import { NS_MAM } from './rules.js';

export interface Page {
  /** In chronological order. */
  items: ArchiveItem[];
  /** §4.3.2: no further items match in the direction of the query. */
  complete: boolean;
  /** XEP-0059 <count/>, when it is cheap to know exactly. */
  count?: number;
  /** XEP-0059 'index' of the first item, when known. */
  index?: number;
}

/** Rows read per step when a filter must look inside messages (a full JID in 'with'). */
const SCAN_CHUNK = 200;

/**
 * A store error for a cursor id the archive does not hold. The backends throw StorageError('item-not-found');
 * core code sees it only by its code.
 */
function isItemNotFound(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === 'item-not-found';
}

/** §4.1.3, §4.3.2: an unknown id in after-id, before-id, ids or the RSM cursors is item-not-found. */
async function translateNotFound<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isItemNotFound(err)) throw new StanzaError('item-not-found', 'no message in the archive has that id');
    throw err;
  }
}

/**
 * §4.1.1: a full JID in 'with' matches only messages to or from that very resource. The store keeps the bare
 * JID of the other party, so this looks at the message itself.
 */
function matchesFullJid(item: ArchiveItem, jid: Jid): boolean {
  let message;
  try {
    message = parseStoredXml(item.value);
  } catch {
    return false;
  }
  return tryParseJid(message.attrs.from)?.full === jid.full || tryParseJid(message.attrs.to)?.full === jid.full;
}

export class ArchiveQueryRunner {
  constructor(
    private store: ReadableArchive,
    private host: string,
    private user: string,
  ) {}

  private exists(id: string): Promise<boolean> {
    return this.store.query(this.host, this.user, { ids: [id], limit: 1 }).then((r) => r.items.length > 0);
  }

  /** Whether archive item b comes after a; throws item-not-found when either is missing. */
  private async isAfter(a: string, b: string): Promise<boolean> {
    const { items } = await translateNotFound(this.store.query(this.host, this.user, { after: a, ids: [b], limit: 1 }));
    if (items.length > 0) return true;
    if (!(await this.exists(b))) throw new StanzaError('item-not-found', 'no message in the archive has that id');
    return false;
  }

  /**
   * The exclusive lower and upper bounds of a query: after-id and RSM <after/> both bound it from below, so the
   * later of the two wins; before-id and RSM <before/> from above, the earlier wins.
   */
  private async bounds(filter: MamFilter, rsm: RsmRequest): Promise<{ after?: string; before?: string }> {
    let after = filter.afterId;
    if (rsm.after !== undefined) after = after === undefined || (await this.isAfter(after, rsm.after)) ? rsm.after : after;
    let before = filter.beforeId;
    if (rsm.before) before = before === undefined || (await this.isAfter(rsm.before, before)) ? rsm.before : before;
    // A single cursor is checked by the store when the page is read: it throws for an id it does not hold.
    return { after, before };
  }

  async run(filter: MamFilter, rsm: RsmRequest, pageSize: number): Promise<Page> {
    const { store, host, user } = this;
    // §4.1.3: every id asked for must be in the archive.
    if (filter.ids && filter.ids.length > 0) {
      const found = await store.query(host, user, { ids: filter.ids });
      if (found.items.length !== filter.ids.length) throw new StanzaError('item-not-found', 'a requested id is not in the archive');
    }
    const { after, before } = await this.bounds(filter, rsm);
    const fullJid = filter.with && filter.with.resource !== '' ? filter.with : undefined;
    const base: ArchiveQuery = {
      with: filter.with?.bare,
      start: filter.start,
      end: filter.end,
      ids: filter.ids,
      text: filter.text,
      after,
      before,
    };
    // XEP-0059 §2.3 and §2.5: <before/> pages backwards from its id, or from the end when empty.
    const reverse = rsm.before !== undefined;
    const limit = Math.min(rsm.max ?? pageSize, pageSize);
    const skip = rsm.index ?? 0;

    const page = fullJid
      ? await this.scan(base, reverse, skip, limit, (item) => matchesFullJid(item, fullJid))
      : await this.read(base, reverse, skip, limit);
    if (reverse) page.items.reverse();

    // <count/> is the size of the whole result set, which the store counts by with/start/end/text; with the
    // extended bounds or a full JID it would mean reading everything, so it is left out (XEP-0059 §2.2).
    if (!fullJid && filter.afterId === undefined && filter.beforeId === undefined) {
      const { with: w, start, end, text } = base;
      page.count = filter.ids
        ? (await store.query(host, user, { with: w, start, end, text, ids: filter.ids })).items.length
        : await store.count(host, user, { with: w, start, end, text });
    }
    if (!reverse && rsm.after === undefined) page.index = skip;
    else if (reverse && rsm.before === '' && page.count !== undefined) page.index = page.count - page.items.length;
    return page;
  }

  /** A page straight from the store (items in query direction). */
  private async read(base: ArchiveQuery, reverse: boolean, skip: number, limit: number): Promise<Page> {
    const { store, host, user } = this;
    let query: ArchiveQuery = { ...base, reverse };
    if (skip > 0) {
      // XEP-0059 §2.6 index: the item just before the page is the skip-th one.
      const skipped = await translateNotFound(store.query(host, user, { ...query, limit: skip }));
      if (skipped.items.length < skip) return { items: [], complete: true };
      const edge = skipped.items[skipped.items.length - 1].id;
      query = reverse ? { ...query, before: edge } : { ...query, after: edge };
    }
    const result = await translateNotFound(store.query(host, user, { ...query, limit }));
    return { items: result.items, complete: result.complete };
  }

  /** A page of items that pass a check the store cannot make, read in chunks (items in query direction). */
  private async scan(base: ArchiveQuery, reverse: boolean, skip: number, limit: number, keep: (item: ArchiveItem) => boolean): Promise<Page> {
    const { store, host, user } = this;
    const items: ArchiveItem[] = [];
    let skipped = 0;
    let cursor = reverse ? base.before : base.after;
    for (;;) {
      const query: ArchiveQuery = reverse ? { ...base, before: cursor, reverse, limit: SCAN_CHUNK } : { ...base, after: cursor, reverse, limit: SCAN_CHUNK };
      const chunk = await translateNotFound(store.query(host, user, query));
      for (const item of chunk.items) {
        if (!keep(item)) continue;
        if (skipped < skip) {
          skipped++;
          continue;
        }
        // One match beyond the page: the page is not the last.
        if (items.length === limit) return { items, complete: false };
        items.push(item);
      }
      if (chunk.complete || chunk.items.length === 0) return { items, complete: true };
      cursor = chunk.items[chunk.items.length - 1].id;
    }
  }
}

/** §4.3: the IQ result that ends a query, with the XEP-0059 set describing the page. */
export function fin(page: Page, queryId: string | undefined): Element {
  const set = xml('set', { xmlns: NS_RSM });
  if (page.items.length > 0) {
    const index = page.index === undefined ? undefined : String(page.index);
    set.append(xml('first', { index }, page.items[0].id));
    set.append(xml('last', {}, page.items[page.items.length - 1].id));
  }
  if (page.count !== undefined) set.append(xml('count', {}, String(page.count)));
  return xml('fin', { xmlns: NS_MAM, queryid: queryId, complete: page.complete ? 'true' : undefined }, set);
}
