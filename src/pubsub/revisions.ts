// Earlier revisions of items (Quire's item history): when an ItemID is published again on a node whose
// max_revisions is above 0, the item it replaces is kept here, so the items store keeps its meaning (the current
// items of a node) and a node's history costs nothing until it is asked for.
//
// Archive store 'pubsub-revisions', in the service's partition like its items: `with` = <node>␟<item id> (so the
// revisions of one item are one indexed query, newest last), id = <node>␟<item id>␟<rev>, `when` = when that
// revision was published. The count and bytes of an item's revisions are kept on the current item (store.ts), so
// quotas and trimming never read this store to know its size.
//
// Revisions go with their item: retracting it, max_items pushing it out, a purge, or deleting the node removes
// them (a deleted document is gone, and its bytes leave the quota).
//
// Read through PubSubService.history() and revision(), with the item's access rules: by the HTTP face, and by XEP-0442
// (MAM on a pubsub node) with Quire's item field, oldest first, which searches an item's few revisions in memory.
import type { ArchiveStore } from '../core/storage-api.js';
import { parseStoredXml } from '../core/roster.js';
import type { Element } from '../core/xml/element.js';
import { NS_STORED, SEPARATOR } from './store.js';

export const REVISIONS_STORE = 'pubsub-revisions';

export interface Revision {
  rev: string;
  /** Bare JID of who published this revision. */
  publisher: string;
  when: number;
  /** UTF-8 bytes of the serialized payload. */
  size: number;
  payload: Element | null;
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/</g, '&lt;');
}

export class RevisionStore {
  constructor(private readonly archive: ArchiveStore) {}

  private withKey(node: string, item: string): string {
    return node + SEPARATOR + item;
  }

  private toRevision(value: string, when: number): Revision {
    const el = parseStoredXml(value);
    return { rev: el.attrs.rev ?? '', publisher: el.attrs.publisher ?? '', when, size: Number(el.attrs.size ?? 0), payload: el.firstElement() ?? null };
  }

  /** Keeps a revision of an item (the one a new publish replaces). */
  async add(host: string, user: string, node: string, item: string, revision: { rev: string; publisher: string; when: number; size: number; payloadXml: string }): Promise<void> {
    const value = `<revision xmlns='${NS_STORED}' publisher='${escapeAttr(revision.publisher)}' rev='${revision.rev}' size='${revision.size}'>${revision.payloadXml}</revision>`;
    const key = this.withKey(node, item);
    await this.archive.append(host, user, { id: key + SEPARATOR + revision.rev, when: revision.when, with: key, value });
  }

  /** An item's revisions, newest first. */
  async list(host: string, user: string, node: string, item: string, limit?: number): Promise<{ revisions: Revision[]; complete: boolean }> {
    const result = await this.archive.query(host, user, { with: this.withKey(node, item), reverse: true, limit });
    return { revisions: result.items.map((i) => this.toRevision(i.value, i.when)), complete: result.complete };
  }

  async get(host: string, user: string, node: string, item: string, rev: string): Promise<Revision | null> {
    const key = this.withKey(node, item);
    const result = await this.archive.query(host, user, { with: key, ids: [key + SEPARATOR + rev], limit: 1 });
    const found = result.items[0];
    return found ? this.toRevision(found.value, found.when) : null;
  }

  /** The oldest `count` revisions of an item (the ones a full history drops first). */
  async oldest(host: string, user: string, node: string, item: string, count: number): Promise<Revision[]> {
    if (count <= 0) return [];
    const result = await this.archive.query(host, user, { with: this.withKey(node, item), limit: count });
    return result.items.map((i) => this.toRevision(i.value, i.when));
  }

  /** Deletes some revisions of an item, or all of them. */
  async delete(host: string, user: string, node: string, item: string, revs?: string[]): Promise<number> {
    const key = this.withKey(node, item);
    if (revs && revs.length === 0) return 0;
    return this.archive.delete(host, user, { with: key, ids: revs?.map((rev) => key + SEPARATOR + rev) });
  }

  /**
   * Deletes the revisions of the given items of a node (a purge or the node's deletion: the caller names the items
   * that have revisions, from their counts). Once ArchiveStore can delete by a `with` prefix, this becomes one
   * delete of <node>␟ whatever the items.
   */
  async deleteItems(host: string, user: string, node: string, items: string[]): Promise<void> {
    for (const item of items) await this.delete(host, user, node, item);
  }
}
