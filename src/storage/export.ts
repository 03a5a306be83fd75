// Whole-backend export, for `quire migrate` (copying every store from one backend to another).
// A capability of the persistent backends rather than part of StorageBackend: the server never needs it.
// Importing needs no capability: the ordinary store calls are upserts (see copyBackend).

import type { AccountRecord, ArchiveItem, StorageBackend } from './types.js';

export type ExportRow =
  | { kind: 'account'; host: string; user: string; record: AccountRecord }
  | { kind: 'keyval'; store: string; host: string; user: string; value: string }
  | { kind: 'map'; store: string; host: string; user: string; key: string; value: string }
  /**
   * Archive rows come in insertion order, so appending them in turn keeps each archive's order. `text` is what
   * the item was appended with for search (ArchiveStore.append), so a copied archive stays searchable.
   */
  | { kind: 'archive'; store: string; host: string; user: string; item: ArchiveItem; text?: string };

export type ExportKind = ExportRow['kind'];
export type ExportCounts = Record<ExportKind, number>;

export interface Exportable {
  /** Every row of every store, accounts first, archives last and in insertion order. */
  exportAll(): AsyncIterable<ExportRow>;
  /** How many rows exportAll() would yield, per kind. */
  countAll(): Promise<ExportCounts>;
}

export function isExportable(backend: StorageBackend): backend is StorageBackend & Exportable {
  const b = backend as Partial<Exportable>;
  return typeof b.exportAll === 'function' && typeof b.countAll === 'function';
}

/** Writes one exported row through the ordinary store API; running it twice leaves the same data. */
export async function importRow(target: StorageBackend, row: ExportRow): Promise<void> {
  switch (row.kind) {
    case 'account':
      if (!(await target.accounts.create(row.host, row.user, row.record))) await target.accounts.update(row.host, row.user, row.record);
      return;
    case 'keyval':
      return target.keyval(row.store).set(row.host, row.user, row.value);
    case 'map':
      return target.map(row.store).set(row.host, row.user, row.key, row.value);
    case 'archive':
      // An existing id is replaced and moves to the end; copying in insertion order restores the order.
      await target.archive(row.store).append(row.host, row.user, { ...row.item, text: row.text });
      return;
  }
}

export interface CopyProgress {
  done: number;
  total: number;
}

/**
 * Copies every row of `source` into `target` and checks afterwards that the target holds at least as many
 * rows of each kind (more when it had data of its own). Resolves the source's counts.
 */
export async function copyBackend(
  source: StorageBackend & Exportable, target: StorageBackend & Exportable, onProgress?: (p: CopyProgress) => void,
): Promise<ExportCounts> {
  const counts = await source.countAll();
  const total = counts.account + counts.keyval + counts.map + counts.archive;
  let done = 0;
  for await (const row of source.exportAll()) {
    await importRow(target, row);
    done++;
    onProgress?.({ done, total });
  }
  const copied = await target.countAll();
  for (const kind of Object.keys(counts) as ExportKind[]) {
    if (copied[kind] < counts[kind]) {
      throw new Error(`copy incomplete: the source has ${counts[kind]} ${kind} rows, the target ${copied[kind]}`);
    }
  }
  return counts;
}
