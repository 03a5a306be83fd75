// Persistence of PubSub services on the store interfaces of core/storage-api.ts, so that any backend
// (SQLite, memory, PostgreSQL later) holds them the same way.
//
// A service lives in one (host, user) partition: a PEP service in its account's (host, user), so that deleting
// the account deletes its nodes and items with the rest; the pubsub service in (service domain, '').
//  - map store 'pubsub': one entry per node, per affiliation and per subscription, so that a subscribe writes one
//    small entry and loading a service is one getAll():
//      n␟<node>            <node/> document: creation facts and configuration
//      a␟<node>␟<jid>      affiliation name
//      s␟<node>␟<subid>    <subscription/> document
//      t␟<node>            redirect URI of a deleted node (XEP-0060 §8.4.1), for gone errors
//      u␟<node>            <usage/>: what the node stores (items, payload bytes, earlier revisions), kept as a
//                          running total so that quotas never have to read the items
//  - archive store 'pubsub-items': the items, `with` = node name, id = <node>␟<item id>, so the archive's order is
//    publication order (a re-published id moves to the end, as §7.1.2 overwriting wants) and RSM cursors work.
//    Each item carries its revision (rev: the ETag of the HTTP face), the payload's size in bytes, and the count and
//    bytes of its earlier revisions, which live in the archive store 'pubsub-revisions' (revisions.ts).
// ␟ is U+001F, which XML 1.0 does not allow in text or attributes, so no NodeID or ItemID from the wire holds it.
import { createHash, randomBytes } from 'node:crypto';
import type { ArchiveStore, MapStore } from '../core/storage-api.js';
import { parseStoredXml } from '../core/roster.js';
import { Element, serialize, xml } from '../core/xml/element.js';
import { NS_DATA, parseForm, type FormField } from '../core/data-forms.js';
import type { RevisionStore } from './revisions.js';
import { payloadText } from './search-text.js';

export const SEPARATOR = '\u001f';
export const NODES_STORE = 'pubsub';
export const ITEMS_STORE = 'pubsub-items';
/** Namespace of Quire's own stored documents. */
export const NS_STORED = 'urn:quire:pubsub:0';

export interface StoredNode {
  name: string;
  created: number;
  creator: string;
  /** The configuration as form fields (config.ts reads them over the defaults). */
  config: FormField[];
}

export interface StoredSubscription {
  node: string;
  subid: string;
  jid: string;
  state: 'subscribed' | 'pending' | 'unconfigured';
  created: number;
  options: FormField[];
}

/** What a node stores: its items, their payloads' bytes plus those of their earlier revisions, and those revisions. */
export interface Usage {
  items: number;
  bytes: number;
  revisions: number;
}

export const NO_USAGE: Readonly<Usage> = Object.freeze({ items: 0, bytes: 0, revisions: 0 });

export interface StoredService {
  nodes: StoredNode[];
  affiliations: { node: string; jid: string; affiliation: string }[];
  subscriptions: StoredSubscription[];
  redirects: Map<string, string>;
  usage: Map<string, Usage>;
}

/** The earlier revisions an item has in the revision store: how many, and their payloads' bytes. */
export interface RevisionCount {
  count: number;
  bytes: number;
}

export const NO_REVISIONS: Readonly<RevisionCount> = Object.freeze({ count: 0, bytes: 0 });

export interface StoredItem {
  id: string;
  /** Bare JID of the publisher. */
  publisher: string;
  when: number;
  /** The payload element, or null for an item published without one. */
  payload: Element | null;
  /**
   * This revision of the item: new at every publish, stored with it, so that the HTTP ETag is the same after a
   * restart and on both faces. Items stored before revisions existed get one derived from what is stored.
   */
  rev: string;
  /** UTF-8 bytes of the serialized payload. */
  size: number;
  revisions: RevisionCount;
}

/** A new revision id: 96 random bits, base64url (a valid ETag without escaping). */
export function newRevision(): string {
  return randomBytes(12).toString('base64url');
}

/** Whether a NodeID or ItemID can be stored (no U+001F, not empty). */
export function isStorableId(id: string): boolean {
  return id !== '' && !id.includes(SEPARATOR);
}

function fieldsElement(fields: FormField[]): Element {
  const x = xml('x', { xmlns: NS_DATA, type: 'submit' });
  for (const field of fields) x.append(xml('field', { var: field.var }, field.values.map((v) => xml('value', {}, v))));
  return x;
}

function fieldsOf(el: Element): FormField[] {
  const x = el.getChild('x', NS_DATA);
  return x ? (parseForm(x)?.fields ?? []) : [];
}

