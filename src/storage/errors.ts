// Errors a storage backend raises on purpose, with stable codes callers can switch on.

export type StorageErrorCode =
  /** An archive query's `after`/`before` cursor names an id the archive does not hold (XEP-0059 §2.6). */
  | 'item-not-found'
  /** A store was used before open() or after close(). */
  | 'not-open';

export class StorageError extends Error {
  readonly code: StorageErrorCode;

  constructor(code: StorageErrorCode, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}

export function cursorNotFound(id: string): StorageError {
  return new StorageError('item-not-found', `archive item ${JSON.stringify(id)} not found`);
}
