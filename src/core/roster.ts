// Rosters (RFC 6121 §2) as data: items with subscription states, kept in storage as XML and cached
// while the account is in use. The protocol around them lives in the roster and presence modules;
// other modules ask here whether a contact is subscribed.
import { Element, xml } from './xml/element.js';
import { StreamParser } from './xml/parser.js';
import type { KeyValStore, MapStore, StorageBackend } from './storage-api.js';

export type Subscription = 'none' | 'to' | 'from' | 'both';

export interface RosterItem {
  /** The contact's bare JID. */
  jid: string;
  name?: string;
  subscription: Subscription;
  /** Pending Out: the user asked to subscribe to the contact (RFC 6121 §3.1.2, ask='subscribe'). */
  ask: boolean;
  /** Pending In: the contact asked to subscribe to the user and has no answer yet (not shown to clients). */
  pendingIn: boolean;
  /** Pre-approved: a subscription request from the contact will be approved at once (§3.4). */
  approved: boolean;
  groups: string[];
  /** Whether the user has the contact in the roster; false for a bare Pending In from a stranger. */
  inRoster: boolean;
  /** Roster version at which this item last changed (for pushes as deltas, §2.6). */
  ver: number;
}

export interface Roster {
  host: string;
  user: string;
  version: number;
  /** Versions after this one can be sent as deltas; older clients get the whole roster. */
  deltaSince: number;
  items: Map<string, RosterItem>;
  /** Removed contacts by version, kept so that a client can catch up with deltas. */
  removed: Map<string, number>;
  /** The last write in progress: writes are chained so the stored version never goes backwards. */
  writing?: Promise<void>;
}

/** How many removals are remembered for delta pushes before an old client just gets the whole roster. */
const MAX_TOMBSTONES = 200;
/**
 * How long a roster stays in memory after its account's last session ended (or after an offline account's
 * roster was used): long enough to batch a burst of subscription traffic, short enough that changes made
 * in storage by `quire roster` are seen at the next login.
 */
const UNPINNED_TTL_MS = 30_000;

export function itemToXml(item: RosterItem): Element {
  const el = xml('item', {
    jid: item.jid,
    name: item.name,
    subscription: item.subscription,
    ask: item.ask ? 'subscribe' : undefined,
    approved: item.approved ? 'true' : undefined,
  });
  for (const group of item.groups) el.append(xml('group', {}, group));
  return el;
}

function itemToStored(item: RosterItem): string {
  const el = itemToXml(item);
  el.attrs.ver = String(item.ver);
  if (item.pendingIn) el.attrs['pending-in'] = 'true';
  if (!item.inRoster) el.attrs['in-roster'] = 'false';
  return el.toString();
}

/** Parses one stored XML document (a value written by this module, so trusted to be well-formed). */
export function parseStoredXml(text: string): Element {
  let root: Element | null = null;
  let failure: string | null = null;
  const parser = new StreamParser(
    {
      streamStart: () => {},
      stanza: (el) => (root = el),
      streamEnd: () => {},
      error: (_c, message) => (failure = message),
    },
    { maxStanzaBytes: 64 * 1024 * 1024, maxDepth: 1000, maxAttributes: 10_000 },
  );
  parser.write(`<r>${text}</r>`);
  if (failure || !root) throw new Error(`stored XML is damaged: ${failure ?? 'empty'}`);
  return root;
}

function itemFromStored(text: string): RosterItem {
  const el = parseStoredXml(text);
  const subscription = el.attrs.subscription as Subscription;
  return {
    jid: el.attrs.jid,
    name: el.attrs.name,
    subscription: subscription === 'to' || subscription === 'from' || subscription === 'both' ? subscription : 'none',
    ask: el.attrs.ask === 'subscribe',
    pendingIn: el.attrs['pending-in'] === 'true',
    approved: el.attrs.approved === 'true',
    groups: el.getChildren('group').map((g) => g.text()),
    inRoster: el.attrs['in-roster'] !== 'false',
    ver: Number(el.attrs.ver ?? 0),
  };
}

export function newItem(jid: string): RosterItem {
  return { jid, subscription: 'none', ask: false, pendingIn: false, approved: false, groups: [], inRoster: true, ver: 0 };
}

export class Rosters {
  private items: MapStore;
  private meta: KeyValStore;
  private cache = new Map<string, Roster>();
  private expiry = new Map<string, number>();
  private loading = new Map<string, Promise<Roster>>();
  /** Accounts whose roster must stay cached (they have sessions). */
  private pinned = new Map<string, number>();