export class PubSubStore {
  constructor(
    private readonly map: MapStore,
    /** The items (node-archive.ts reads it as XEP-0442 archives). */
    readonly archive: ArchiveStore,
    /** Earlier revisions of items; without a store for them, no node keeps any. */
    readonly revisions: RevisionStore | null = null,
  ) {}

  /** Whether items can be searched by their text (the archive store indexes it). */
  get searchable(): boolean {
    return this.archive.textSearch;
  }

  async load(host: string, user: string): Promise<StoredService> {
    const entries = await this.map.getAll(host, user);
    const service: StoredService = { nodes: [], affiliations: [], subscriptions: [], redirects: new Map(), usage: new Map() };
    for (const [key, value] of entries) {
      const parts = key.split(SEPARATOR);
      switch (parts[0]) {
        case 'n': {
          const el = parseStoredXml(value);
          service.nodes.push({ name: parts[1], created: Number(el.attrs.created ?? 0), creator: el.attrs.creator ?? '', config: fieldsOf(el) });
          break;
        }
        case 'a':
          service.affiliations.push({ node: parts[1], jid: parts[2], affiliation: value });
          break;
        case 's': {
          const el = parseStoredXml(value);
          const state = el.attrs.subscription;
          service.subscriptions.push({
            node: parts[1],
            subid: parts[2],
            jid: el.attrs.jid,
            state: state === 'pending' || state === 'unconfigured' ? state : 'subscribed',
            created: Number(el.attrs.created ?? 0),
            options: fieldsOf(el),
          });
          break;
        }
        case 't':
          service.redirects.set(parts[1], value);
          break;
        case 'u': {
          const el = parseStoredXml(value);
          service.usage.set(parts[1], { items: Number(el.attrs.items ?? 0), bytes: Number(el.attrs.bytes ?? 0), revisions: Number(el.attrs.revisions ?? 0) });
          break;
        }
        default:
          break;
      }
    }
    return service;
  }

  nodeEntry(node: StoredNode): [string, string] {
    const doc = xml('node', { xmlns: NS_STORED, created: String(node.created), creator: node.creator }, fieldsElement(node.config));
    return ['n' + SEPARATOR + node.name, doc.toString()];
  }

  affiliationEntry(node: string, jid: string, affiliation: string | null): [string, string | null] {
    return ['a' + SEPARATOR + node + SEPARATOR + jid, affiliation];
  }

  subscriptionEntry(subscription: StoredSubscription, remove = false): [string, string | null] {
    const key = 's' + SEPARATOR + subscription.node + SEPARATOR + subscription.subid;
    if (remove) return [key, null];
    const doc = xml(
      'subscription',
      { xmlns: NS_STORED, jid: subscription.jid, subscription: subscription.state, created: String(subscription.created) },
      fieldsElement(subscription.options),
    );
    return [key, doc.toString()];
  }

  redirectEntry(node: string, uri: string | null): [string, string | null] {
    return ['t' + SEPARATOR + node, uri];
  }

  usageEntry(node: string, usage: Usage | null): [string, string | null] {
    const value = usage ? xml('usage', { xmlns: NS_STORED, items: String(usage.items), bytes: String(usage.bytes), revisions: String(usage.revisions) }).toString() : null;
    return ['u' + SEPARATOR + node, value];
  }

  /** Writes several entries of one service in one transaction. */
  async write(host: string, user: string, entries: [string, string | null][]): Promise<void> {
    if (entries.length === 1) await this.map.set(host, user, entries[0][0], entries[0][1]);
    else if (entries.length > 1) await this.map.setMany(host, user, new Map(entries));
  }

  // --- Items ---

  itemKey(node: string, id: string): string {
    return node + SEPARATOR + id;
  }

  /** An item from its entry in the items archive. */
  toItem(node: string, archiveId: string, when: number, value: string): StoredItem {
    const el = parseStoredXml(value);
    const payload = el.firstElement() ?? null;
    const attrs = el.attrs;
    return {
      id: archiveId.slice(node.length + 1),
      publisher: attrs.publisher ?? '',
      when,
      payload,
      // Stored before revisions existed: a revision derived from what is stored, the same at every read.
      rev: attrs.rev ?? createHash('sha256').update(archiveId).update('\0').update(String(when)).update('\0').update(value).digest('base64url').slice(0, 16),
      size: attrs.size !== undefined ? Number(attrs.size) : payload ? Buffer.byteLength(serialize(payload)) : 0,
      revisions: attrs.revs !== undefined ? { count: Number(attrs.revs), bytes: Number(attrs.revbytes ?? 0) } : NO_REVISIONS,
    };
  }

