// In-memory storage backend for unit tests. It follows the same semantics as the SQLite backend
// (and passes the same suite), so a module tested against it behaves the same in production.
// Data lives as long as the object: close() followed by open() keeps it.

import { randomBytes } from 'node:crypto';
import { StorageError, cursorNotFound } from '../errors.js';
import { indexWords, matchesSearch, searchWords } from '../text-search.js';
import type {
  AccountRecord, AccountStore, ArchiveCountQuery, ArchiveItem, ArchiveQuery, ArchiveResult, ArchiveStore,
  KeyValStore, MapStore, StorageBackend,
} from '../types.js';

/** One archived item plus its insertion sequence number (the archive's order) and what search and usage need. */
interface Entry extends ArchiveItem {
  seq: number;
  /** The normalized words of the text given to append() (text-search.ts); none without text. */
  words: ReadonlySet<string>;
  /** UTF-8 length of the value. */
  bytes: number;
}

const NO_WORDS: ReadonlySet<string> = new Set();

/** A predicate for the filters, with the search parsed once per call rather than once per item. */
function entryFilter(f: ArchiveCountQuery): (e: Entry) => boolean {
  const search = f.text === undefined ? undefined : searchWords(f.text);
  return (e) =>
    (f.with === undefined || e.with === f.with) &&
    // startsWith is the definition the SQL backends' ranges implement (with-prefix.ts).
    (f.withPrefix === undefined || e.with.startsWith(f.withPrefix)) &&
    (f.start === undefined || e.when >= f.start) &&
    (f.end === undefined || e.when <= f.end) &&
    (search === undefined || matchesSearch(e.words, search));
}

/** host and user joined into one map key; NUL cannot occur in a JID part (RFC 7622 §3.3.1). */
function userKey(host: string, user: string): string {
  return `${host}\u0000${user}`;
}

function getOrCreate<K, V>(map: Map<K, V>, key: K, create: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = create();
    map.set(key, value);
  }
  return value;
}

function normalizeLimit(limit: number | undefined): number {
  return limit === undefined || !Number.isFinite(limit) ? Infinity : Math.max(0, Math.floor(limit));
}

export class MemoryBackend implements StorageBackend {
  readonly kind = 'memory';
  readonly accounts: AccountStore;

  #open = false;
  #seq = 0;
  readonly #accounts = new Map<string, Map<string, AccountRecord>>();
  readonly #keyvals = new Map<string, Map<string, string>>();
  readonly #maps = new Map<string, Map<string, Map<string, string>>>();
  readonly #archives = new Map<string, Map<string, Entry[]>>();

  constructor() {
    this.accounts = this.#accountStore();
  }

