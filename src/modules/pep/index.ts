// XEP-0163 Personal Eventing Protocol: every account's bare JID is a pubsub service (the engine of src/pubsub/),
// with auto-create, publish-options (XEP-0223), the presence access model by default, and notifications to the
// account's own resources and to contacts with a presence subscription whose entity capabilities (XEP-0115)
// ask for <node>+notify. Last items go to a resource when it becomes available or its caps become known.
import { z } from 'zod';
import type { Host, StanzaEvent } from '../../core/host.js';
import { makeJid, tryParseJid, type Jid } from '../../core/jid/index.js';
import { defineModule, type IqRequest } from '../../core/module-api.js';
import type { Server } from '../../core/server.js';
import type { Session } from '../../core/session.js';
import { StanzaError } from '../../core/stanza.js';
import type { Element } from '../../core/xml/element.js';
import {
  ITEMS_STORE,
  NODES_STORE,
  NS_PUBSUB,
  NS_HISTORY,
  NS_PUBSUB_OWNER,
  PubSubService,
  PubSubStore,
  REVISIONS_STORE,
  RevisionStore,
  defaultNodeConfig,
  feature,
  pubsubIqHandler,
  serverHooks,
  serviceFeatures,
  type AccessCheck,
  type ItemsChange,
  type NodeConfig,
  type NodeType,
  type PubSubNode,
  type ServiceLimits,
} from '../../pubsub/index.js';
import { localPresence, localRoster } from '../../pubsub/local.js';

/** XEP-0060 §9: an account that is also a pubsub service says so (the XEP spells the URI with one slash by mistake). */
export const FEATURE_PUBSUB_ON_A_JID = feature('pubsub-on-a-jid');

/** What the caps module keeps on a session (session.data 'caps'), as far as PEP reads it. */
interface CapsView {
  features: ReadonlySet<string>;
}
const capsOf = (session: Session) => session.data.get('caps') as CapsView | undefined;

/** session.data key of the PEP state of a session: the (service, node) pairs whose last item it was sent. */
const SESSION_KEY = 'pep';
interface SessionState {
  sent: Set<string>;
}
function stateOf(session: Session): SessionState {
  let state = session.data.get(SESSION_KEY) as SessionState | undefined;
  if (!state) session.data.set(SESSION_KEY, (state = { sent: new Set() }));
  return state;
}

/** The PEP services of every host of a server, so a session on one host reaches its contacts' on another. */
interface PepHost {
  service(user: string): Promise<PubSubService>;
}
const registries = new WeakMap<Server, Map<string, PepHost>>();

/**
 * The PEP service of a local account, for modules that keep other storage in step with PEP nodes (XEP-0402
 * bookmarks, XEP-0398 avatars); undefined when the pep module is not loaded on that host.
 */
export function pepService(server: Server, host: string, user: string): Promise<PubSubService> | undefined {
  return registries.get(server)?.get(host)?.service(user);
}

/**
 * Fired on the account's host after the items of one of its PEP nodes changed: an item published, items
 * retracted, or all of them gone (purge or node deleted). Handlers must return undefined and must not wait for
 * another change of the same service before returning (they run inside its queue).
 */
export const PEP_ITEMS_CHANGED_EVENT = 'pep/items-changed';
export interface PepItemsChangedEvent {
  host: Host;
  /** The account's local part. */
  user: string;
  change: ItemsChange;
}

const options = z
  .object({
    /** The most items a node keeps; what max_items 'max' means. */
    max_items: z.number().int().min(1).default(10000),
    /** max_items of a new node (XEP-0163 nodes usually hold one current value). */
    default_max_items: z.number().int().min(0).default(1),
    /** Earlier revisions a node may keep of each item (its {urn:quire:history:0}max_revisions). */
    max_revisions: z.number().int().min(0).default(100),
    /**
     * max_revisions of a new node. None: avatars, OMEMO bundles and the like are republished all the time, and their
     * history would only grow; a node that wants one says so (the Storage API's nodes get the storage module's default).
     */
    default_max_revisions: z.number().int().min(0).default(0),
    /** Largest payload, in bytes (§7.1.3.4 of XEP-0060); the default of new nodes too. */
    max_payload_size: z.number().int().min(1).default(65536),
    /** Nodes one account may have. */
    max_nodes: z.number().int().min(1).default(1000),
    max_subscriptions_per_jid: z.number().int().min(1).default(1000),
    page_size: z.number().int().min(1).default(100),
    max_lease_days: z.number().int().min(1).default(365),
    /** Accounts whose PEP nodes stay in memory (those with sessions always stay). */
    cache_size: z.number().int().min(1).default(10000),
  })
  .strict()
  .prefault({});