  /** Stores an item (replacing one with the same id, which then counts as the newest). */
  async appendItem(
    host: string,
    user: string,
    node: string,
    item: { id: string; publisher: string; when: number; payloadXml: string; rev: string; revisions: RevisionCount; text?: string },
  ): Promise<void> {
    const revs = item.revisions.count ? ` revs='${item.revisions.count}' revbytes='${item.revisions.bytes}'` : '';
    const value = `<item xmlns='${NS_STORED}' publisher='${escapeApos(item.publisher)}' rev='${item.rev}' size='${Buffer.byteLength(item.payloadXml)}'${revs}>${item.payloadXml}</item>`;
    await this.archive.append(host, user, { id: this.itemKey(node, item.id), when: item.when, with: node, value, text: item.text });
  }

  /** One item, or null. */
  async item(host: string, user: string, node: string, id: string): Promise<StoredItem | null> {
    const result = await this.archive.query(host, user, { with: node, ids: [this.itemKey(node, id)], limit: 1 });
    const found = result.items[0];
    return found ? this.toItem(node, found.id, found.when, found.value) : null;
  }

  /**
   * Items of a node. `newest` pages back from the newest (max_items, §6.5.7); otherwise forward from the
   * oldest; `after`/`before` are item ids (RSM cursors). `since` leaves out items older than it (item_expire);
   * `text` keeps the items whose text holds every word of it (search-text.ts, ArchiveQuery.text).
   */
  async items(
    host: string,
    user: string,
    node: string,
    query: { ids?: string[]; limit?: number; after?: string; before?: string; newest?: boolean; since?: number; text?: string },
  ): Promise<{ items: StoredItem[]; complete: boolean }> {
    const result = await this.archive.query(host, user, {
      with: node,
      ids: query.ids?.map((id) => this.itemKey(node, id)),
      limit: query.limit,
      after: query.after === undefined ? undefined : this.itemKey(node, query.after),
      before: query.before === undefined ? undefined : this.itemKey(node, query.before),
      reverse: query.newest,
      start: query.since,
      text: query.text,
    });
    return { items: result.items.map((i) => this.toItem(node, i.id, i.when, i.value)), complete: result.complete };
  }

  async countItems(host: string, user: string, node: string, since?: number, text?: string): Promise<number> {
    return this.archive.count(host, user, { with: node, start: since, text });
  }

  /** The oldest `count` items, to trim a node to its max_items. */
  async oldestItems(host: string, user: string, node: string, count: number): Promise<StoredItem[]> {
    if (count <= 0) return [];
    const result = await this.archive.query(host, user, { with: node, limit: count });
    return result.items.map((i) => this.toItem(node, i.id, i.when, i.value));
  }

  /** Items published before a time (item_expire). */
  async itemsBefore(host: string, user: string, node: string, before: number): Promise<StoredItem[]> {
    const result = await this.archive.query(host, user, { with: node, end: before });
    return result.items.map((i) => this.toItem(node, i.id, i.when, i.value));
  }

  /** Counts what a node stores from its items (for nodes stored before usage was kept, and `quire storage usage --recount`). */
  async measure(host: string, user: string, node: string): Promise<Usage> {
    const usage: Usage = { items: 0, bytes: 0, revisions: 0 };
    for (let after: string | undefined; ; ) {
      const page = await this.archive.query(host, user, { with: node, after, limit: 500 });
      for (const i of page.items) {
        const item = this.toItem(node, i.id, i.when, i.value);
        usage.items++;
        usage.bytes += item.size + item.revisions.bytes;
        usage.revisions += item.revisions.count;
      }
      if (page.complete || page.items.length === 0) return usage;
      after = page.items[page.items.length - 1].id;
    }
  }

  /**
   * Indexes the text of every item of a node again, where it stands (`quire storage reindex`: items stored before
   * search existed have none). Resolves how many items there were.
   */
  async reindex(host: string, user: string, node: string): Promise<number> {
    let count = 0;
    for (let after: string | undefined; ; ) {
      const page = await this.items(host, user, node, { after, limit: 500 });
      for (const item of page.items) {
        if (await this.archive.setText(host, user, this.itemKey(node, item.id), payloadText(item.payload))) count++;
      }
      if (page.complete || page.items.length === 0) return count;
      after = page.items[page.items.length - 1].id;
    }
  }

  async deleteItems(host: string, user: string, node: string, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.archive.delete(host, user, { with: node, ids: ids.map((id) => this.itemKey(node, id)) });
  }

  /** Deletes every item of a node, or those published before `before` (item_expire). */
  async purgeItems(host: string, user: string, node: string, before?: number): Promise<number> {
    return this.archive.delete(host, user, { with: node, end: before });
  }
}

function escapeApos(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
}
