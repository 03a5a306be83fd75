// Work per key (an account's bare JID), one task at a time, in arrival order. Storage answers asynchronously,
// so two stanzas about one account could otherwise finish in the other order: a presence could overtake the
// subscription approval before it, or an archive could keep messages out of order.
export class SerialQueues {
  private tails = new Map<string, Promise<unknown>>();

  /** Runs task after every task queued before it for the same key; resolves or rejects with its result. */
  run<T>(key: string, task: () => T | Promise<T>): Promise<T> {
    const previous = this.tails.get(key);
    const result = previous ? previous.then(task) : Promise.resolve().then(task);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** True while a task for the key is queued or running: a caller that must not overtake it queues too. */
  busy(key: string): boolean {
    return this.tails.has(key);
  }
}
