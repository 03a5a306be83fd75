// What modules other than pubsub and pep attach to every PubSub service of a server, without either of them
// knowing those modules: storage limits (quotas), and observers of every change of a node (the Storage API's change
// log and event streams). The pubsub and pep modules hand `serverHooks(server)` to the services they make; a module
// that wants them calls attachServiceHooks() in its setup, whatever the order the modules were loaded in.
import type { Jid } from '../core/jid/index.js';
import type { Server } from '../core/server.js';
import type { PubSubService } from './service.js';
import type { StoredItem } from './store.js';

/** Limits on what a service stores; 0 means no limit. */
export interface StorageLimits {
  /** Bytes of payloads, earlier revisions included. */
  bytes: number;
  /** Items (current ones; their revisions count in bytes only). */
  items: number;
}

/** A change of one node, as observers hear of it (inside the service's queue, in the order changes happen). */
export type NodeChange =
  | { kind: 'created'; node: string; requester: Jid }
  | { kind: 'published'; node: string; item: StoredItem; requester: Jid }
  /** Items removed: retracted, pushed out by max_items, or expired (item_expire). */
  | { kind: 'retracted'; node: string; ids: string[]; requester: Jid | null }
  | { kind: 'purged'; node: string; requester: Jid }
  | { kind: 'configured'; node: string; requester: Jid }
  | { kind: 'deleted'; node: string; requester: Jid };

export interface ServiceHooks {
  /** The limits of a service's storage, or null for none. Asked inside the service's queue, before a write lands. */
  limits?(service: PubSubService): StorageLimits | null | Promise<StorageLimits | null>;
  /**
   * Told of every change, inside the service's queue, after it is stored and before XMPP notifications go out. It
   * must not wait for another change of the same service.
   */
  changed?(service: PubSubService, change: NodeChange): void | Promise<void>;
}

const attached = new WeakMap<Server, Set<ServiceHooks>>();

/** Attaches hooks to every service of the server, present and future; returns the function that detaches them. */
export function attachServiceHooks(server: Server, hooks: ServiceHooks): () => void {
  let set = attached.get(server);
  if (!set) attached.set(server, (set = new Set()));
  set.add(hooks);
  return () => set!.delete(hooks);
}

/** The hooks of a server as one object for a ServiceEnvironment: it asks whatever is attached when it is called. */
export function serverHooks(server: Server): ServiceHooks {
  return {
    async limits(service) {
      // The tightest of what every attached module says (in practice there is one).
      let out: StorageLimits | null = null;
      for (const hooks of attached.get(server) ?? []) {
        const limits = await hooks.limits?.(service);
        if (!limits) continue;
        out = out ? { bytes: tighter(out.bytes, limits.bytes), items: tighter(out.items, limits.items) } : limits;
      }
      return out;
    },
    async changed(service, change) {
      for (const hooks of attached.get(server) ?? []) await hooks.changed?.(service, change);
    },
  };
}

function tighter(a: number, b: number): number {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return Math.min(a, b);
}
