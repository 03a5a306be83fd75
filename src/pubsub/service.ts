// One publish-subscribe service: the pubsub.<host> component (XEP-0060) or one account's PEP service (XEP-0163).
// Nodes, affiliations and subscriptions are kept in memory once the service is loaded (so a fan-out touches no
// storage per subscriber); items stay in storage, except a node's last item, which is cached for
// send_last_published_item. Every change goes through one queue per service, so memory and storage agree.
import { randomBytes } from 'node:crypto';
import { tryParseJid, type Jid } from '../core/jid/index.js';
import type { Logger } from '../core/logger.js';
import type { Roster } from '../core/roster.js';
import { StanzaError } from '../core/stanza.js';
import { Element, serialize, xml } from '../core/xml/element.js';
import { ANONYMOUS, AccessCheck, type AccessPurpose, type AccessSubject, type Affiliation } from './access.js';
import {
  applyConfigForm,
  configForm,
  configFromFields,
  configFromPreconditions,
  configToFields,
  maxItemsOf,
  metadataForm,
  unmetPrecondition,
  type ConfigLimits,
  type NodeConfig,
  type NodeType,
} from './config.js';
import { PubSubError, QuotaExceeded, RevisionMismatch, itemNotFound, pubsubError, unsupported } from './errors.js';
import { buildForm, findForm, type DataForm } from '../core/data-forms.js';
import type { NodeChange, ServiceHooks } from './hooks.js';
import { NotificationMessage, SharedEvent, delayElement, eventElement, notificationId, shimHeaders } from './notify.js';
import type { Revision } from './revisions.js';
import { payloadText } from './search-text.js';
import { ListArchive, NodeItemsArchive, type NodeArchive } from './node-archive.js';
import { indexWords, matchesSearch, searchWords } from '../storage/text-search.js';
import { NO_REVISIONS, NO_USAGE, isStorableId, newRevision, type PubSubStore, type RevisionCount, type StoredItem, type Usage } from './store.js';
import {
  applySubscriptionOptionsForm,
  defaultSubscriptionOptions,
  optionsFromFields,
  optionsToFields,
  subscriptionOptionsForm,
  type SubscriptionOptions,
} from './subscription-options.js';

/** XEP-0462: which node types a disco#items request asks for. */
export interface TypeFilter {
  mode: 'include' | 'exclude';
  types: Set<string>;
}

export const NS_PUBSUB_FILTER = 'urn:xmpp:pubsub-filter:0';

/** Reads the <filter xmlns='urn:xmpp:pubsub-filter:0'/> of a disco#items query; bad-request when both lists are given. */
export function parseTypeFilter(query: Element): TypeFilter | undefined {
  const filter = query.getChild('filter', NS_PUBSUB_FILTER);
  const form = filter ? findForm(filter, NS_PUBSUB_FILTER) : null;
  if (!form) return undefined;
  const included = form.fields.find((f) => f.var === 'included-types');
  const excluded = form.fields.find((f) => f.var === 'excluded-types');
  if (included && excluded) throw new PubSubError('bad-request', undefined, { text: 'give included-types or excluded-types, not both (XEP-0462 §2.2)' });
  if (included) return { mode: 'include', types: new Set(included.values) };
  if (excluded) return { mode: 'exclude', types: new Set(excluded.values) };
  return undefined;
}

export const NS_SUBSCRIBE_AUTHORIZATION = 'http://jabber.org/protocol/pubsub#subscribe_authorization';

export type SubscriptionState = 'subscribed' | 'pending' | 'unconfigured';

export interface Subscription {
  node: string;
  subid: string;
  /** The subscribed JID, bare or full, as the subscriber gave it (§6.1.1). */
  jid: Jid;
  state: SubscriptionState;
  options: SubscriptionOptions;
  created: number;
}

export type Item = StoredItem;

export interface ServiceLimits extends ConfigLimits {
  /** Subscriptions one bare JID may hold at this service (§6.1.3.9 too-many-subscriptions beyond). */
  maxSubscriptionsPerJid: number;
  /** The longest lease a subscription may ask for (§12.18). */
  maxLeaseMs: number;
  /** Nodes one service may hold. */
  maxNodes: number;
  /** Items returned at once when a request names no limit (then with RSM, §6.5.4). */
  maxPageSize: number;
}

/** A local account's available resources, for presence-based delivery (§12.3) and show-values. */
export interface ResourcePresence {
  full: string;
  /** The <show/> of its presence, 'online' when none (pubsub#show-values, §16.4.2). */
  show: string;
}

/** What a service needs from the server around it. */
export interface ServiceEnvironment {
  store: PubSubStore;
  /** The storage partition: the account for PEP, (service domain, '') for the pubsub service. */
  host: string;
  user: string;
  /** The service's address: 'pubsub.example.org', or the account's bare JID for PEP. */
  address: Jid;
  pep: boolean;
  limits: ServiceLimits;
  defaults(type: NodeType): NodeConfig;
  /** Routes a stanza from the service. */
  send(stanza: Element): void;
  log: Logger;
  /** The roster of a local account (whose presence the presence and roster access models refer to), or null. */
  rosterOf(bare: string): Promise<Roster | null>;
  /** Whether the entity may create nodes here (§8.1.1). */
  mayCreate(requester: Jid): boolean;
  /** Available resources of a local account; undefined when the JID is not a local account. */
  presenceOf(bare: string): ResourcePresence[] | undefined;
  /**
   * PEP (XEP-0163 §4): recipients beyond the explicit subscribers (contacts with a presence subscription and the
   * owner's own resources, filtered by +notify), as full JIDs. They must pass `access` for notifications.
   */
  implicitRecipients?(node: PubSubNode, access: AccessCheck): string[] | Promise<string[]>;
  /**
   * Told after the items of a node changed (XEP-0402 and XEP-0398 mirror PEP nodes into other storage). Called
   * inside the service's queue: it must not wait for another change of the same service.
   */
  itemsChanged?(change: ItemsChange): void;
  /** Quotas and change observers that other modules attach (hooks.ts). */
  hooks?: ServiceHooks;
}

/** What itemsChanged reports: an item published, items retracted, or every item gone (purge, node deleted). */
export type ItemsChange =
  | { kind: 'published'; node: string; item: Item; requester: Jid }
  | { kind: 'retracted'; node: string; ids: string[]; requester: Jid }
  | { kind: 'purged'; node: string; requester: Jid };

function addTo(index: Map<string, Set<Subscription>>, sub: Subscription): void {
  let set = index.get(sub.jid.bare);
  if (!set) index.set(sub.jid.bare, (set = new Set()));
  set.add(sub);
}

function removeFrom(index: Map<string, Set<Subscription>>, sub: Subscription): void {
  const set = index.get(sub.jid.bare);
  if (!set) return;
  set.delete(sub);
  if (set.size === 0) index.delete(sub.jid.bare);
}

/** A node of the service. */
export class PubSubNode implements AccessSubject {
  /** Affiliations other than 'none', by bare JID. */
  readonly affiliations = new Map<string, Affiliation>();
  /** Subscriptions by SubID. */
  readonly subscriptions = new Map<string, Subscription>();
  /** Subscriptions by the subscribed JID's bare JID. */
  readonly subscriptionsByBare = new Map<string, Set<Subscription>>();
  /** The last published item: undefined until known, null when there is none. */
  last: Item | null | undefined = undefined;
  /** Items in storage, once counted. */
  itemCount: number | undefined = undefined;
  /** What the node stores (store.ts, u␟<node>); undefined until counted, for nodes stored before it was kept. */
  usage: Usage | undefined = undefined;

  constructor(
    readonly name: string,
    public config: NodeConfig,
    readonly created: number,
    readonly creator: string,
    /** The service's subscriptions of every node by subscriber bare JID, kept in step with this node's. */
    private readonly serviceIndex: Map<string, Set<Subscription>> = new Map(),
  ) {}

  affiliationOf(bare: string): Affiliation {
    return this.affiliations.get(bare) ?? 'none';
  }

  hasApprovedSubscription(bare: string): boolean {
    for (const sub of this.subscriptionsByBare.get(bare) ?? []) if (sub.state !== 'pending') return true;
    return false;
  }

  subscriptionsOf(jid: string): Subscription[] {
    const out: Subscription[] = [];
    const bare = jid.includes('/') ? jid.slice(0, jid.indexOf('/')) : jid;
    for (const sub of this.subscriptionsByBare.get(bare) ?? []) if (sub.jid.full === jid) out.push(sub);
    return out;
  }

  get owners(): string[] {
    const out: string[] = [];
    for (const [jid, affiliation] of this.affiliations) if (affiliation === 'owner') out.push(jid);
    return out;
  }

  get isCollection(): boolean {
    return this.config.node_type === 'collection';
  }

  addSubscription(sub: Subscription): void {
    this.subscriptions.set(sub.subid, sub);
    addTo(this.subscriptionsByBare, sub);
    addTo(this.serviceIndex, sub);
  }

  removeSubscription(sub: Subscription): void {
    this.subscriptions.delete(sub.subid);
    removeFrom(this.subscriptionsByBare, sub);
    removeFrom(this.serviceIndex, sub);
  }

  /** Takes the node's subscriptions out of the service index (the node is deleted). */
  forgetSubscriptions(): void {
    for (const sub of this.subscriptions.values()) removeFrom(this.serviceIndex, sub);
  }
}

/**
 * A condition on the current revision of an item, checked inside the service's queue so that of concurrent
 * conditional writers exactly one sees its condition hold (HTTP If-Match and If-None-Match, RFC 9110 §13.1).
 * '*' matches any revision.
 */
export interface ItemCondition {
  /** The write happens only if the item exists at one of these revisions. */
  ifMatch?: string[];
  /** The write happens only if the item does not exist at one of these revisions ('*': does not exist at all). */
  ifNoneMatch?: string[];
}

/** What a publish request carries once parsed (§7.1.1). */
export interface PublishRequest {
  /** The <item/>, or null when the request has none. */
  item: { id?: string; payload: Element | null; payloadCount: number } | null;
  /** Several <item/> elements (batch publishing was removed in 1.13). */
  items: number;
  publishOptions: DataForm | null;
  condition?: ItemCondition;
  /** The configuration of a node this publish auto-creates, applied over the defaults (when no publish-options). */
  createWith?: DataForm;
}

/** What a publish did. */
export interface PublishResult {
  node: string;
  /** The ItemID, when the service made it up (§7.1.2 answers it then). */
  id?: string;
  /** The item as published (with its revision); null for a notification-only publish without an item. */
  item: Item | null;
  /** Whether an item with this id was replaced. */
  replaced: boolean;
}

/** XEP-0059 request. */
export interface PageRequest {
  max?: number;
  after?: string;
  /** '' asks for the last page (§2.5). */
  before?: string;
  index?: number;
}

export interface ItemsResult {
  node: string;
  items: Item[];
  /** XEP-0059 answer, when the request paged or the result was cut. */
  page?: {
    first?: string;
    firstIndex?: number;
    last?: string;
    count: number;
    /** No further items in the direction of the request (XEP-0059 §2.4: after forward, before backward). */
    complete?: boolean;
  };
}

