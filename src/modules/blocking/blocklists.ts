// Blocklists as data (XEP-0191): one set of prepared JIDs per account, kept in a map store and cached,
// because every stanza to or from a local account is checked against one. A map entry per blocked JID,
// keyed by the JID, valued with the item as XML.
import type { Jid } from '../../core/jid/index.js';
import type { MapStore } from '../../core/storage-api.js';
import type { SessionDirectory } from '../../core/session.js';
import { xml } from '../../core/xml/element.js';

/** A blocklist: prepared JIDs (domain, domain/resource, bare or full) in the order they were blocked. */
export type Blocklist = Set<string>;

/**
 * XEP-0191 §5 JID matching (as XEP-0016): an item matches the JID itself (user@domain/resource or
 * domain/resource: only that resource), its bare JID (user@domain: any resource), or its domain
 * (any user@domain or domain/resource). Three lookups, no parsing: this runs for every routed stanza.
 */
export function isBlocked(list: Blocklist, jid: Jid): boolean {
  if (list.size === 0) return false;
  if (list.has(jid.full)) return true;
  if (jid.resource !== '' && jid.local !== '' && list.has(jid.bare)) return true;
  return (jid.local !== '' || jid.resource !== '') && list.has(jid.domain);
}

/** Accounts without sessions whose blocklists stay cached; beyond this the oldest are forgotten. */
const IDLE_CACHE_SIZE = 10_000;

export class Blocklists {
  /** Bare JID -> blocklist. Accounts with sessions are never evicted. */
  private lists = new Map<string, Blocklist>();
  /** Loads in flight, so that concurrent readers share one and are answered in the order they asked. */
  private loading = new Map<string, Promise<Blocklist>>();
  /** The last change in progress per account: changes are applied one after the other. */
  private writing = new Map<string, Promise<unknown>>();

  constructor(
    private store: MapStore,
    private sessions: SessionDirectory,
  ) {}

  /** The cached blocklist, or undefined when it must be loaded first. */
  peek(bare: string): Blocklist | undefined {
    return this.lists.get(bare);
  }

  /** The blocklist from the cache, or a promise of it while it loads. */
  get(host: string, user: string, bare = `${user}@${host}`): Blocklist | Promise<Blocklist> {
    return this.lists.get(bare) ?? this.load(host, user, bare);
  }

  private load(host: string, user: string, bare: string): Promise<Blocklist> {
    let loading = this.loading.get(bare);
    if (!loading) {
      loading = this.read(host, user, bare).finally(() => this.loading.delete(bare));
      this.loading.set(bare, loading);
    }
    return loading;
  }

  private async read(host: string, user: string, bare: string): Promise<Blocklist> {
    const list: Blocklist = new Set((await this.store.getAll(host, user)).keys());
    this.lists.set(bare, list);
    this.trim();
    return list;
  }

  /**
   * Reads the blocklist from storage again (when an account's first session starts): the account may
   * have been deleted and created anew since it was cached. Stanzas keep using the cached list until then.
   */
  refresh(host: string, user: string): Promise<Blocklist> {
    const bare = `${user}@${host}`;
    if (!this.lists.has(bare)) return this.load(host, user, bare);
    return this.serialize(bare, () => this.read(host, user, bare));
  }

  /**
   * Runs a change of the account's blocklist after the previous one has finished. `change` gets the
   * current list and must write storage before it mutates the list, so the cache never runs ahead of storage.
   */
  change<T>(host: string, user: string, change: (list: Blocklist) => Promise<T>): Promise<T> {
    const bare = `${user}@${host}`;
    return this.serialize(bare, async () => change(await this.get(host, user, bare)));
  }

  private serialize<T>(bare: string, task: () => Promise<T>): Promise<T> {
    const previous = this.writing.get(bare) ?? Promise.resolve();
    const done = previous.then(task);
    const settled = done.catch(() => undefined);
    this.writing.set(bare, settled);
    void settled.then(() => {
      if (this.writing.get(bare) === settled) this.writing.delete(bare);
    });
    return done;
  }

  /** Stores newly blocked JIDs (not yet in the cached list). */
  add(host: string, user: string, jids: string[]): Promise<void> {
    return this.store.setMany(host, user, new Map(jids.map((jid) => [jid, xml('item', { jid }).toString()])));
  }

  /** Deletes unblocked JIDs from storage. */
  remove(host: string, user: string, jids: string[]): Promise<void> {
    return this.store.setMany(host, user, new Map(jids.map((jid) => [jid, null])));
  }

  removeAll(host: string, user: string): Promise<void> {
    return this.store.deleteAll(host, user);
  }

  /** Keeps the cache bounded: blocklists of accounts without sessions go first, oldest first. */
  private trim(): void {
    // Every session's account may hold an entry; only the entries beyond those count against the limit.
    const pinned = this.sessions.size;
    if (this.lists.size - pinned <= IDLE_CACHE_SIZE) return;
    for (const bare of this.lists.keys()) {
      if (this.lists.size - pinned <= IDLE_CACHE_SIZE * 0.9) break;
      if (!this.sessions.hasSessions(bare)) this.lists.delete(bare);
    }
  }
}