  async open(): Promise<void> {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  keyval(store: string): KeyValStore {
    const check = () => this.#check();
    const data = () => getOrCreate(this.#keyvals, store, () => new Map<string, string>());
    return {
      async get(host, user) {
        check();
        return data().get(userKey(host, user)) ?? null;
      },
      async set(host, user, value) {
        check();
        if (value === null) data().delete(userKey(host, user));
        else data().set(userKey(host, user), value);
      },
    };
  }

  map(store: string): MapStore {
    const check = () => this.#check();
    const drop = (host: string, user: string) => this.#maps.get(store)?.delete(userKey(host, user));
    const entries = (host: string, user: string) =>
      getOrCreate(getOrCreate(this.#maps, store, () => new Map<string, Map<string, string>>()), userKey(host, user), () => new Map());
    const apply = (host: string, user: string, key: string, value: string | null) => {
      if (value === null) entries(host, user).delete(key);
      else entries(host, user).set(key, value);
    };
    return {
      async get(host, user, key) {
        check();
        return entries(host, user).get(key) ?? null;
      },
      async set(host, user, key, value) {
        check();
        apply(host, user, key, value);
      },
      async setMany(host, user, changes) {
        check();
        for (const [key, value] of changes) apply(host, user, key, value);
      },
      async getAll(host, user) {
        check();
        return new Map(entries(host, user));
      },
      async deleteAll(host, user) {
        check();
        drop(host, user);
      },
    };
  }

  archive(store: string): ArchiveStore {
    const check = () => this.#check();
    const nextSeq = () => ++this.#seq;
    const entries = (host: string, user: string) =>
      getOrCreate(getOrCreate(this.#archives, store, () => new Map<string, Entry[]>()), userKey(host, user), () => []);
    const seqOf = (list: Entry[], id: string) => {
      const entry = list.find((e) => e.id === id);
      if (!entry) throw cursorNotFound(id);
      return entry.seq;
    };

    return {
      textSearch: true,

      async append(host, user, item) {
        check();
        const list = entries(host, user);
        const id = item.id ?? randomBytes(9).toString('base64url');
        // An existing id is replaced and moves to the end, as in the SQLite backend.
        const old = list.findIndex((e) => e.id === id);
        if (old >= 0) list.splice(old, 1);
        list.push({
          seq: nextSeq(), id, when: item.when ?? Date.now(), with: item.with ?? '', value: item.value,
          words: item.text === undefined ? NO_WORDS : new Set(indexWords(item.text)),
          bytes: Buffer.byteLength(item.value, 'utf8'),
        });
        return id;
      },

      async setText(host, user, id, text) {
        check();
        const list = entries(host, user);
        const at = list.findIndex((e) => e.id === id);
        if (at < 0) return false;
        list[at] = { ...list[at], words: text === undefined ? NO_WORDS : new Set(indexWords(text)) };
        return true;
      },

      async query(host, user, q: ArchiveQuery = {}): Promise<ArchiveResult> {
        check();
        const list = entries(host, user);
        const afterSeq = q.after === undefined ? -Infinity : seqOf(list, q.after);
        const beforeSeq = q.before === undefined ? Infinity : seqOf(list, q.before);
        const ids = q.ids === undefined ? undefined : new Set(q.ids);
        const matches = entryFilter(q);
        const matching = list.filter((e) =>
          matches(e) && e.seq > afterSeq && e.seq < beforeSeq && (ids === undefined || ids.has(e.id)));
        if (q.reverse) matching.reverse();
        const limit = normalizeLimit(q.limit);
        const page = matching.slice(0, limit);
        return {
          items: page.map(({ id, when, with: w, value }) => ({ id, when, with: w, value })),
          complete: matching.length <= limit,
        };
      },

      async count(host, user, q = {}) {
        check();
        return entries(host, user).filter(entryFilter(q)).length;
      },

      async delete(host, user, filter = {}) {
        check();
        const list = entries(host, user);
        const ids = filter.ids === undefined ? undefined : new Set(filter.ids);
        const matches = entryFilter({ with: filter.with, withPrefix: filter.withPrefix, end: filter.end, text: filter.text });
        // Compacts in place, keeping order.
        let kept = 0;
        for (const e of list) {
          const doomed = (ids === undefined || ids.has(e.id)) && matches(e);
          if (!doomed) list[kept++] = e;
        }
        const removed = list.length - kept;
        list.length = kept;
        return removed;
      },

      async usage(host, user, filter = {}) {
        check();
        const matches = entryFilter({ with: filter.with, withPrefix: filter.withPrefix });
        let items = 0;
        let bytes = 0;
        for (const e of entries(host, user)) {
          if (!matches(e)) continue;
          items++;
          bytes += e.bytes;
        }
        return { items, bytes };
      },
    };
  }

  #check(): void {
    if (!this.#open) throw new StorageError('not-open', 'memory backend is not open');
  }

  #accountStore(): AccountStore {
    const check = () => this.#check();
    const hostAccounts = (host: string) => getOrCreate(this.#accounts, host, () => new Map<string, AccountRecord>());
    const purgeUser = (host: string, user: string) => {
      const key = userKey(host, user);
      for (const perUser of this.#keyvals.values()) perUser.delete(key);
      for (const perUser of this.#maps.values()) perUser.delete(key);
      for (const perUser of this.#archives.values()) perUser.delete(key);
    };
    return {
      async get(host, user) {
        check();
        const record = hostAccounts(host).get(user);
        return record ? structuredClone(record) : null;
      },
      async create(host, user, record) {
        check();
        const accounts = hostAccounts(host);
        if (accounts.has(user)) return false;
        accounts.set(user, structuredClone(record));
        return true;
      },
      async update(host, user, record) {
        check();
        const accounts = hostAccounts(host);
        if (!accounts.has(user)) return false;
        accounts.set(user, structuredClone(record));
        return true;
      },
      async delete(host, user) {
        check();
        // Data is purged only for an existing account, so deleting '' (no account) keeps host-wide data.
        if (!hostAccounts(host).delete(user)) return false;
        purgeUser(host, user);
        return true;
      },
      async list(host) {
        check();
        return [...hostAccounts(host).keys()].sort();
      },
    };
  }
}
