// What modules other than pubsub and pep attach to every PubSub service of a server, without either of them
// knowing those modules: storage limits (quotas), observers of every change of a node (the Storage API's change
// log and event streams), and the profiles of nodes whose payloads have rules of their own (XEP-0277 microblogs,
// XEP-0472 social feeds): the configuration such a node starts from and must keep, and a check and rewrite of each
// payload before it is stored. The pubsub and pep modules hand `serverHooks(server)` to the services they make; a module
// that wants them calls attachServiceHooks() in its setup, whatever the order the modules were loaded in.
import type { Jid } from '../core/jid/index.js';
import type { Server } from '../core/server.js';
import type { Element } from '../core/xml/element.js';
import type { NodeConfig } from './config.js';
import type { PubSubNode, PubSubService } from './service.js';
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

/** What a publish tells beforePublish hooks besides the payload. */
export interface PublishContext {
  requester: Jid;
  /** The ItemID the item is stored under: the publisher's, or the one the service made up (§7.1.2). */
  itemId: string;
  /** Whether the publisher named the ItemID (only then can the publish replace an item). */
  idGiven: boolean;
  /** The stored item this publish replaces, or null; read from storage when asked (inside the service's queue, so
   *  it is the version the publish replaces, whatever else is being published at the same time). */
  previous(): Promise<StoredItem | null>;
}

export interface ServiceHooks {
  /** The limits of a service's storage, or null for none. Asked inside the service's queue, before a write lands. */
  limits?(service: PubSubService): StorageLimits | null | Promise<StorageLimits | null>;
  /**
   * Told of every change, inside the service's queue, after it is stored and before XMPP notifications go out. It
   * must not wait for another change of the same service.
   */
  changed?(service: PubSubService, change: NodeChange): void | Promise<void>;
  /**
   * The configuration a new node starts from (the service's defaults for its type), before the creator's form or
   * publish-options apply. Returns it, changed or not.
   */
  nodeDefaults?(service: PubSubService, node: string, config: NodeConfig): NodeConfig;
  /**
   * The configuration a node is about to get (on creation, after the creator's form; on configuration, after the
   * owner's). Returns it, with the values a profile requires put back, or throws a PubSubError to refuse it.
   */
  checkConfig?(service: PubSubService, node: string, config: NodeConfig): NodeConfig;
  /**
   * Before an item is stored and sent: returns the payload to store instead (normalized), or throws a PubSubError
   * to refuse the publish (XEP-0060 §7.1.3.6: bad-request + invalid-payload, with a text). Called inside the
   * service's queue, for every publish of an item with a payload: over XMPP and over HTTP alike. It must not wait
   * for another change of the same service; changes of other services are fine.
   */
  beforePublish?(service: PubSubService, node: PubSubNode, payload: Element, context: PublishContext): Element | Promise<Element>;
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
    // The next three fold: each attached module gets what the one before it returned.
    nodeDefaults(service, node, config) {
      for (const hooks of attached.get(server) ?? []) if (hooks.nodeDefaults) config = hooks.nodeDefaults(service, node, config);
      return config;
    },
    checkConfig(service, node, config) {
      for (const hooks of attached.get(server) ?? []) if (hooks.checkConfig) config = hooks.checkConfig(service, node, config);
      return config;
    },
    async beforePublish(service, node, payload, context) {
      for (const hooks of attached.get(server) ?? []) if (hooks.beforePublish) payload = await hooks.beforePublish(service, node, payload, context);
      return payload;
    },
  };
}

function tighter(a: number, b: number): number {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return Math.min(a, b);
}
