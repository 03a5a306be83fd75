// Named events with priorities and stop semantics, as in Prosody's util.events:
// handlers run from the highest priority down, and the first one that returns anything
// other than undefined stops the chain; that value is what fire() returns.
// Fold hooks (ejabberd's run_fold) thread a value through every handler instead.

export type Handler<E> = (event: E) => unknown;
export type FoldHandler<V, E> = (value: V, event: E) => V;

interface Entry<F> {
  handler: F;
  priority: number;
  order: number;
}

let registrationOrder = 0;

function insertSorted<F>(list: Entry<F>[], entry: Entry<F>): Entry<F>[] {
  // Copy on write: a handler that (un)registers during fire() does not disturb the running loop.
  const next = list.slice();
  let i = next.length;
  while (i > 0 && next[i - 1].priority < entry.priority) i--;
  next.splice(i, 0, entry);
  return next;
}

export class EventBus {
  private handlers = new Map<string, Entry<Handler<never>>[]>();
  private folds = new Map<string, Entry<FoldHandler<never, never>>[]>();

  /** Registers a handler; returns a function that removes it. */
  on<E>(name: string, handler: Handler<E>, priority = 0): () => void {
    const entry = { handler: handler as Handler<never>, priority, order: registrationOrder++ };
    this.handlers.set(name, insertSorted(this.handlers.get(name) ?? [], entry));
    return () => {
      const list = this.handlers.get(name);
      if (!list) return;
      const rest = list.filter((e) => e !== entry);
      if (rest.length) this.handlers.set(name, rest);
      else this.handlers.delete(name);
    };
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  /** Runs handlers by priority; the first non-undefined result stops the chain and is returned. */
  fire<E>(name: string, event: E): unknown {
    const list = this.handlers.get(name);
    if (!list) return undefined;
    for (let i = 0; i < list.length; i++) {
      const result = (list[i].handler as Handler<E>)(event);
      if (result !== undefined) return result;
    }
    return undefined;
  }

  /** Registers a fold handler: it receives the current value and returns the next one. */
  fold<V, E>(name: string, handler: FoldHandler<V, E>, priority = 0): () => void {
    const entry = { handler: handler as unknown as FoldHandler<never, never>, priority, order: registrationOrder++ };
    this.folds.set(name, insertSorted(this.folds.get(name) ?? [], entry));
    return () => {
      const list = this.folds.get(name);
      if (list) this.folds.set(name, list.filter((e) => e !== entry));
    };
  }

  /** Whether any fold handler is registered: lets a hot path skip building the fold's event when nobody listens. */
  hasFold(name: string): boolean {
    const list = this.folds.get(name);
    return list !== undefined && list.length > 0;
  }

  /** Threads value through every fold handler; a handler returning null ends the fold with null (dropped). */
  runFold<V, E>(name: string, value: V, event: E): V | null {
    const list = this.folds.get(name);
    if (!list) return value;
    let current: V | null = value;
    for (let i = 0; i < list.length && current !== null; i++) {
      current = (list[i].handler as unknown as FoldHandler<V | null, E>)(current, event);
    }
    return current;
  }
}
