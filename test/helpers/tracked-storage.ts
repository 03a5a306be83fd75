// A storage backend wrapper that counts operations, so that a test can tell when the server has finished the work
// that the stanzas sent so far caused (see TestServer.quiet): storage is where that work waits.
import type { StorageBackend } from '../../src/core/storage-api.js';

export class StorageTracker {
  /** Operations started since the server started. */
  started = 0;
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  wrap(backend: StorageBackend): StorageBackend {
    const track = <T extends object>(store: T): T =>
      new Proxy(store, {
        get: (target, key, receiver) => {
          const value = Reflect.get(target, key, receiver) as unknown;
          if (typeof value !== 'function') return value;
          return (...args: unknown[]) => this.count((value as (...a: unknown[]) => unknown).apply(target, args));
        },
      });
    return new Proxy(backend, {
      get: (target, key, receiver) => {
        if (key === 'accounts') return track(target.accounts);
        if (key === 'keyval' || key === 'map' || key === 'archive') return (store: string) => track(target[key](store));
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  private count(result: unknown): unknown {
    if (!(result instanceof Promise)) return result;
    this.started++;
    this.inFlight++;
    const done = () => {
      if (--this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    };
    result.then(done, done);
    return result;
  }

  /** Resolves once no operation is in flight, and none started in the turns that followed. */
  async quiet(): Promise<void> {
    for (;;) {
      if (this.inFlight > 0) await new Promise<void>((resolve) => this.waiters.push(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      if (this.inFlight === 0) return;
    }
  }
}
