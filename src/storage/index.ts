// Picks the storage backend named in the config. Modules receive a StorageBackend and never import a backend.

import type { Logger } from '../core/logger.js';
import { MemoryBackend } from './memory/index.js';
import { PostgresBackend } from './postgres/index.js';
import { SqliteBackend } from './sqlite/index.js';
import type { StorageBackend } from './types.js';

export type * from './types.js';
export { StorageError, type StorageErrorCode } from './errors.js';

export type BackendSpec =
  | { backend: 'sqlite'; path: string }
  | { backend: 'memory' }
  | { backend: 'postgres'; url: string };

/** Creates the backend; the caller opens it. */
export function createBackend(spec: BackendSpec, options: { log?: Logger } = {}): StorageBackend {
  switch (spec.backend) {
    case 'sqlite':
      return new SqliteBackend({ path: spec.path });
    case 'memory':
      return new MemoryBackend();
    case 'postgres':
      return new PostgresBackend({ url: spec.url, log: options.log });
    default: {
      const unknown: never = spec;
      throw new Error(`unknown storage backend ${JSON.stringify((unknown as { backend: unknown }).backend)}`);
    }
  }
}