export interface SubscriptionChange {
  jid: string;
  subscription?: string;
  subid?: string;
}

export interface AffiliationChange {
  jid: string;
  affiliation: string;
}

const newId = () => randomBytes(16).toString('hex');

/** HTTP's conditional request rules (RFC 9110 §13.1.1, §13.1.2) applied to the item's current revision. */
function checkCondition(condition: ItemCondition | undefined, current: Item | null, id: string): void {
  if (!condition) return;
  if (condition.ifMatch) {
    if (!current) throw new RevisionMismatch(`there is no item "${id}"`);
    if (!condition.ifMatch.includes('*') && !condition.ifMatch.includes(current.rev)) throw new RevisionMismatch(`item "${id}" is at revision "${current.rev}" now`);
  }
  if (condition.ifNoneMatch && current && (condition.ifNoneMatch.includes('*') || condition.ifNoneMatch.includes(current.rev))) {
    throw new RevisionMismatch(`item "${id}" exists already (revision "${current.rev}")`);
  }
}

/** What an item stores: itself, its payload's bytes and those of its earlier revisions. */
function storedBy(item: Item): Usage {
  return { items: 1, bytes: item.size + item.revisions.bytes, revisions: item.revisions.count };
}

function sum(...usages: Usage[]): Usage {
  const out: Usage = { ...NO_USAGE };
  for (const u of usages) {
    out.items += u.items;
    out.bytes += u.bytes;
    out.revisions += u.revisions;
  }
  return out;
}

function negate(u: Usage): Usage {
  return { items: -u.items, bytes: -u.bytes, revisions: -u.revisions };
}

function subtract(a: Usage, b: Usage): Usage {
  return sum(a, negate(b));
}

/** Last items up to this size (serialized) stay in memory for send_last_published_item. */
const LAST_ITEM_CACHE_CHARS = 8192;

function itemElement(item: Item, withPayload: boolean, withPublisher: boolean): Element {
  const el = xml('item', { id: item.id, publisher: withPublisher && item.publisher ? item.publisher : undefined });
  if (withPayload && item.payload) el.append(item.payload);
  return el;
}

/** The payload with its namespace (and any prefix declared above it) written on it, standing on its own. */
function detachPayload(payload: Element): Element {
  const copy = payload.clone();
  if (!payload.name.includes(':') && copy.attrs.xmlns === undefined && payload.ns) copy.attrs.xmlns = payload.ns;
  return copy;
}

export class PubSubService {
  readonly nodes = new Map<string, PubSubNode>();
  /** Redirect URIs of deleted nodes (§8.4.1), for gone errors. */
  readonly redirects = new Map<string, string>();
  /** Every subscription of every node, by the subscriber's bare JID (presence events, limits, §5.6). */
  readonly subscriptionsByBare = new Map<string, Set<Subscription>>();
  private queue: Promise<unknown> = Promise.resolve();
  /** Changes in progress (the cache keeps busy services). */
  busy = 0;

  private constructor(readonly env: ServiceEnvironment) {}

  get address(): string {
    return this.env.address.full;
  }

  /** Loads a service from storage into memory. */
  static async load(env: ServiceEnvironment): Promise<PubSubService> {
    const service = new PubSubService(env);
    const stored = await env.store.load(env.host, env.user);
    for (const n of stored.nodes) {
      const typeField = n.config.find((f) => f.var === 'pubsub#node_type');
      const type: NodeType = typeField?.values[0] === 'collection' ? 'collection' : 'leaf';
      service.nodes.set(n.name, new PubSubNode(n.name, configFromFields(env.defaults(type), n.config, env.limits), n.created, n.creator, service.subscriptionsByBare));
    }
    for (const a of stored.affiliations) service.nodes.get(a.node)?.affiliations.set(a.jid, a.affiliation as Affiliation);
    for (const s of stored.subscriptions) {
      const node = service.nodes.get(s.node);
      const jid = tryParseJid(s.jid);
      if (!node || !jid) continue;
      node.addSubscription({ node: s.node, subid: s.subid, jid, state: s.state, options: optionsFromFields(s.options), created: s.created });
    }
    for (const [node, uri] of stored.redirects) service.redirects.set(node, uri);
    for (const [node, usage] of stored.usage) {
      const known = service.nodes.get(node);
      if (known) known.usage = usage;
    }
    if (env.pep) {
      // XEP-0163 §3.2: the account is the one owner-publisher of every node.
      for (const node of service.nodes.values()) node.affiliations.set(env.address.bare, 'owner');
    }
    return service;
  }

  /** The configuration a new node starts from: the service's defaults, as the attached profiles adjust them. */
  private defaultsFor(name: string, type: NodeType): NodeConfig {
    const defaults = this.env.defaults(type);
    return this.env.hooks?.nodeDefaults?.(this, name, defaults) ?? defaults;
  }

