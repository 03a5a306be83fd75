// Picks the storage backend named in the config. Modules receive a StorageBackend and never import a backend.

import { MemoryBackend } from './memory/index.js';
import { SqliteBackend } from './sqlite/index.js';
import type { StorageBackend } from './types.js';

export type * from './types.js';
export { StorageError, type StorageErrorCode } from './errors.js';

export type BackendSpec =
  | { backend: 'sqlite'; path: string }
  | { backend: 'memory' };
// PostgreSQL joins here: add `| { backend: 'postgres'; url: string }` and a case below.

/** Creates the backend; the caller opens it. */
export function createBackend(spec: BackendSpec): StorageBackend {
  switch (spec.backend) {
    case 'sqlite':
      return new SqliteBackend({ path: spec.path });
    case 'memory':
      return new MemoryBackend();
    // case 'postgres': return new PostgresBackend({ url: spec.url });
    default: {
      const unknown: never = spec;
      throw new Error(`unknown storage backend ${JSON.stringify((unknown as { backend: unknown }).backend)}`);
    }
  }
}
