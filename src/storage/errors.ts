// Errors a storage backend raises on purpose, with stable codes callers can switch on.

export type StorageErrorCode =
  /** An archive query's `after`/`before` cursor names an id the archive does not hold (XEP-0059 §2.6). */
  | 'item-not-found'
  /** A store was used before open() or after close(). */
  | 'not-open'
  /** The database server cannot be reached right now (connection lost, restarting); retrying later may work. */
  | 'unavailable';

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageError';
    this.code = code;
  }

  /** Read by the core's isTemporaryStorageError(), which cannot import this class. */
  get temporary(): boolean {
    return this.code === 'unavailable';
  }
}

export function cursorNotFound(id: string): StorageError {
  return new StorageError('item-not-found', `archive item ${JSON.stringify(id)} not found`);
}