  /** Runs a change after the ones before it. */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    this.busy++;
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined).finally(() => this.busy--);
    return run;
  }

  private write(entries: [string, string | null][]): Promise<void> {
    return this.env.store.write(this.env.host, this.env.user, entries);
  }

  private saveNodeEntry(node: PubSubNode): [string, string] {
    return this.env.store.nodeEntry({ name: node.name, created: node.created, creator: node.creator, config: configToFields(node.config) });
  }

  private subscriptionEntry(sub: Subscription, remove = false): [string, string | null] {
    return this.env.store.subscriptionEntry(
      { node: sub.node, subid: sub.subid, jid: sub.jid.full, state: sub.state, created: sub.created, options: optionsToFields(sub.options) },
      remove,
    );
  }

  // --- Lookups and permissions ---

  /** The node, or item-not-found, or gone with the redirect URI of a deleted node (§6.1.3.11). */
  requireNode(name: string | undefined): PubSubNode {
    if (name === undefined || name === '') throw pubsubError('bad-request', 'nodeid-required');
    const node = this.nodes.get(name);
    if (node) return node;
    const redirect = this.redirects.get(name);
    if (redirect !== undefined) throw pubsubError('gone', undefined, { conditionText: redirect });
    throw itemNotFound(`no node "${name}" here`);
  }

  private requireOwner(node: PubSubNode, requester: Jid): void {
    if (node.affiliationOf(requester.bare) !== 'owner') throw pubsubError('forbidden', undefined, { text: `only an owner of "${node.name}" may do this` });
  }

  /** An access check with the rosters the node's model needs. */
  async accessFor(node: PubSubNode): Promise<AccessCheck> {
    const rosters: Roster[] = [];
    const model = node.config.access_model;
    if (model === 'presence' || model === 'roster') {
      // The owner's presence: the account of a PEP service, the (local) owners of a node elsewhere.
      const owners = this.env.pep ? [this.env.address.bare] : node.owners;
      for (const owner of owners) {
        const roster = await this.env.rosterOf(owner);
        if (roster) rosters.push(roster);
      }
    }
    return new AccessCheck(node, rosters);
  }

  /** `requester` null is an anonymous reader (the HTTP face), whom only the open access model admits. */
  async checkAccess(node: PubSubNode, requester: Jid | null, purpose: AccessPurpose): Promise<StanzaError | null> {
    return (await this.accessFor(node)).check(requester?.bare ?? ANONYMOUS, purpose);
  }

  /** Whether the entity can see the node at all (disco, XEP-0163 §6.2: subscribe or retrieve allowed). */
  async visible(node: PubSubNode, requester: Jid | null): Promise<boolean> {
    const access = await this.accessFor(node);
    const bare = requester?.bare ?? ANONYMOUS;
    return access.allows(bare, 'subscribe') || access.allows(bare, 'retrieve');
  }

  private mayPublish(node: PubSubNode, requester: Jid): boolean {
    const affiliation = node.affiliationOf(requester.bare);
    if (affiliation === 'owner' || affiliation === 'publisher' || affiliation === 'publish-only') return true;
    if (affiliation === 'outcast') return false;
    switch (node.config.publish_model) {
      case 'open':
        return true;
      case 'subscribers':
        return node.hasApprovedSubscription(requester.bare);
      default:
        return false;
    }
  }

  // --- Collections (XEP-0248) ---

  /** Direct children of a collection, in name order. */
  childrenOf(name: string): PubSubNode[] {
    const out: PubSubNode[] = [];
    for (const node of this.nodes.values()) if (node.config.collection.includes(name)) out.push(node);
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Whether `ancestor` is `node` or reachable from it by parent links (cycle check, §5.2.3.5). */
  private reaches(node: string, ancestor: string, seen = new Set<string>()): boolean {
    if (node === ancestor) return true;
    if (seen.has(node)) return false;
    seen.add(node);
    for (const parent of this.nodes.get(node)?.config.collection ?? []) if (this.reaches(parent, ancestor, seen)) return true;
    return false;
  }

  /** Ancestors with their distance (1 = direct parent), each once at its shortest distance. */
  private ancestors(node: PubSubNode): { node: PubSubNode; depth: number }[] {
    const out: { node: PubSubNode; depth: number }[] = [];
    const seen = new Set<string>([node.name]);
    let frontier = [node];
    for (let depth = 1; frontier.length; depth++) {
      const next: PubSubNode[] = [];
      for (const n of frontier) {
        for (const parentName of n.config.collection) {
          if (seen.has(parentName)) continue;
          seen.add(parentName);
          const parent = this.nodes.get(parentName);
          if (!parent) continue;
          out.push({ node: parent, depth });
          next.push(parent);
        }
      }
      frontier = next;
    }
    return out;
  }

  /** Checks that `parents` can hold `child` (exist, are collections, owned by the requester, within children_max, no cycle). */
  private checkParents(child: string, parents: string[], requester: Jid, existingChildren: (name: string) => number): void {
    for (const parentName of parents) {
      const parent = this.nodes.get(parentName);
      if (!parent) throw itemNotFound(`no collection "${parentName}" here`);
      if (!parent.isCollection) throw pubsubError('not-allowed', 'invalid-options', { text: `"${parentName}" is a leaf node and cannot have children` });
      if (parent.affiliationOf(requester.bare) !== 'owner') throw pubsubError('forbidden', undefined, { text: `only an owner of "${parentName}" may add nodes to it` });
      if (this.reaches(parentName, child)) throw pubsubError('not-allowed', 'invalid-options', { text: `adding "${child}" to "${parentName}" would make a cycle` });
      const max = parent.config.children_max;
      if (max !== 'max' && existingChildren(parentName) + 1 > max) throw pubsubError('not-allowed', 'max-nodes-exceeded');
    }
  }

  // --- §8.1 Create a node ---

  createNode(requester: Jid, name: string | undefined, configure: DataForm | null, preset?: NodeConfig): Promise<PubSubNode> {
    return this.exclusive(async () => this.createNodeNow(requester, name, configure, preset));
  }

  /**
   * Creates a node from a hook that runs inside this service's queue (hooks.ts: changed, beforePublish), where
   * createNode() would wait for the change that is running the hook: XEP-0472 comments nodes are made on the service
   * of the post they belong to.
   */
  createNodeFromHook(requester: Jid, name: string): Promise<PubSubNode> {
    return this.createNodeNow(requester, name, null);
  }

  private async createNodeNow(requester: Jid, name: string | undefined, configure: DataForm | null, preset?: NodeConfig): Promise<PubSubNode> {
    if (!this.env.mayCreate(requester)) throw pubsubError('forbidden', undefined, { text: 'you may not create nodes here' });
    // §8.1.2: instant nodes get a NodeID from the service.
    const nodeName = name === undefined || name === '' ? newId() : name;
    if (!isStorableId(nodeName)) throw pubsubError('not-acceptable', 'nodeid-required', { text: 'that NodeID cannot be used' });
    if (this.nodes.has(nodeName)) throw pubsubError('conflict', undefined, { text: `node "${nodeName}" already exists` });
    if (this.nodes.size >= this.env.limits.maxNodes) throw pubsubError('not-allowed', 'max-nodes-exceeded', { text: `a service holds at most ${this.env.limits.maxNodes} nodes` });
    const typeWanted = configure?.fields.find((f) => f.var === 'pubsub#node_type')?.values[0];
    const type: NodeType = typeWanted === 'collection' ? 'collection' : 'leaf';
    if (type === 'collection' && !this.env.limits.collections) throw unsupported('collections');
    let config = preset ?? this.defaultsFor(nodeName, type);
    let children: string[] | undefined;
    if (configure && configure.type !== 'cancel') {
      const change = applyConfigForm(config, configure, this.env.limits);
      config = change.config;
      children = change.children;
    }
    config = this.env.hooks?.checkConfig?.(this, nodeName, config) ?? config;
    if (config.node_type === 'leaf' && children?.length) throw pubsubError('not-allowed', 'invalid-options', { text: 'a leaf node has no children' });
    const counts = new Map<string, number>();
    const childCount = (n: string) => counts.get(n) ?? this.childrenOf(n).length;
    this.checkParents(nodeName, config.collection, requester, childCount);
    const node = new PubSubNode(nodeName, config, Date.now(), requester.bare, this.subscriptionsByBare);
    node.affiliations.set(this.env.pep ? this.env.address.bare : requester.bare, 'owner');
    node.last = null;
    node.itemCount = 0;
    node.usage = { ...NO_USAGE };
    const entries: [string, string | null][] = [this.saveNodeEntry(node)];
    for (const [jid, affiliation] of node.affiliations) entries.push(this.env.store.affiliationEntry(nodeName, jid, affiliation));
    if (this.redirects.delete(nodeName)) entries.push(this.env.store.redirectEntry(nodeName, null));
    this.nodes.set(nodeName, node);
    if (children?.length) entries.push(...this.setChildren(node, children, requester));
    await this.write(entries);
    await this.changed({ kind: 'created', node: nodeName, requester });
    // XEP-0248 §3.4: the parents' node subscribers hear of the new child.
    for (const parent of config.collection) this.notifyAssociation(parent, nodeName, 'associate');
    return node;
  }

  /** Makes `children` exactly the children of a collection (XEP-0248 §5.2); returns the entries to store. */
  private setChildren(node: PubSubNode, children: string[], requester: Jid): [string, string | null][] {
    const entries: [string, string | null][] = [];
    for (const childName of children) {
      const child = this.nodes.get(childName);
      if (!child) throw itemNotFound(`no node "${childName}" here`);
      if (child.affiliationOf(requester.bare) !== 'owner') throw pubsubError('forbidden', undefined, { text: `only an owner of "${childName}" may move it` });
      if (!child.config.collection.includes(node.name) && this.reaches(node.name, childName)) {
        throw pubsubError('not-allowed', 'invalid-options', { text: `adding "${childName}" to "${node.name}" would make a cycle` });
      }
    }
    const max = node.config.children_max;
    if (max !== 'max' && children.length > max) throw pubsubError('not-allowed', 'max-nodes-exceeded');
    for (const child of this.childrenOf(node.name)) {
      if (children.includes(child.name)) continue;
      child.config = { ...child.config, collection: child.config.collection.filter((c) => c !== node.name) };
      entries.push(this.saveNodeEntry(child));
      this.notifyAssociation(node.name, child.name, 'disassociate');
    }
    for (const childName of children) {
      const child = this.nodes.get(childName)!;
      if (child.config.collection.includes(node.name)) continue;
      child.config = { ...child.config, collection: [...child.config.collection, node.name] };
      entries.push(this.saveNodeEntry(child));
      this.notifyAssociation(node.name, childName, 'associate');
    }
    return entries;
  }

  // --- §8.2 Configure a node ---

  async configurationForm(requester: Jid, name: string | undefined): Promise<Element> {
    const node = this.requireNode(name);
    this.requireOwner(node, requester);
    return buildForm(configForm(node.config, this.env.limits, 'form', { rosterGroups: await this.rosterGroups(node), children: this.childrenOf(node.name).map((c) => c.name) }));
  }

  /** Roster groups of the owners, offered for roster_groups_allowed. */
  private async rosterGroups(node: PubSubNode): Promise<string[]> {
    const groups = new Set<string>();
    for (const owner of this.env.pep ? [this.env.address.bare] : node.owners) {
      const roster = await this.env.rosterOf(owner);
      for (const item of roster?.items.values() ?? []) for (const group of item.groups) groups.add(group);
    }
    return [...groups];
  }

  /** §8.3: the default configuration for a node type, as a form. */
  defaultConfigurationForm(type: NodeType): Element {
    if (type === 'collection' && !this.env.limits.collections) throw unsupported('collections');
    return buildForm(configForm(this.env.defaults(type), this.env.limits, 'form'));
  }

  configure(requester: Jid, name: string | undefined, form: DataForm): Promise<void> {
    return this.exclusive(async () => {
      const node = this.requireNode(name);
      this.requireOwner(node, requester);
      // §8.2.4: a cancelled form leaves the configuration as it is.
      if (form.type === 'cancel') return;
      if (form.type !== 'submit') throw pubsubError('bad-request', 'invalid-options', { text: 'submit the form with type "submit"' });
      const before = node.config;
      const change = applyConfigForm(before, form, this.env.limits);
      const config = this.env.hooks?.checkConfig?.(this, node.name, change.config) ?? change.config;
      // XEP-0248 §5.2.3.4 and §5.2.4.
      if (before.node_type === 'collection' && config.node_type === 'leaf') throw pubsubError('not-allowed', 'invalid-options', { text: 'a collection cannot become a leaf' });
      if (config.node_type === 'leaf' && change.children?.length) throw pubsubError('not-allowed', 'invalid-options', { text: 'a leaf node has no children' });
      const added = config.collection.filter((p) => !before.collection.includes(p));
      const removed = before.collection.filter((p) => !config.collection.includes(p));
      this.checkParents(node.name, added, requester, (p) => this.childrenOf(p).length);
      const becameCollection = before.node_type === 'leaf' && config.node_type === 'collection';
      if (becameCollection) {
        // §5.2.4: the items go; the collection-only options take their defaults.
        const defaults = this.env.defaults('collection');
        Object.assign(config, { children_max: defaults.children_max, deliver_payloads: false, persist_items: false });
      }
      node.config = config;
      const entries: [string, string | null][] = [this.saveNodeEntry(node)];
      if (change.children !== undefined) entries.push(...this.setChildren(node, change.children, requester));
      await this.write(entries);
      if (becameCollection) {
        await this.removeAllItems(node);
        await this.write([this.env.store.usageEntry(node.name, node.usage!)]);
      } else if (config.node_type === 'leaf') {
        await this.trim(node, requester);
      }
      await this.changed({ kind: 'configured', node: node.name, requester });
      for (const parent of added) this.notifyAssociation(parent, node.name, 'associate');
      for (const parent of removed) this.notifyAssociation(parent, node.name, 'disassociate');
      // §8.2.5.3
      if (config.notify_config) {
        const configuration = xml('configuration', { node: node.name });
        if (config.deliver_payloads || config.node_type === 'collection') {
          configuration.append(buildForm(configForm(config, this.env.limits, 'result', { children: this.childrenOf(node.name).map((c) => c.name) })));
        }
        await this.broadcast(node, configuration, { nodeEvent: true });
      }
    });
  }

  // --- §8.4 Delete a node ---

  deleteNode(requester: Jid, name: string | undefined, redirect?: string): Promise<void> {
    return this.exclusive(() => this.deleteNodeNow(requester, name, redirect));
  }

  /** Deletes a node from a hook inside this service's queue (a retracted XEP-0472 post's comments node). */
  deleteNodeFromHook(requester: Jid, name: string): Promise<void> {
    return this.deleteNodeNow(requester, name);
  }

  private async deleteNodeNow(requester: Jid, name: string | undefined, redirect?: string): Promise<void> {
    const node = this.requireNode(name);
    this.requireOwner(node, requester);
    // §8.4.2: subscribers (pending ones too) hear of it, before their subscriptions go.
    if (node.config.notify_delete) {
      const del = xml('delete', { node: node.name }, redirect ? xml('redirect', { uri: redirect }) : null);
      await this.broadcast(node, del, { includePending: true, nodeEvent: true });
    }
    const entries: [string, string | null][] = [[this.saveNodeEntry(node)[0], null]];
    for (const jid of node.affiliations.keys()) entries.push(this.env.store.affiliationEntry(node.name, jid, null));
    for (const sub of node.subscriptions.values()) entries.push(this.subscriptionEntry(sub, true));
    if (redirect) entries.push(this.env.store.redirectEntry(node.name, redirect));
    // XEP-0248 §7.2: children of a deleted collection are left without that parent.
    for (const child of this.childrenOf(node.name)) {
      child.config = { ...child.config, collection: child.config.collection.filter((c) => c !== node.name) };
      entries.push(this.saveNodeEntry(child));
    }
    // §8.4: items (and their revisions) go before the node.
    await this.removeAllItems(node);
    entries.push(this.env.store.usageEntry(node.name, null));
    await this.write(entries);
    node.forgetSubscriptions();
    this.nodes.delete(node.name);
    if (redirect) this.redirects.set(node.name, redirect);
    await this.changed({ kind: 'deleted', node: node.name, requester });
    for (const parent of node.config.collection) this.notifyAssociation(parent, node.name, 'disassociate');
    this.env.itemsChanged?.({ kind: 'purged', node: node.name, requester });
  }

  // --- §8.5 Purge ---

  purge(requester: Jid, name: string | undefined): Promise<void> {
    return this.exclusive(async () => {
      const node = this.requireNode(name);
      const affiliation = node.affiliationOf(requester.bare);
      if (affiliation !== 'owner' && affiliation !== 'publisher') throw pubsubError('forbidden');
      if (node.isCollection || !node.config.persist_items) throw unsupported('persistent-items');
      await this.removeAllItems(node);
      await this.write([this.env.store.usageEntry(node.name, node.usage!)]);
      await this.changed({ kind: 'purged', node: node.name, requester });
      // §8.5.2: one <purge/> per subscriber, never one retraction per item.
      if (node.config.notify_retract) await this.broadcast(node, xml('purge', { node: node.name }), { itemEvent: true });
      this.env.itemsChanged?.({ kind: 'purged', node: node.name, requester });
    });
  }

  // --- §7.1 Publish ---

  publish(requester: Jid, name: string | undefined, request: PublishRequest, autoCreate: boolean): Promise<PublishResult> {
    return this.exclusive(async () => {
      if (name === undefined || name === '') throw pubsubError('bad-request', 'nodeid-required');
      let node = this.nodes.get(name);
      const options = request.publishOptions;
      if (!node) {
        if (this.redirects.has(name) || !autoCreate) this.requireNode(name);
        // No item can be at a revision in a node that does not exist: fail before creating it.
        if (request.condition?.ifMatch) throw new RevisionMismatch(`there is no node "${name}"`);
        // §7.1.4 auto-create; §7.1.5 rule 3: with the preconditions as configuration.
        let preset = options ? configFromPreconditions(this.defaultsFor(name, 'leaf'), options, this.env.limits) : undefined;
        if (!preset && request.createWith) preset = applyConfigForm(this.defaultsFor(name, 'leaf'), request.createWith, this.env.limits).config;
        node = await this.createNodeNow(requester, name, null, preset);
      } else if (options) {
        // §7.1.5 rule 1, XEP-0223: the publish fails when the node is not configured as the publisher requires.
        const unmet = unmetPrecondition(node.config, options, this.env.limits);
        if (unmet) throw pubsubError('conflict', 'precondition-not-met', { text: unmet.reason });
      }
      if (!this.mayPublish(node, requester)) throw pubsubError('forbidden', undefined, { text: `you may not publish to "${node.name}"` });
      if (node.isCollection) throw unsupported('publish', 'a collection node holds no items');
      const config = node.config;
      // §7.1.3.6
      if (request.items > 1) throw pubsubError('bad-request', 'invalid-payload', { text: 'publish one item per request' });
      const item = request.item;
      if (!item && (config.persist_items || config.deliver_payloads)) throw pubsubError('bad-request', 'item-required');
      if (item && !config.persist_items && !config.deliver_payloads) throw pubsubError('bad-request', 'item-forbidden');
      if (item && item.payloadCount > 1) throw pubsubError('bad-request', 'invalid-payload', { text: 'an item holds exactly one payload element' });
      if (item && !item.payload && config.deliver_payloads) throw pubsubError('bad-request', 'payload-required');
      if (item?.id !== undefined && !isStorableId(item.id)) throw pubsubError('bad-request', 'invalid-payload', { text: 'that ItemID cannot be used' });
      const id = item?.id ?? newId();
      let payload = item?.payload ? detachPayload(item.payload) : null;
      const beforePublish = this.env.hooks?.beforePublish;
      if (payload && beforePublish) {
        const { store, host, user } = this.env;
        const previous = () => (item?.id !== undefined ? store.item(host, user, node.name, id) : Promise.resolve(null));
        payload = detachPayload(await beforePublish(this, node, payload, { requester, itemId: id, idGiven: item?.id !== undefined, previous }));
      }
      const payloadXml = payload ? serialize(payload) : '';
      const size = Buffer.byteLength(payloadXml);
      // §7.1.3.4
      if (size > config.max_payload_size) {
        throw pubsubError('not-acceptable', 'payload-too-big', { text: `the payload is larger than ${config.max_payload_size} bytes` });
      }
      if (!item) {
        // A transient, notification-only node: an empty <items/> is the whole notification (§4.3).
        await this.broadcast(node, xml('items', { node: node.name }), { itemEvent: true });
        return { node: node.name, item: null, replaced: false };
      }
      const published: Item = { id, rev: newRevision(), publisher: requester.bare, when: Date.now(), payload, size, revisions: NO_REVISIONS };
      let replaced: Item | null = null;
      let trimmed: Item[] = [];
      if (config.persist_items) {
        const { store, host, user } = this.env;
        const max = maxItemsOf(config, this.env.limits);
        const count = await this.count(node);
        // Counted before anything is written (a node stored before usage was kept is measured from its items).
        await this.usageOf(node);
        replaced = item.id !== undefined && count > 0 ? await store.item(host, user, node.name, id) : null;
        if (item.id !== undefined) checkCondition(request.condition, replaced, id);
        // §7.1.3.3: publish_node_full = reject.
        if (!replaced && count >= max && config.publish_node_full === 'reject') throw pubsubError('conflict', 'node-full');
        if (max === 0) throw pubsubError('conflict', 'node-full', { text: 'this node keeps no items' });
        const history = await this.historyFor(node, replaced);
        published.revisions = history.revisions;
        // §7.1.2.5: a new item on a full node pushes the oldest out; known before writing, so the quota counts it.
        if (!replaced) trimmed = await store.oldestItems(host, user, node.name, count + 1 - max);
        const delta = subtract(sum(storedBy(published), ...trimmed.map((t) => negate(storedBy(t)))), replaced ? storedBy(replaced) : NO_USAGE);
        await this.admit(delta);
        const text = store.searchable ? payloadText(payload) : undefined;
        await store.appendItem(host, user, node.name, { id, publisher: published.publisher, when: published.when, payloadXml, rev: published.rev, revisions: published.revisions, text });
        if (replaced && store.revisions) {
          if (history.keep) await store.revisions.add(host, user, node.name, id, { ...replaced, payloadXml: replaced.payload ? serialize(replaced.payload) : '' });
          if (history.drop === 'all') await store.revisions.delete(host, user, node.name, id);
          else if (history.drop.length) await store.revisions.delete(host, user, node.name, id, history.drop);
        }
        await this.removeItems(node, trimmed);
        node.itemCount = count + delta.items;
        await this.write([await this.account(node, delta)]);
      }
      // Large payloads (avatar data) are read again when needed rather than kept for every node in memory.
      node.last = payloadXml.length <= LAST_ITEM_CACHE_CHARS ? published : undefined;
      if (!config.persist_items) node.last = published;
      await this.changed({ kind: 'published', node: node.name, item: published, requester });
      await this.notifyItem(node, published);
      if (trimmed.length) await this.itemsRemoved(node, trimmed.map((t) => t.id), null, config.publish_node_full === 'retract-oldest' && config.notify_retract);
      this.env.itemsChanged?.({ kind: 'published', node: node.name, item: published, requester });
      return { id: item.id === undefined ? id : undefined, node: node.name, item: published, replaced: replaced !== null };
    });
  }

  private async count(node: PubSubNode): Promise<number> {
    if (node.itemCount === undefined) node.itemCount = await this.env.store.countItems(this.env.host, this.env.user, node.name);
    return node.itemCount;
  }

  /**
   * What republishing an item does to its history: keep the replaced revision (max_revisions above 0), and drop the
   * oldest ones beyond max_revisions (all of them when the node keeps none, as after lowering it to 0).
   */
  private async historyFor(node: PubSubNode, replaced: Item | null): Promise<{ keep: boolean; drop: string[] | 'all'; revisions: RevisionCount }> {
    const revisionStore = this.env.store.revisions;
    if (!replaced) return { keep: false, drop: [], revisions: NO_REVISIONS };
    if (!revisionStore) return { keep: false, drop: [], revisions: replaced.revisions };
    const had = replaced.revisions;
    const max = node.config.max_revisions;
    if (max === 0) return { keep: false, drop: had.count ? 'all' : [], revisions: NO_REVISIONS };
    const excess = had.count + 1 - max;
    if (excess <= 0) return { keep: true, drop: [], revisions: { count: had.count + 1, bytes: had.bytes + replaced.size } };
    const oldest = await revisionStore.oldest(this.env.host, this.env.user, node.name, replaced.id, excess);
    const dropped = oldest.reduce((n, r) => n + r.size, 0);
    return { keep: true, drop: oldest.map((r) => r.rev), revisions: { count: had.count + 1 - oldest.length, bytes: had.bytes + replaced.size - dropped } };
  }

  /** Keeps a node within max_items, oldest first (after its configuration changed). */
  private async trim(node: PubSubNode, requester: Jid): Promise<void> {
    const max = maxItemsOf(node.config, this.env.limits);
    const count = await this.count(node);
    if (count <= max) return;
    const items = await this.env.store.oldestItems(this.env.host, this.env.user, node.name, count - max);
    const removed = await this.removeItems(node, items);
    node.itemCount = Math.max(0, count - items.length);
    await this.write([await this.account(node, removed)]);
    await this.itemsRemoved(node, items.map((i) => i.id), requester, node.config.publish_node_full === 'retract-oldest' && node.config.notify_retract);
  }

  /** Observers and, with `notify`, subscribers hear that items went (§7.1.2.5, §7.2.2.1). */
  private async itemsRemoved(node: PubSubNode, ids: string[], requester: Jid | null, notify: boolean): Promise<void> {
    if (node.last && ids.includes(node.last.id)) node.last = undefined;
    await this.changed({ kind: 'retracted', node: node.name, ids, requester });
    if (notify && ids.length) {
      await this.broadcast(node, xml('items', { node: node.name }, ids.map((id) => xml('retract', { id }))), { itemEvent: true });
    }
  }

  /** Deletes items and their earlier revisions; returns the (negative) change of the node's usage. */
  private async removeItems(node: PubSubNode, items: Item[]): Promise<Usage> {
    if (items.length === 0) return { ...NO_USAGE };
    const { store, host, user } = this.env;
    await this.usageOf(node);
    await store.deleteItems(host, user, node.name, items.map((i) => i.id));
    for (const item of items) if (item.revisions.count && store.revisions) await store.revisions.delete(host, user, node.name, item.id);
    return negate(sum(...items.map(storedBy)));
  }

  /** Deletes every item of a node with their revisions (purge, deletion, a leaf becoming a collection). */
  private async removeAllItems(node: PubSubNode): Promise<void> {
    const { store, host, user } = this.env;
    const usage = await this.usageOf(node);
    if (usage.revisions > 0 && store.revisions) {
      const { items } = await store.items(host, user, node.name, {});
      await store.revisions.deleteItems(host, user, node.name, items.filter((i) => i.revisions.count > 0).map((i) => i.id));
    }
    await store.purgeItems(host, user, node.name);
    node.usage = { ...NO_USAGE };
    node.last = null;
    node.itemCount = 0;
  }

  // --- Usage and quotas ---

  /** What a node stores; counted from its items the first time for nodes stored before usage was kept. */
  private async usageOf(node: PubSubNode): Promise<Usage> {
    node.usage ??= await this.env.store.measure(this.env.host, this.env.user, node.name);
    return node.usage;
  }

  /** Applies a change to a node's usage; returns the entry that stores it. */
  private async account(node: PubSubNode, delta: Usage): Promise<[string, string | null]> {
    const usage = await this.usageOf(node);
    node.usage = {
      items: Math.max(0, usage.items + delta.items),
      bytes: Math.max(0, usage.bytes + delta.bytes),
      revisions: Math.max(0, usage.revisions + delta.revisions),
    };
    return this.env.store.usageEntry(node.name, node.usage);
  }

  /** The whole service's usage; nodes counted for the first time have their count stored. */
  private async totalUsage(): Promise<Usage> {
    const total: Usage = { ...NO_USAGE };
    const measured: [string, string | null][] = [];
    for (const node of this.nodes.values()) {
      const known = node.usage !== undefined;
      const usage = await this.usageOf(node);
      if (!known) measured.push(this.env.store.usageEntry(node.name, usage));
      total.items += usage.items;
      total.bytes += usage.bytes;
      total.revisions += usage.revisions;
    }
    await this.write(measured);
    return total;
  }

  /** What the service stores over all its nodes (after the changes queued before this). */
  usage(): Promise<Usage> {
    return this.exclusive(() => this.totalUsage());
  }

  /** What one node stores, or undefined when there is no such node. */
  nodeUsage(name: string): Promise<Usage | undefined> {
    return this.exclusive(async () => {
      const node = this.nodes.get(name);
      return node ? { ...(await this.usageOf(node)) } : undefined;
    });
  }

  /** Refuses a change that would take the service over the limits its hooks give (checked before it lands). */
  private async admit(delta: Usage): Promise<void> {
    if (delta.bytes <= 0 && delta.items <= 0) return;
    const limits = await this.env.hooks?.limits?.(this);
    if (!limits || (limits.bytes <= 0 && limits.items <= 0)) return;
    const total = await this.totalUsage();
    if (limits.bytes > 0 && delta.bytes > 0 && total.bytes + delta.bytes > limits.bytes) {
      throw new QuotaExceeded(`storage quota exceeded: ${this.address} may store ${limits.bytes} bytes; it stores ${total.bytes} and this needs ${delta.bytes} more`);
    }
    if (limits.items > 0 && delta.items > 0 && total.items + delta.items > limits.items) {
      throw new QuotaExceeded(`storage quota exceeded: ${this.address} may store ${limits.items} items; it stores ${total.items}`);
    }
  }

  /** Tells the attached observers (hooks.ts); their failures are logged, never the change's. */
  private async changed(change: NodeChange): Promise<void> {
    const hook = this.env.hooks?.changed;
    if (!hook) return;
    try {
      await hook(this, change);
    } catch (err) {
      this.env.log.error({ err, node: change.node, kind: change.kind }, 'an observer of pubsub changes failed');
    }
  }

  // --- §7.2 Retract ---

  /** `condition` applies to the one item of a single-item retraction (HTTP DELETE with If-Match). */
  retract(requester: Jid, name: string | undefined, ids: (string | undefined)[], notify: boolean | undefined, condition?: ItemCondition): Promise<void> {
    return this.exclusive(async () => {
      if (name === undefined || name === '') throw pubsubError('bad-request', 'nodeid-required');
      if (ids.length === 0 || ids.some((id) => id === undefined || id === '')) throw pubsubError('bad-request', 'item-required');
      const node = this.requireNode(name);
      if (node.isCollection || !node.config.persist_items) throw unsupported('persistent-items');
      const affiliation = node.affiliationOf(requester.bare);
      if (affiliation === 'outcast' || affiliation === 'member' || (affiliation === 'none' && !this.mayPublish(node, requester))) throw pubsubError('forbidden');
      const wanted = [...new Set(ids as string[])];
      const found = await this.env.store.items(this.env.host, this.env.user, node.name, { ids: wanted });
      if (condition && wanted.length === 1) checkCondition(condition, found.items[0] ?? null, wanted[0]);
      // §12.10 batches: all or nothing.
      if (found.items.length !== wanted.length) throw itemNotFound('no such item');
      // §4.1 note: owners and publishers remove any item; publish-only and open publishers only their own.
      if (affiliation !== 'owner' && affiliation !== 'publisher' && found.items.some((i) => i.publisher !== requester.bare)) throw pubsubError('forbidden');
      const removed = await this.removeItems(node, found.items);
      if (node.itemCount !== undefined) node.itemCount = Math.max(0, node.itemCount + removed.items);
      await this.write([await this.account(node, removed)]);
      // §7.2.2.1: notify when asked to, else as the node is configured.
      await this.itemsRemoved(node, wanted, requester, notify ?? node.config.notify_retract);
      this.env.itemsChanged?.({ kind: 'retracted', node: node.name, ids: wanted, requester });
    });
  }

  // --- §6.1 Subscribe ---

  subscribe(requester: Jid, name: string | undefined, jidText: string | undefined, optionsForm: DataForm | null): Promise<{ subscription: Subscription; created: boolean }> {
    return this.exclusive(async () => {
      if (name === undefined || name === '') throw pubsubError('bad-request', 'nodeid-required', { text: 'subscriptions to the root collection are not supported' });
      // The jid is required by §6.1.1; the XMPP URI form (§12.22) leaves it out, meaning the requester itself.
      const jid = jidText === undefined ? requester.bareJid() : tryParseJid(jidText);
      if (!jid) throw pubsubError('bad-request', 'invalid-jid', { text: `"${jidText}" is not a JID` });
      // §6.1.3.1
      if (jid.bare !== requester.bare) throw pubsubError('bad-request', 'invalid-jid', { text: 'you may only subscribe your own JIDs' });
      const node = this.requireNode(name);
      if (!node.config.subscribe) throw unsupported('subscribe');
      const access = await this.accessFor(node);
      const denied = access.check(jid.bare, 'subscribe');
      if (denied) throw denied;
      const existing = node.subscriptionsOf(jid.full);
      // §6.1.3.7
      if (existing.some((s) => s.state === 'pending')) throw pubsubError('not-authorized', 'pending-subscription');
      let options = defaultSubscriptionOptions();
      if (optionsForm) options = applySubscriptionOptionsForm(options, optionsForm, this.env.limits.maxLeaseMs);
      if (node.config.tempsub) options.expire = 'presence';
      // §6.1.6: the same request again gets the current subscription; different options make a second one.
      if (existing.length && !optionsForm) return { subscription: existing[0], created: false };
      const total = this.subscriptionsByBare.get(jid.bare)?.size ?? 0;
      if (total >= this.env.limits.maxSubscriptionsPerJid) throw pubsubError('policy-violation', 'too-many-subscriptions', { type: 'wait' });
      const affiliation = node.affiliationOf(jid.bare);
      // §6.1.4: the authorize model asks the owners, except for those they already admitted.
      const state: SubscriptionState = node.config.access_model === 'authorize' && affiliation === 'none' ? 'pending' : 'subscribed';
      const sub: Subscription = { node: node.name, subid: newId(), jid, state, options, created: Date.now() };
      node.addSubscription(sub);
      await this.write([this.subscriptionEntry(sub)]);
      if (state === 'pending') this.askOwners(node, sub);
      else {
        this.notifyOwnersOfSubscription(node, sub);
        // §6.1.7: after the IQ result, so it arrives second.
        if (node.config.send_last_published_item !== 'never') setImmediate(() => void this.sendLastTo(node, sub.jid.full, [sub]).catch((err: unknown) => this.env.log.error({ err }, 'sending the last item failed')));
      }
      return { subscription: sub, created: true };
    });
  }

  /** §8.6: the subscription approval form, to each owner. */
  private askOwners(node: PubSubNode, sub: Subscription): void {
    const form = buildForm({
      type: 'form',
      formType: NS_SUBSCRIBE_AUTHORIZATION,
      title: 'PubSub subscriber request',
      instructions: ["To approve this entity's subscription request, click the OK button. To deny the request, click the cancel button."],
      fields: [
        { var: 'pubsub#subid', type: 'hidden', values: [sub.subid] },
        { var: 'pubsub#node', type: 'text-single', label: 'Node ID', values: [node.name] },
        { var: 'pubsub#subscriber_jid', type: 'jid-single', label: 'Subscriber Address', values: [sub.jid.full] },
        { var: 'pubsub#allow', type: 'boolean', label: 'Allow this JID to subscribe to this pubsub node?', values: ['false'] },
      ],
    });
    for (const owner of node.owners) this.env.send(xml('message', { from: this.address, to: owner, id: notificationId() }, form.clone()));
  }

  /** Subscriptions of a JID to a node, narrowed by SubID as §6.2.3 and §6.3.4 require. */
  private pickSubscriptions(node: PubSubNode, jid: Jid, subid: string | undefined, notSubscribedType: 'cancel' | 'modify'): Subscription[] {
    const subs = node.subscriptionsOf(jid.full);
    if (subs.length === 0) throw pubsubError('unexpected-request', 'not-subscribed', { type: notSubscribedType });
    if (subid === undefined) {
      if (subs.length > 1) throw pubsubError('bad-request', 'subid-required');
      return subs;
    }
    const match = subs.filter((s) => s.subid === subid);
    if (match.length === 0) throw pubsubError('not-acceptable', 'invalid-subid');
    return match;
  }

  // --- §6.2 Unsubscribe ---

  unsubscribe(requester: Jid, name: string | undefined, jidText: string | undefined, subid: string | undefined): Promise<Subscription> {
    return this.exclusive(async () => {
      const jid = jidText === undefined ? requester.bareJid() : tryParseJid(jidText);
      if (!jid) throw pubsubError('bad-request', 'invalid-jid', { text: `"${jidText}" is not a JID` });
      // §6.2.3.3
      if (jid.bare !== requester.bare) throw pubsubError('forbidden');
      const node = this.requireNode(name);
      const [sub] = this.pickSubscriptions(node, jid, subid, 'cancel');
      node.removeSubscription(sub);
      await this.write([this.subscriptionEntry(sub, true)]);
      this.notifyOwnersOfSubscription(node, { ...sub, state: 'none' as SubscriptionState });
      return sub;
    });
  }

  // --- §6.3 Subscription options ---

  /** The subscription whose options a request is about (§6.3.4 errors). */
  private optionsTarget(requester: Jid, name: string | undefined, jidText: string | undefined, subid: string | undefined): { node: PubSubNode; sub: Subscription } {
    if (jidText === undefined || jidText === '') throw pubsubError('bad-request', 'jid-required');
    if (name === undefined || name === '') throw pubsubError('bad-request', 'nodeid-required');
    const jid = tryParseJid(jidText);
    if (!jid) throw pubsubError('bad-request', 'invalid-jid');
    if (jid.bare !== requester.bare) throw pubsubError('forbidden');
    const node = this.requireNode(name);
    const [sub] = this.pickSubscriptions(node, jid, subid, 'modify');
    return { node, sub };
  }

  optionsForm(requester: Jid, name: string | undefined, jidText: string | undefined, subid: string | undefined): Element {
    const { node, sub } = this.optionsTarget(requester, name, jidText, subid);
    return buildForm(subscriptionOptionsForm(sub.options, 'form', node.isCollection));
  }

  setOptions(requester: Jid, name: string | undefined, jidText: string | undefined, subid: string | undefined, form: DataForm): Promise<void> {
    return this.exclusive(async () => {
      const { sub } = this.optionsTarget(requester, name, jidText, subid);
      if (form.type === 'cancel') return;
      sub.options = applySubscriptionOptionsForm(sub.options, form, this.env.limits.maxLeaseMs);
      if (sub.state === 'unconfigured') sub.state = 'subscribed';
      await this.write([this.subscriptionEntry(sub)]);
    });
  }

  /** §6.4: default subscription options, of a node or of the service. */
  defaultOptionsForm(name: string | undefined): Element {
    const collection = name !== undefined && name !== '' ? this.requireNode(name).isCollection : false;
    return buildForm(subscriptionOptionsForm(defaultSubscriptionOptions(), 'result', collection));
  }

  subscriptionOptionsResult(sub: Subscription): Element {
    return buildForm(subscriptionOptionsForm(sub.options, 'result', this.nodes.get(sub.node)?.isCollection ?? false));
  }

  // --- §6.5 Retrieve items ---

  /**
   * §6.5 items retrieval; `requester` null is an anonymous reader (the HTTP face): open nodes only. `text` (Quire's
   * search) keeps the items whose payload text holds every word of it (search-text.ts); it needs a store that
   * indexes text (`searchable`).
   */
  async items(
    requester: Jid | null,
    name: string | undefined,
    request: { ids?: string[]; maxItems?: number; subid?: string; page?: PageRequest; text?: string },
  ): Promise<ItemsResult[]> {
    if (request.text !== undefined && !this.searchable) throw unsupported('retrieve-items', 'this storage cannot search text');
    const node = this.requireNode(name);
    const access = await this.accessFor(node);
    const denied = access.check(requester?.bare ?? ANONYMOUS, 'retrieve');
    if (denied) throw denied;
    if (request.subid !== undefined) {
      const mine = requester ? node.subscriptionsByBare.get(requester.bare) : undefined;
      if (![...(mine ?? [])].some((s) => s.subid === request.subid)) throw pubsubError('not-acceptable', 'invalid-subid');
    }
    if (node.isCollection) {
      // XEP-0248 §4.2: the items of the collection's leaves, one <items/> each, as far as the requester may read them.
      const out: ItemsResult[] = [];
      for (const child of this.childrenOf(node.name)) {
        if (child.isCollection || (await this.checkAccess(child, requester, 'retrieve')) !== null) continue;
        out.push(await this.leafItems(child, { maxItems: request.maxItems ?? this.env.limits.maxPageSize, text: request.text }));
      }
      return out;
    }
    return [await this.leafItems(node, request)];
  }

  private since(node: PubSubNode): number | undefined {
    return node.config.item_expire === 'max' ? undefined : Date.now() - node.config.item_expire * 1000;
  }

  /** Whether items can be searched by text (items() with `text`). */
  get searchable(): boolean {
    return this.env.store.searchable;
  }

  private async leafItems(node: PubSubNode, request: { ids?: string[]; maxItems?: number; page?: PageRequest; text?: string }): Promise<ItemsResult> {
    const { host, user, store } = this.env;
    const text = request.text;
    if (!node.config.persist_items) {
      // §6.5.6: a transient node returns its last item, if it has one.
      const last = node.last;
      const matches = last && (text === undefined || matchesSearch(new Set(indexWords(payloadText(last.payload) ?? '')), searchWords(text)));
      return { node: node.name, items: last && matches && (!request.ids || request.ids.includes(last.id)) ? [last] : [] };
    }
    const since = this.since(node);
    if (request.ids) {
      const found = await store.items(host, user, node.name, { ids: request.ids, since, text });
      return { node: node.name, items: found.items };
    }
    const page = request.page;
    const pageSize = Math.min(page?.max ?? request.maxItems ?? this.env.limits.maxPageSize, this.env.limits.maxPageSize);
    try {
      if (page && (page.after !== undefined || page.before !== undefined || page.index !== undefined || page.max !== undefined)) {
        const count = await store.countItems(host, user, node.name, since, text);
        let items: Item[];
        let firstIndex: number | undefined;
        let complete: boolean;
        if (page.after !== undefined) {
          ({ items, complete } = await store.items(host, user, node.name, { after: page.after, limit: pageSize, since, text }));
        } else if (page.before !== undefined) {
          // §2.5: an empty <before/> is the last page.
          ({ items, complete } = await store.items(host, user, node.name, { before: page.before === '' ? undefined : page.before, newest: true, limit: pageSize, since, text }));
          items.reverse();
          if (page.before === '') firstIndex = count - items.length;
        } else if (page.index !== undefined) {
          const upTo = (await store.items(host, user, node.name, { limit: Math.min(page.index, count) + pageSize, since, text })).items;
          items = upTo.slice(page.index);
          firstIndex = page.index;
          complete = page.index + items.length >= count;
        } else {
          ({ items, complete } = await store.items(host, user, node.name, { limit: pageSize, since, text }));
          firstIndex = 0;
        }
        const result: ItemsResult = { node: node.name, items, page: { count, complete } };
        if (items.length) {
          result.page!.first = items[0].id;
          result.page!.last = items[items.length - 1].id;
          if (firstIndex !== undefined) result.page!.firstIndex = firstIndex;
        }
        return result;
      }
      // §6.5.7: the N most recent, in publication order; with no limit asked, the newest page, said to be cut (§6.5.4).
      const found = await store.items(host, user, node.name, { newest: true, limit: pageSize, since, text });
      const items = found.items.reverse();
      if (request.maxItems === undefined && !found.complete) {
        const count = await store.countItems(host, user, node.name, since, text);
        return { node: node.name, items, page: { count, first: items[0]?.id, last: items[items.length - 1]?.id, firstIndex: count - items.length } };
      }
      return { node: node.name, items };
    } catch (err) {
      // XEP-0059 §2.6: a cursor that names no item.
      if ((err as { code?: string }).code === 'item-not-found') throw itemNotFound('no item with that id to page from');
      throw err;
    }
  }

  // --- Quire's item history ---

  /**
   * An item's revisions: the current one, then the earlier ones newest first; read as the item is (§6.5 access).
   * A publish between the two reads may list the then current revision twice, so it is left out of the earlier ones.
   */
  async history(requester: Jid | null, name: string | undefined, id: string): Promise<{ current: Item; earlier: Revision[] }> {
    const current = await this.readItem(requester, name, id);
    const { store, host, user } = this.env;
    const earlier = current.item.revisions.count && store.revisions ? (await store.revisions.list(host, user, current.node, id)).revisions : [];
    return { current: current.item, earlier: earlier.filter((r) => r.rev !== current.item.rev) };
  }

  /**
   * XEP-0442: the node's items as an archive for a MAM query, once the requester may read them (§6.5 access). A
   * transient node keeps no items (§6.5.6 answers its last one), so its archive is empty.
   */
  async nodeArchive(requester: Jid | null, name: string | undefined): Promise<{ node: PubSubNode; archive: NodeArchive }> {
    const node = this.requireNode(name);
    if (node.isCollection) throw unsupported('retrieve-items', 'a collection node has no archive of its own: query its leaves');
    const denied = await this.checkAccess(node, requester, 'retrieve');
    if (denied) throw denied;
    const archive = node.config.persist_items ? new NodeItemsArchive(this.env.store, node.name, this.since(node)) : new ListArchive([]);
    return { node, archive };
  }

  /** XEP-0442 on one item (Quire's item history): its earlier revisions, oldest first, then the current one. */
  async itemHistoryArchive(requester: Jid | null, name: string | undefined, id: string): Promise<{ node: PubSubNode; archive: NodeArchive }> {
    const { current, earlier } = await this.history(requester, name, id);
    const node = this.requireNode(name);
    const revisions: Item[] = earlier.reverse().map((r) => ({ ...r, id, revisions: NO_REVISIONS }));
    return { node, archive: new ListArchive([...revisions, current]) };
  }

  /** One revision of an item, the current one included. */
  async revision(requester: Jid | null, name: string | undefined, id: string, rev: string): Promise<Revision & { current: boolean }> {
    const { item, node } = await this.readItem(requester, name, id);
    if (item.rev === rev) return { ...item, current: true };
    const { store, host, user } = this.env;
    const found = store.revisions ? await store.revisions.get(host, user, node, id, rev) : null;
    if (!found) throw itemNotFound(`item "${id}" has no revision "${rev}"`);
    return { ...found, current: false };
  }

  /** The current item, as the requester may read it. */
  private async readItem(requester: Jid | null, name: string | undefined, id: string): Promise<{ item: Item; node: string }> {
    // A collection answers its leaves' items (XEP-0248 §4.2), none of which is its own.
    if (this.requireNode(name).isCollection) throw unsupported('retrieve-items', 'a collection node holds no items');
    const [result] = await this.items(requester, name, { ids: [id] });
    const item = result?.items.find((i) => i.id === id);
    if (!result || !item) throw itemNotFound(`no item "${id}" here`);
    return { item, node: result.node };
  }

  /** The item elements of a result, with payload and publisher as the node is configured (§7.1.2.2). */
  itemElements(result: ItemsResult): Element[] {
    const node = this.nodes.get(result.node);
    const withPublisher = node?.config.itemreply === 'publisher';
    return result.items.map((item) => itemElement(item, true, withPublisher));
  }

  // --- §5.6, §5.7 An entity's own subscriptions and affiliations ---

  subscriptionsOfEntity(requester: Jid, name?: string): Subscription[] {
    if (name !== undefined) return [...(this.requireNode(name).subscriptionsByBare.get(requester.bare) ?? [])];
    return [...(this.subscriptionsByBare.get(requester.bare) ?? [])];
  }

  affiliationsOfEntity(requester: Jid, name?: string): { node: string; affiliation: Affiliation }[] {
    const out: { node: string; affiliation: Affiliation }[] = [];
    const nodes = name === undefined ? [...this.nodes.values()] : [this.requireNode(name)];
    for (const node of nodes) {
      const affiliation = node.affiliationOf(requester.bare);
      if (affiliation !== 'none') out.push({ node: node.name, affiliation });
    }
    return out;
  }

  // --- §8.8 Manage subscriptions ---

  ownerSubscriptions(requester: Jid, name: string | undefined): Subscription[] {
    const node = this.requireNode(name);
    this.requireOwner(node, requester);
    // §8.8.1.2: subscribed and unconfigured, not pending.
    return [...node.subscriptions.values()].filter((s) => s.state !== 'pending');
  }

  /** §8.8.2: applies the changes that are valid; returns the ones that failed, with the state they keep. */
  setSubscriptions(requester: Jid, name: string | undefined, changes: SubscriptionChange[]): Promise<Element[]> {
    return this.exclusive(async () => {
      const node = this.requireNode(name);
      this.requireOwner(node, requester);
      const failed: Element[] = [];
      const entries: [string, string | null][] = [];
      const notices: Subscription[] = [];
      const sendLast: Subscription[] = [];
      for (const change of changes) {
        const jid = tryParseJid(change.jid);
        const current = jid ? node.subscriptionsOf(jid.full) : [];
        const fail = () => {
          const sub = current.find((s) => change.subid === undefined || s.subid === change.subid);
          failed.push(xml('subscription', { jid: change.jid, subscription: sub?.state ?? 'none', subid: sub?.subid }));
        };
        // §8.8.2.1: no 'subscription' attribute changes nothing.
        if (change.subscription === undefined) continue;
        if (!jid || !['none', 'subscribed', 'unconfigured', 'pending'].includes(change.subscription)) {
          fail();
          continue;
        }
        const affiliation = node.affiliationOf(jid.bare);
        const targets = change.subid === undefined ? current : current.filter((s) => s.subid === change.subid);
        if (change.subid !== undefined && targets.length === 0) {
          fail();
          continue;
        }
        if (change.subscription === 'none') {
          // §8.8.4: removed, and not listed again.
          for (const sub of targets) {
            node.removeSubscription(sub);
            entries.push(this.subscriptionEntry(sub, true));
            notices.push({ ...sub, state: 'none' as SubscriptionState });
          }
          continue;
        }
        if (affiliation === 'outcast' || affiliation === 'publish-only') {
          fail();
          continue;
        }
        const state = change.subscription as SubscriptionState;
        if (targets.length === 0) {
          const sub: Subscription = { node: node.name, subid: change.subid ?? newId(), jid, state, options: defaultSubscriptionOptions(), created: Date.now() };
          node.addSubscription(sub);
          entries.push(this.subscriptionEntry(sub));
          notices.push(sub);
          if (state === 'subscribed') sendLast.push(sub);
          continue;
        }
        for (const sub of targets) {
          if (sub.state === state) continue;
          const approved = sub.state === 'pending' && state === 'subscribed';
          sub.state = state;
          entries.push(this.subscriptionEntry(sub));
          notices.push(sub);
          if (approved) sendLast.push(sub);
        }
      }
      await this.write(entries);
      // §8.8.5 / §12.6: the subscriber hears of the change.
      for (const sub of notices) this.notifySubscriber(node, sub);
      if (node.config.send_last_published_item !== 'never') for (const sub of sendLast) await this.sendLastTo(node, sub.jid.full, [sub]);
      return failed;
    });
  }

  // --- §8.9 Manage affiliations ---

  ownerAffiliations(requester: Jid, name: string | undefined): { jid: string; affiliation: Affiliation }[] {
    const node = this.requireNode(name);
    this.requireOwner(node, requester);
    return [...node.affiliations].map(([jid, affiliation]) => ({ jid, affiliation }));
  }

  setAffiliations(requester: Jid, name: string | undefined, changes: AffiliationChange[]): Promise<Element[]> {
    return this.exclusive(async () => {
      const node = this.requireNode(name);
      this.requireOwner(node, requester);
      const seen = new Set<string>();
      const parsed: { change: AffiliationChange; jid: Jid | null }[] = [];
      for (const change of changes) {
        const jid = tryParseJid(change.jid)?.bareJid() ?? null;
        // §8.9.2.4: one entry per entity.
        if (jid && seen.has(jid.bare)) throw pubsubError('bad-request', undefined, { text: `${jid.bare} is named twice` });
        if (jid) seen.add(jid.bare);
        parsed.push({ change, jid });
      }
      const failed: Element[] = [];
      const fail = (change: AffiliationChange, jid: Jid | null) =>
        failed.push(xml('affiliation', { jid: change.jid, affiliation: jid ? node.affiliationOf(jid.bare) : 'none' }));
      // §8.9.2.4: the owners that remain after the whole request; losing the last one is refused.
      const owners = new Set(node.owners);
      for (const { change, jid } of parsed) {
        if (!jid) continue;
        if (change.affiliation === 'owner') owners.add(jid.bare);
        else owners.delete(jid.bare);
      }
      const entries: [string, string | null][] = [];
      const removedSubs: Subscription[] = [];
      const approved: Subscription[] = [];
      for (const { change, jid } of parsed) {
        const affiliation = change.affiliation as Affiliation;
        if (!jid || !['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'].includes(affiliation)) {
          fail(change, jid);
          continue;
        }
        const previous = node.affiliationOf(jid.bare);
        if (previous === affiliation) continue;
        // The account of a PEP service owns every node, and nobody else does (XEP-0163 §3.2).
        if (this.env.pep && (jid.bare === this.env.address.bare || affiliation === 'owner')) {
          fail(change, jid);
          continue;
        }
        if (previous === 'owner' && owners.size === 0) {
          fail(change, jid);
          continue;
        }
        if (affiliation === 'none') node.affiliations.delete(jid.bare);
        else node.affiliations.set(jid.bare, affiliation);
        entries.push(this.env.store.affiliationEntry(node.name, jid.bare, affiliation === 'none' ? null : affiliation));
        const subs = [...(node.subscriptionsByBare.get(jid.bare) ?? [])];
        if (affiliation === 'outcast' || affiliation === 'publish-only') {
          // §4.1: neither may be subscribed.
          for (const sub of subs) {
            node.removeSubscription(sub);
            entries.push(this.subscriptionEntry(sub, true));
            removedSubs.push(sub);
          }
        } else if (affiliation === 'owner' || affiliation === 'publisher' || affiliation === 'member') {
          // §8.7.4 note: a pending request of someone now trusted is approved.
          for (const sub of subs) {
            if (sub.state !== 'pending') continue;
            sub.state = 'subscribed';
            entries.push(this.subscriptionEntry(sub));
            approved.push(sub);
          }
        }
      }
      await this.write(entries);
      for (const sub of removedSubs) this.notifySubscriber(node, { ...sub, state: 'none' as SubscriptionState });
      for (const sub of approved) this.notifySubscriber(node, sub);
      return failed;
    });
  }

  // --- §8.6 Subscription approval by an owner ---

  /** The owner's answer to an approval form. */
  approve(owner: Jid, form: DataForm): Promise<void> {
    return this.exclusive(async () => {
      const field = (name: string) => form.fields.find((f) => f.var === name)?.values[0];
      const node = this.requireNode(field('pubsub#node'));
      this.requireOwner(node, owner);
      // §8.6: a cancelled form leaves the request pending.
      if (form.type === 'cancel') return;
      const jid = tryParseJid(field('pubsub#subscriber_jid'));
      if (!jid) throw pubsubError('bad-request', 'invalid-jid');
      const subid = field('pubsub#subid');
      const pending = node.subscriptionsOf(jid.full).filter((s) => s.state === 'pending' && (subid === undefined || s.subid === subid));
      if (pending.length === 0) throw pubsubError('unexpected-request', 'not-subscribed', { text: `no pending request of ${jid.full}` });
      const allow = ['1', 'true'].includes(field('pubsub#allow') ?? '');
      const entries: [string, string | null][] = [];
      for (const sub of pending) {
        if (allow) {
          sub.state = 'subscribed';
          entries.push(this.subscriptionEntry(sub));
        } else {
          node.removeSubscription(sub);
          entries.push(this.subscriptionEntry(sub, true));
        }
      }
      await this.write(entries);
      for (const sub of pending) this.notifySubscriber(node, allow ? sub : { ...sub, state: 'none' as SubscriptionState });
      if (allow && node.config.send_last_published_item !== 'never') for (const sub of pending) await this.sendLastTo(node, sub.jid.full, [sub]);
    });
  }

  /** Pending requests of the nodes an entity owns (§8.7 get-pending). */
  pendingFor(owner: Jid, name?: string): { node: PubSubNode; subs: Subscription[] }[] {
    const out: { node: PubSubNode; subs: Subscription[] }[] = [];
    for (const node of name === undefined ? this.nodes.values() : [this.requireNode(name)]) {
      if (node.affiliationOf(owner.bare) !== 'owner') {
        if (name !== undefined) throw pubsubError('forbidden');
        continue;
      }
      out.push({ node, subs: [...node.subscriptions.values()].filter((s) => s.state === 'pending') });
    }
    return out;
  }

  /** §8.7.4: sends the approval forms of a node's pending requests again. */
  resendApprovals(owner: Jid, name: string): void {
    for (const { node, subs } of this.pendingFor(owner, name)) for (const sub of subs) this.askOwners(node, sub);
  }

  // --- XEP-0248 §5.5 and §5.6 associate / dissociate ---

  associate(requester: Jid, collection: string | undefined, child: string | undefined, dissociate: boolean): Promise<void> {
    return this.exclusive(async () => {
      const parent = this.requireNode(collection);
      const node = this.requireNode(child);
      this.requireOwner(parent, requester);
      if (!parent.isCollection) throw pubsubError('not-allowed', 'invalid-options', { text: `"${parent.name}" is a leaf node` });
      if (dissociate) {
        if (!node.config.collection.includes(parent.name)) throw pubsubError('bad-request', undefined, { text: `"${node.name}" is not in "${parent.name}"` });
        node.config = { ...node.config, collection: node.config.collection.filter((c) => c !== parent.name) };
      } else {
        if (node.config.collection.includes(parent.name)) return;
        this.checkParents(node.name, [parent.name], requester, (p) => this.childrenOf(p).length);
        node.config = { ...node.config, collection: [...node.config.collection, parent.name] };
      }
      await this.write([this.saveNodeEntry(node)]);
      this.notifyAssociation(parent.name, node.name, dissociate ? 'disassociate' : 'associate');
    });
  }

  // --- Disco (§5.2, §5.3, §5.4, §5.5) ---

  async nodeInfo(requester: Jid, name: string): Promise<Element[]> {
    const node = this.nodes.get(name);
    if (!node || !(await this.visible(node, requester))) throw itemNotFound(`no node "${name}" here`);
    const subscribers = [...node.subscriptions.values()].filter((s) => s.state !== 'pending').length;
    const publishers = [...node.affiliations].filter(([, a]) => a === 'publisher').map(([j]) => j);
    const meta = metadataForm(node.config, { creator: node.creator, created: node.created, owners: node.owners, publishers, subscribers }, this.env.limits);
    return [
      xml('identity', { category: 'pubsub', type: node.isCollection ? 'collection' : 'leaf', name: node.config.title || undefined }),
      xml('feature', { var: 'http://jabber.org/protocol/pubsub' }),
      buildForm(meta),
    ];
  }

  /**
   * Top-level nodes (§5.2, XEP-0248 §3.2) the requester can see, or a collection's children, or a leaf's items (§5.5).
   * `typeFilter` (XEP-0462) keeps, or leaves out, the nodes whose pubsub#type is listed ('' for none).
   */
  async discoItems(requester: Jid, name: string | undefined, typeFilter?: TypeFilter): Promise<Element[]> {
    const jid = this.address;
    const wanted = (node: PubSubNode) => !typeFilter || typeFilter.types.has(node.config.type) === (typeFilter.mode === 'include');
    if (name === undefined) {
      const out: Element[] = [];
      for (const node of this.nodes.values()) {
        if (node.config.collection.some((p) => this.nodes.has(p)) || !wanted(node)) continue;
        if (await this.visible(node, requester)) out.push(xml('item', { jid, node: node.name, name: node.config.title || undefined }));
      }
      return out;
    }
    const node = this.nodes.get(name);
    if (!node || !(await this.visible(node, requester))) throw itemNotFound(`no node "${name}" here`);
    if (node.isCollection) {
      const out: Element[] = [];
      for (const child of this.childrenOf(node.name)) if (wanted(child) && (await this.visible(child, requester))) out.push(xml('item', { jid, node: child.name, name: child.config.title || undefined }));
      return out;
    }
    if ((await this.checkAccess(node, requester, 'retrieve')) !== null) return [];
    const result = await this.leafItems(node, { maxItems: this.env.limits.maxPageSize });
    // §5.5: the ItemID in 'name', and no 'node' attribute.
    return result.items.map((item) => xml('item', { jid, name: item.id }));
  }

  // --- Notifications ---


  private messageAttrs(node: PubSubNode, to: string): Record<string, string> {
    return { from: this.address, to, type: node.config.notification_type, id: notificationId() };
  }

  /** Whether a subscription gets notifications now (state, deliver, lease, presence, show-values). */
  private active(node: PubSubNode, sub: Subscription, includePending: boolean, now: number): boolean {
    if (sub.state === 'pending' && !includePending) return false;
    if (!sub.options.deliver && !includePending) return false;
    if (typeof sub.options.expire === 'number' && sub.options.expire <= now) return false;
    if (node.config.presence_based_delivery || sub.options.showValues !== null) {
      const resources = this.env.presenceOf(sub.jid.bare);
      // Presence of remote subscribers is not known here: they get what they subscribed to.
      if (resources !== undefined) {
        const relevant = sub.jid.resource === '' ? resources : resources.filter((r) => r.full === sub.jid.full);
        if (relevant.length === 0) return false;
        if (sub.options.showValues !== null && !relevant.some((r) => sub.options.showValues!.includes(r.show))) return false;
      }
    }
    return true;
  }

  /**
   * Sends one event to everyone who gets this node's notifications: its subscribers, the subscribers of the
   * collections above it (XEP-0248 §3.3, with a Collection header), and for PEP the implicit recipients.
   * `itemEvent`: an event about items (publish, retract, purge); `nodeEvent`: about the node (configure, delete).
   */
  private async broadcast(
    node: PubSubNode,
    payload: Element,
    kind: { itemEvent?: boolean; nodeEvent?: boolean; includePending?: boolean },
  ): Promise<void> {
    if (!node.config.deliver_notifications) return;
    const event = new SharedEvent(eventElement(payload));
    const now = Date.now();
    /** to -> the SubIDs that make it a recipient, and the collection it hears through. */
    const recipients = new Map<string, { subids: string[]; collection?: string }>();
    const add = (to: string, subid: string | null, collection?: string) => {
      const entry = recipients.get(to);
      if (entry) {
        if (subid !== null && entry.collection === collection) entry.subids.push(subid);
        return;
      }
      recipients.set(to, { subids: subid === null ? [] : [subid], collection });
    };
    const access = await this.accessFor(node);
    for (const sub of node.subscriptions.values()) {
      if (!this.active(node, sub, kind.includePending === true, now)) continue;
      if (sub.state !== 'pending' && !access.allows(sub.jid.bare, 'notify')) continue;
      add(sub.jid.full, sub.subid);
    }
    for (const { node: ancestor, depth } of this.ancestors(node)) {
      let ancestorAccess: AccessCheck | undefined;
      for (const sub of ancestor.subscriptions.values()) {
        const wanted = sub.options.subscriptionType === 'all' || (kind.itemEvent ? sub.options.subscriptionType === 'items' : sub.options.subscriptionType === 'nodes');
        if (!wanted || (sub.options.depth !== 'all' && sub.options.depth < depth)) continue;
        if (!this.active(ancestor, sub, false, now)) continue;
        ancestorAccess ??= await this.accessFor(ancestor);
        if (!ancestorAccess.allows(sub.jid.bare, 'notify') || !access.allows(sub.jid.bare, 'notify')) continue;
        add(sub.jid.full, sub.subid, ancestor.name);
      }
    }
    if (this.env.implicitRecipients) {
      const explicitBare = new Set<string>();
      for (const to of recipients.keys()) if (!to.includes('/')) explicitBare.add(to);
      for (const to of await this.env.implicitRecipients(node, access)) {
        // A bare-JID subscription already reaches the account's resources.
        if (explicitBare.has(to.slice(0, to.indexOf('/')))) continue;
        add(to, null);
      }
    }
    for (const [to, { subids, collection }] of recipients) {
      const headers = shimHeaders(subids, collection);
      this.env.send(new NotificationMessage(this.messageAttrs(node, to), event, headers ? [headers] : []));
    }
  }

  /** §7.1.2.1 / §7.1.2.2: the notification of a published item. */
  private async notifyItem(node: PubSubNode, item: Item): Promise<void> {
    const items = xml('items', { node: node.name }, itemElement(item, node.config.deliver_payloads, node.config.itemreply === 'publisher'));
    await this.broadcast(node, items, { itemEvent: true });
  }

  /** §12.6: tells a subscriber (all its resources, when local) about its subscription's state. */
  private notifySubscriber(node: PubSubNode, sub: Subscription | (Omit<Subscription, 'state'> & { state: string })): void {
    const event = new SharedEvent(eventElement(xml('subscription', { node: node.name, jid: sub.jid.full, subscription: sub.state, subid: sub.subid })));
    const resources = sub.jid.resource === '' ? this.env.presenceOf(sub.jid.bare) : undefined;
    const targets = resources && resources.length ? resources.map((r) => r.full) : [sub.jid.full];
    for (const to of targets) this.env.send(new NotificationMessage({ from: this.address, to, id: notificationId() }, event));
  }

  /** notify_sub (§16.4.4): owners hear of new subscriptions and unsubscriptions. */
  private notifyOwnersOfSubscription(node: PubSubNode, sub: Subscription | (Omit<Subscription, 'state'> & { state: string })): void {
    if (!node.config.notify_sub) return;
    const event = new SharedEvent(eventElement(xml('subscription', { node: node.name, jid: sub.jid.full, subscription: sub.state, subid: sub.subid })));
    for (const owner of node.owners) this.env.send(new NotificationMessage({ from: this.address, to: owner, type: node.config.notification_type, id: notificationId() }, event));
  }

  /** XEP-0248 §3.4: the node subscribers of a collection hear of children coming and going. */
  private notifyAssociation(parentName: string, child: string, what: 'associate' | 'disassociate'): void {
    const parent = this.nodes.get(parentName);
    if (!parent || !parent.config.deliver_notifications) return;
    const event = new SharedEvent(eventElement(xml('collection', { node: parentName }, xml(what, { node: child }))));
    const now = Date.now();
    for (const sub of parent.subscriptions.values()) {
      if (sub.options.subscriptionType === 'items' || !this.active(parent, sub, false, now)) continue;
      this.env.send(new NotificationMessage(this.messageAttrs(parent, sub.jid.full), event));
    }
  }

  /** The last published item of a node, from the cache or storage. */
  async lastItem(node: PubSubNode): Promise<Item | null> {
    if (node.last !== undefined) return node.last;
    if (!node.config.persist_items) return (node.last = null);
    const found = await this.env.store.items(this.env.host, this.env.user, node.name, { newest: true, limit: 1, since: this.since(node) });
    const last = found.items[0] ?? null;
    if (!last?.payload || serialize(last.payload).length <= LAST_ITEM_CACHE_CHARS) node.last = last;
    return last;
  }

  /**
   * §6.1.7 / XEP-0163 §4.3.4: the last published item, with a delay stamp, to one address. `subs` are the
   * subscriptions it is sent for (SubID headers when several).
   */
  async sendLastTo(node: PubSubNode, to: string, subs: Subscription[] = []): Promise<void> {
    if (node.isCollection || !node.config.deliver_notifications) return;
    const last = await this.lastItem(node);
    if (!last) return;
    if (node.config.item_expire !== 'max' && last.when < Date.now() - node.config.item_expire * 1000) return;
    const event = new SharedEvent(eventElement(xml('items', { node: node.name }, itemElement(last, node.config.deliver_payloads, node.config.itemreply === 'publisher'))));
    const headers = shimHeaders(subs.map((s) => s.subid));
    const extra = [delayElement(this.address, last.when)];
    if (headers) extra.push(headers);
    this.env.send(new NotificationMessage(this.messageAttrs(node, to), event, extra));
  }

  /**
   * §4.3 on_sub_and_presence: an available resource of a subscriber gets the last items of the nodes its JID
   * (bare or that full JID) is subscribed to, among those `wanted` accepts (it is asked once per node).
   */
  async sendLastOnPresence(full: Jid, wanted: (node: PubSubNode) => boolean = () => true): Promise<void> {
    const now = Date.now();
    const byNode = new Map<PubSubNode, Subscription[]>();
    for (const sub of this.subscriptionsByBare.get(full.bare) ?? []) {
      const node = this.nodes.get(sub.node);
      if (!node || node.config.send_last_published_item !== 'on_sub_and_presence') continue;
      if ((sub.jid.resource !== '' && sub.jid.full !== full.full) || !this.active(node, sub, false, now)) continue;
      const known = byNode.get(node);
      if (known) known.push(sub);
      else if (wanted(node)) byNode.set(node, [sub]);
    }
    for (const [node, subs] of byNode) {
      if (!(await this.accessFor(node)).allows(full.bare, 'notify')) continue;
      await this.sendLastTo(node, full.full, subs);
    }
  }

  /** §12.4: temporary subscriptions end with the subscriber's presence session. */
  endTemporarySubscriptions(jid: Jid): Promise<void> {
    if (!this.subscriptionsByBare.has(jid.bare)) return Promise.resolve();
    return this.exclusive(async () => {
      const entries: [string, string | null][] = [];
      for (const sub of [...(this.subscriptionsByBare.get(jid.bare) ?? [])]) {
        if (sub.options.expire !== 'presence') continue;
        if (jid.resource !== '' && sub.jid.full !== jid.full) continue;
        this.nodes.get(sub.node)?.removeSubscription(sub);
        entries.push(this.subscriptionEntry(sub, true));
      }
      await this.write(entries);
    });
  }

  /** Removes expired items (item_expire) and leases (§12.18) that ran out. */
  sweep(): Promise<void> {
    return this.exclusive(async () => {
      const now = Date.now();
      const entries: [string, string | null][] = [];
      for (const node of this.nodes.values()) {
        if (node.config.item_expire !== 'max' && node.config.persist_items) {
          const expired = await this.env.store.itemsBefore(this.env.host, this.env.user, node.name, now - node.config.item_expire * 1000);
          if (expired.length) {
            const removed = await this.removeItems(node, expired);
            entries.push(await this.account(node, removed));
            node.itemCount = undefined;
            node.last = undefined;
            await this.changed({ kind: 'retracted', node: node.name, ids: expired.map((i) => i.id), requester: null });
          }
        }
        for (const sub of [...node.subscriptions.values()]) {
          if (typeof sub.options.expire === 'number' && sub.options.expire <= now) {
            node.removeSubscription(sub);
            entries.push(this.subscriptionEntry(sub, true));
          }
        }
      }
      await this.write(entries);
    });
  }

  /** Forgets an entity everywhere (its account was deleted): affiliations and subscriptions. */
  forgetEntity(bare: string): Promise<void> {
    return this.exclusive(async () => {
      const entries: [string, string | null][] = [];
      for (const node of this.nodes.values()) {
        for (const sub of [...(node.subscriptionsByBare.get(bare) ?? [])]) {
          node.removeSubscription(sub);
          entries.push(this.subscriptionEntry(sub, true));
        }
        if (node.affiliations.has(bare) && !(node.affiliations.get(bare) === 'owner' && node.owners.length === 1)) {
          node.affiliations.delete(bare);
          entries.push(this.env.store.affiliationEntry(node.name, bare, null));
        }
      }
      await this.write(entries);
    });
  }
}