export default defineModule({
  name: 'pep',
  spec: 'XEP-0163',
  description: 'Personal Eventing Protocol: a pubsub service on every account, with notifications filtered by entity capabilities',
  dependencies: ['caps'],
  options,
  setup(m) {
    const o = m.options;
    const host: Host = m.host;
    const server = m.server;
    const store = new PubSubStore(m.map(NODES_STORE), m.archive(ITEMS_STORE), new RevisionStore(m.archive(REVISIONS_STORE)));
    const limits: ServiceLimits = {
      maxItems: o.max_items,
      maxPayloadSize: o.max_payload_size,
      collections: true,
      maxSubscriptionsPerJid: o.max_subscriptions_per_jid,
      maxLeaseMs: o.max_lease_days * 86_400_000,
      maxNodes: o.max_nodes,
      maxPageSize: o.page_size,
      maxRevisions: o.max_revisions,
    };
    // XEP-0163 §7: presence access, notifications with payloads, last item on subscription and presence.
    const leafDefaults: NodeConfig = {
      ...defaultNodeConfig(limits),
      access_model: 'presence',
      max_items: Math.min(o.default_max_items, o.max_items),
      send_last_published_item: 'on_sub_and_presence',
      itemreply: 'none',
      // A new current value replaces the old one without a retraction going out each time.
      publish_node_full: 'discard-oldest',
      max_revisions: Math.min(o.default_max_revisions, o.max_revisions),
    };
    const collectionDefaults: NodeConfig = { ...leafDefaults, node_type: 'collection', deliver_payloads: false, persist_items: false, send_last_published_item: 'never' };

    /** user -> its service, most recently used last. */
    const cache = new Map<string, Promise<PubSubService>>();

    /** §4: the account's resources and its contacts with a 'from'/'both' subscription, filtered by +notify. */
    async function implicitRecipients(owner: Jid, node: PubSubNode, access: AccessCheck): Promise<string[]> {
      const interest = node.name + '+notify';
      const out: string[] = [];
      const wants = (s: Session) => s.presence !== null && capsOf(s)?.features.has(interest) === true;
      for (const s of server.sessions.resources(owner.bare)) if (wants(s)) out.push(s.jid.full);
      const roster = await server.rosters.get(host.name, owner.local);
      for (const item of roster.items.values()) {
        if (item.subscription !== 'from' && item.subscription !== 'both') continue;
        if (!server.sessions.hasSessions(item.jid) || !access.allows(item.jid, 'notify')) continue;
        for (const s of server.sessions.resources(item.jid)) if (wants(s)) out.push(s.jid.full);
      }
      return out;
    }

    function load(user: string): Promise<PubSubService> {
      const address = makeJid(user, host.name);
      return PubSubService.load({
        store,
        host: host.name,
        user,
        address,
        pep: true,
        limits,
        defaults: (type: NodeType) => ({ ...(type === 'collection' ? collectionDefaults : leafDefaults) }),
        send: (stanza) => m.route(stanza),
        log: m.log,
        rosterOf: (bare) => localRoster(server, bare),
        // §3.1: the account owns its service; nobody else creates nodes there.
        mayCreate: (requester) => requester.bare === address.bare,
        presenceOf: (bare) => localPresence(server, bare),
        implicitRecipients: (node, access) => implicitRecipients(address, node, access),
        itemsChanged: (change) => {
          host.events.fire(PEP_ITEMS_CHANGED_EVENT, { host, user, change } satisfies PepItemsChangedEvent);
        },
        hooks: serverHooks(server),
      });
    }

    function service(user: string): Promise<PubSubService> {
      let entry = cache.get(user);
      if (entry) {
        cache.delete(user);
        cache.set(user, entry);
        return entry;
      }
      entry = load(user);
      entry.catch(() => cache.delete(user));
      cache.set(user, entry);
      if (cache.size > o.cache_size) evict();
      return entry;
    }

    /** Drops the least recently used services that are idle and whose accounts have no sessions. */
    function evict(): void {
      for (const [user, entry] of cache) {
        if (cache.size <= o.cache_size) return;
        if (server.sessions.hasSessions(`${user}@${host.name}`)) continue;
        void entry.then((s) => {
          if (s.busy === 0 && cache.get(user) === entry && !server.sessions.hasSessions(`${user}@${host.name}`)) cache.delete(user);
        }, () => undefined);
      }
    }

    let registry = registries.get(server);
    if (!registry) registries.set(server, (registry = new Map()));
    registry.set(host.name, { service });
    m.onUnload(() => registry!.delete(host.name));

    /** The service an IQ to a bare JID is for; service-unavailable for accounts that do not exist (XEP-0030 §3.1). */
    async function serviceFor(request: IqRequest): Promise<PubSubService> {
      const { to, from } = request;
      if (from.bare !== to.bare && !(await m.accounts.exists(host.name, to.local))) throw new StanzaError('service-unavailable');
      return service(to.local);
    }

    // --- Disco: the account's features (§6.1), identity and nodes ---
    const accountFeatures = serviceFeatures([
      feature('access-presence'),
      feature('auto-subscribe'),
      feature('filtered-notifications'),
      feature('presence-subscribe'),
      FEATURE_PUBSUB_ON_A_JID,
      NS_HISTORY,
    ]);
    for (const f of accountFeatures) m.accountFeature(f);
    // XEP-0223 §5: the server says it has PEP with publish-options.
    m.identity('pubsub', 'pep');
    m.feature(feature('publish-options'));

    for (const [type, ns] of [
      ['get', NS_PUBSUB],
      ['set', NS_PUBSUB],
      ['get', NS_PUBSUB_OWNER],
      ['set', NS_PUBSUB_OWNER],
    ] as const) {
      m.iq(type, ns, 'pubsub', pubsubIqHandler(type, ns, serviceFor, { autoCreate: true }), 'bare');
    }

    // XEP-0163 §6: the account is a virtual pubsub service (identity pubsub/pep) whose nodes the disco module
    // lists and describes through these events; only what the asker may see (§6.2).
    m.accountIdentity('pubsub', 'pep');
    m.hook('disco-info/account-node', ({ from, to, node }: { from: Jid; to: Jid; node: string }) => service(to.local).then((svc) => svc.nodeInfo(from, node)));
    m.hook('disco-items/account', (event: { from: Jid; to: Jid; node: string | undefined; pending: Promise<Element[]>[]; known: boolean }) => {
      if (event.node !== undefined) event.known = true;
      event.pending.push(service(event.to.local).then((svc) => svc.discoItems(event.from, event.node)));
      return undefined;
    });

    // --- Last items for a newly available or newly interested resource (§4.3.2, §4.3.4) ---

    /** The NodeIDs a session asks notifications for (XEP-0060 §9.2 +notify). */
    function interests(session: Session): Set<string> {
      const out = new Set<string>();
      for (const f of capsOf(session)?.features ?? []) if (f.endsWith('+notify')) out.add(f.slice(0, -'+notify'.length));
      return out;
    }

    /** Marks a node's last item as sent to a session; false when it was already. */
    function firstTime(svc: PubSubService, session: Session, node: string): boolean {
      const { sent } = stateOf(session);
      const key = svc.address + '\n' + node;
      if (sent.has(key)) return false;
      sent.add(key);
      return true;
    }

    async function sendInterested(svc: PubSubService, session: Session, wanted: Set<string>): Promise<void> {
      for (const node of svc.nodes.values()) {
        if (!wanted.has(node.name) || node.config.send_last_published_item !== 'on_sub_and_presence') continue;
        // Marked before anything is awaited: the caps and presence events of one presence may both get here.
        if (!firstTime(svc, session, node.name)) continue;
        if (!(await svc.accessFor(node)).allows(session.jid.bare, 'notify')) {
          stateOf(session).sent.delete(svc.address + '\n' + node.name);
          continue;
        }
        await svc.sendLastTo(node, session.jid.full);
      }
    }

    /**
     * The account's own service, then those of every contact it is subscribed to, on any host of this server:
     * the last items of the nodes the session asks for with +notify, and with `explicit` (on its available
     * presence) those of the nodes it subscribed to (XEP-0060 §4.3 on_sub_and_presence).
     */
    async function catchUp(session: Session, explicit: boolean): Promise<void> {
      const wanted = interests(session);
      if ((wanted.size === 0 && !explicit) || !session.presence || server.sessions.get(session.jid) !== session) return;
      const visit = async (svc: PubSubService) => {
        if (wanted.size) await sendInterested(svc, session, wanted);
        if (explicit) await svc.sendLastOnPresence(session.jid, (node) => firstTime(svc, session, node.name));
      };
      await visit(await service(session.jid.local));
      const roster = await server.rosters.get(host.name, session.jid.local);
      for (const item of roster.items.values()) {
        if (item.subscription !== 'to' && item.subscription !== 'both') continue;
        const contact = tryParseJid(item.jid);
        const pep = contact && contact.local !== '' ? registries.get(server)?.get(contact.domain) : undefined;
        if (!pep || !session.presence) continue;
        await visit(await pep.service(contact!.local));
      }
    }
    const catchUpLater = (session: Session, explicit = false) => {
      catchUp(session, explicit).catch((err: unknown) => m.log.error({ err }, 'sending last PEP items failed'));
    };

    // XEP-0115 caps resolve after the presence (a disco#info round trip) or come from the cache at once.
    m.hook('caps/updated', ({ session }: { session: Session }) => {
      catchUpLater(session);
      return undefined;
    });
    m.hook('presence/initial', ({ session }: { session: Session }) => {
      catchUpLater(session, true);
      return undefined;
    });
    // §4.3.2 footnote: the next initial presence, after an unavailable one, gets the last items again.
    m.hook(
      'presence/self',
      (event: StanzaEvent) => {
        if (event.origin && event.stanza.attrs.type === 'unavailable') stateOf(event.origin).sent.clear();
        return undefined;
      },
      50,
    );

    // XEP-0163 §4.3: a user who just got a subscription to a contact's presence gets the contact's last items
    // for the nodes its available resources ask for, as it would at its next login.
    m.hook('roster/subscription-changed', ({ user, contact, previous, subscription }: { user: string; contact: string; previous: string; subscription: string }) => {
      const gained = (subscription === 'to' || subscription === 'both') && previous !== 'to' && previous !== 'both';
      const contactJid = gained ? tryParseJid(contact) : null;
      const pep = contactJid && contactJid.local !== '' ? registries.get(server)?.get(contactJid.domain) : undefined;
      if (!pep) return undefined;
      (async () => {
        const svc = await pep.service(contactJid!.local);
        for (const session of server.sessions.resources(`${user}@${host.name}`)) {
          const wanted = interests(session);
          if (session.presence && wanted.size) await sendInterested(svc, session, wanted);
        }
      })().catch((err: unknown) => m.log.error({ err }, 'sending last PEP items to a new subscriber failed'));
      return undefined;
    });

    m.hook('account-deleted', ({ user }: { user: string }) => {
      // Storage of the account is gone with it; so is its service in memory.
      cache.delete(user);
      return undefined;
    });

    // item_expire and leases of the services in memory.
    m.every(60_000, () => {
      for (const entry of cache.values()) void entry.then((s) => s.sweep()).catch(() => undefined);
    });
  },
});