  constructor(storage: StorageBackend) {
    this.items = storage.map('roster');
    this.meta = storage.keyval('roster-meta');
  }

  /** The roster if it is in memory (for synchronous checks on the stanza path). */
  cached(host: string, user: string): Roster | undefined {
    return this.cache.get(`${user}@${host}`);
  }

  async get(host: string, user: string): Promise<Roster> {
    const key = `${user}@${host}`;
    const cached = this.cache.get(key);
    if (cached) {
      if (!this.pinned.has(key)) this.expiry.set(key, Date.now() + UNPINNED_TTL_MS);
      return cached;
    }
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.load(host, user).finally(() => this.loading.delete(key));
      this.loading.set(key, loading);
    }
    return loading;
  }

  private async load(host: string, user: string): Promise<Roster> {
    const [stored, meta] = await Promise.all([this.items.getAll(host, user), this.meta.get(host, user)]);
    const roster: Roster = { host, user, version: 0, deltaSince: 0, items: new Map(), removed: new Map() };
    if (meta) {
      const el = parseStoredXml(meta);
      roster.version = Number(el.attrs.ver ?? 0);
      roster.deltaSince = Number(el.attrs['delta-since'] ?? 0);
      for (const r of el.getChildren('removed')) roster.removed.set(r.attrs.jid, Number(r.attrs.ver));
    }
    for (const [jid, value] of stored) roster.items.set(jid, itemFromStored(value));
    const key = `${user}@${host}`;
    if (!this.cache.has(key)) {
      this.cache.set(key, roster);
      if (!this.pinned.has(key)) this.expiry.set(key, Date.now() + UNPINNED_TTL_MS);
      this.sweep();
    }
    return this.cache.get(key)!;
  }

  /** Keeps an account's roster in memory while it has sessions. */
  pin(host: string, user: string): void {
    const key = `${user}@${host}`;
    this.pinned.set(key, (this.pinned.get(key) ?? 0) + 1);
    this.expiry.delete(key);
  }

  unpin(host: string, user: string): void {
    const key = `${user}@${host}`;
    const count = (this.pinned.get(key) ?? 1) - 1;
    if (count > 0) return void this.pinned.set(key, count);
    this.pinned.delete(key);
    if (this.cache.has(key)) this.expiry.set(key, Date.now() + UNPINNED_TTL_MS);
    this.sweep();
  }

  /** Drops unpinned rosters whose time is up. */
  private sweep(): void {
    const now = Date.now();
    for (const [key, until] of this.expiry) {
      if (until > now) continue;
      this.expiry.delete(key);
      if (!this.pinned.has(key)) this.cache.delete(key);
    }
  }

  /** The subscription state of a contact in the user's roster ('none' when absent). */
  async subscription(host: string, user: string, contact: string): Promise<Subscription> {
    return (await this.get(host, user)).items.get(contact)?.subscription ?? 'none';
  }

  /**
   * Stores changed items (and removals) under a new roster version; returns the version.
   * `changed` items are written as they are; `removed` contacts are deleted.
   */
  async commit(roster: Roster, changed: RosterItem[], removed: string[] = []): Promise<number> {
    const version = ++roster.version;
    const entries = new Map<string, string | null>();
    for (const item of changed) {
      item.ver = version;
      roster.items.set(item.jid, item);
      roster.removed.delete(item.jid);
      entries.set(item.jid, itemToStored(item));
    }
    for (const jid of removed) {
      const existed = roster.items.get(jid);
      roster.items.delete(jid);
      entries.set(jid, null);
      if (existed?.inRoster) roster.removed.set(jid, version);
    }
    while (roster.removed.size > MAX_TOMBSTONES) {
      const [oldest, ver] = roster.removed.entries().next().value as [string, number];
      roster.removed.delete(oldest);
      roster.deltaSince = Math.max(roster.deltaSince, ver);
    }
    const meta = xml('roster', { ver: String(roster.version), 'delta-since': String(roster.deltaSince) }, [...roster.removed].map(([jid, ver]) => xml('removed', { jid, ver: String(ver) })));
    const write = async () => {
      await this.items.setMany(roster.host, roster.user, entries);
      await this.meta.set(roster.host, roster.user, meta.toString());
    };
    const done = (roster.writing ?? Promise.resolve()).then(write);
    roster.writing = done.catch(() => {});
    await done;
    return version;
  }

  /** Forgets the cached roster of a deleted account. */
  forget(host: string, user: string): void {
    this.cache.delete(`${user}@${host}`);
    this.expiry.delete(`${user}@${host}`);
  }
}
