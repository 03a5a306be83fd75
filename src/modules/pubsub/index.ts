// XEP-0060 Publish-Subscribe as a service domain of each host (pubsub.<host>), with XEP-0248 collections and
// XEP-0223 publish-options preconditions. The engine is src/pubsub/; this module gives it an address, storage,
// the server's rosters and presence, and the IQs, messages and presence events addressed to it.
import { z } from 'zod';
import type { Host, StanzaEvent } from '../../core/host.js';
import type { Server } from '../../core/server.js';
import { parseJid, tryParseJid, type Jid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import type { Session } from '../../core/session.js';
import { StanzaError } from '../../core/stanza.js';
import { xml } from '../../core/xml/element.js';
import {
  ITEMS_STORE,
  NODES_STORE,
  NODE_GET_PENDING,
  NS_COMMANDS,
  NS_DATA,
  NS_PUBSUB,
  NS_PUBSUB_FILTER,
  NS_HISTORY,
  NS_PUBSUB_OWNER,
  NS_SUBSCRIBE_AUTHORIZATION,
  PubSubService,
  REVISIONS_STORE,
  RevisionStore,
  PubSubStore,
  defaultNodeConfig,
  feature,
  getPendingCommand,
  parseForm,
  parseTypeFilter,
  pubsubErrorReply,
  pubsubIqHandler,
  serverHooks,
  serviceFeatures,
  type NodeConfig,
  type NodeType,
  type ServiceLimits,
} from '../../pubsub/index.js';
import { localPresence, localRoster } from '../../pubsub/local.js';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

/** The fired event (on the pubsub domain's host) once a service is loaded, for other modules (HTTP API, metrics). */
export const PUBSUB_READY_EVENT = 'pubsub/ready';

/** The pubsub services of a server by domain, for modules that serve them another way (the Storage API). */
const registries = new WeakMap<Server, Map<string, () => Promise<PubSubService>>>();

/** The pubsub service at a service domain (pubsub.<host>) of this server; undefined when there is none. */
export function pubsubService(server: Server, domain: string): Promise<PubSubService> | undefined {
  return registries.get(server)?.get(domain)?.();
}

const options = z
  .object({
    /** The service's domain; default pubsub.<host>. */
    domain: z.string().min(1).optional(),
    /** The service's name in disco. */
    name: z.string().default('Publish-Subscribe'),
    /** Who may create nodes (§8.1.1): 'local' accounts of the server's hosts, 'anyone', or a list of bare JIDs. */
    create_nodes: z.union([z.enum(['local', 'anyone']), z.array(z.string().min(1))]).default('local'),
    /** The most items a node keeps; what max_items 'max' means (§16.4.4). */
    max_items: z.number().int().min(1).default(10000),
    /** max_items of a new node. */
    default_max_items: z.number().int().min(0).default(10),
    /** Earlier revisions a node may keep of each item (its {urn:quire:history:0}max_revisions). */
    max_revisions: z.number().int().min(0).default(100),
    /** max_revisions of a new node: shared data keeps some history unless its owner says otherwise. */
    default_max_revisions: z.number().int().min(0).default(10),
    /** Largest payload a node may accept, in bytes (§7.1.3.4); the default of new nodes too. */
    max_payload_size: z.number().int().min(1).default(65536),
    max_nodes: z.number().int().min(1).default(100000),
    max_subscriptions_per_jid: z.number().int().min(1).default(1000),
    /** Items returned at once when a request asks for no fewer (RSM pages, §6.5.4). */
    page_size: z.number().int().min(1).default(100),
    /** Longest subscription lease (§12.18), in days. */
    max_lease_days: z.number().int().min(1).default(365),
    /** XEP-0248 collection nodes. */
    collections: z.boolean().default(true),
  })
  .strict()
  .prefault({});

export type PubSubOptions = z.infer<typeof options>;

export default defineModule({
  name: 'pubsub',
  spec: 'XEP-0060',
  description: 'Publish-Subscribe service on pubsub.<host>: nodes, items, subscriptions, access models, collections',
  options,
  setup(m) {
    const o = m.options;
    const host: Host = m.host;
    const server = m.server;
    const domain = o.domain ?? `pubsub.${host.name}`;
    const address = parseJid(domain);
    // One service domain named in the options is served once, by the first host; the others list it.
    if (server.components.has(domain)) {
      m.discoItem(domain, o.name);
      return;
    }
    const c = m.component(domain, o.name);
    const store = new PubSubStore(m.map(NODES_STORE), m.archive(ITEMS_STORE), new RevisionStore(m.archive(REVISIONS_STORE)));
    const limits: ServiceLimits = {
      maxItems: o.max_items,
      maxPayloadSize: o.max_payload_size,
      collections: o.collections,
      maxSubscriptionsPerJid: o.max_subscriptions_per_jid,
      maxLeaseMs: o.max_lease_days * 86_400_000,
      maxNodes: o.max_nodes,
      maxPageSize: o.page_size,
      maxRevisions: o.max_revisions,
    };
    const leafDefaults: NodeConfig = {
      ...defaultNodeConfig(limits),
      max_items: Math.min(o.default_max_items, o.max_items),
      max_revisions: Math.min(o.default_max_revisions, o.max_revisions),
    };
    const collectionDefaults: NodeConfig = { ...leafDefaults, node_type: 'collection', deliver_payloads: false, persist_items: false, send_last_published_item: 'never' };
    const creators = Array.isArray(o.create_nodes) ? new Set(o.create_nodes.map((j) => tryParseJid(j)?.bare ?? j)) : null;

    const mayCreate = (requester: Jid): boolean => {
      if (creators) return creators.has(requester.bare);
      if (o.create_nodes === 'anyone') return true;
      return requester.local !== '' && server.hosts.has(requester.domain);
    };

    let loading: Promise<PubSubService> | null = null;
    const service = (): Promise<PubSubService> => {
      if (!loading) {
        loading = PubSubService.load({
          store,
          host: domain,
          user: '',
          address,
          pep: false,
          limits,
          defaults: (type: NodeType) => ({ ...(type === 'collection' ? collectionDefaults : leafDefaults) }),
          send: (stanza) => m.route(stanza),
          log: m.log,
          rosterOf: (bare) => localRoster(server, bare),
          mayCreate,
          presenceOf: (bare) => localPresence(server, bare),
          hooks: serverHooks(server),
        });
        loading.then(
          (s) => c.host.events.fire(PUBSUB_READY_EVENT, { service: s, host: c.host }),
          (err: unknown) => {
            m.log.error({ err }, 'cannot load the pubsub service');
            loading = null;
          },
        );
      }
      return loading;
    };

    let registry = registries.get(server);
    if (!registry) registries.set(server, (registry = new Map()));
    registry.set(domain, service);
    m.onUnload(() => registry!.delete(domain));

    // §5.1: the identity, and exactly the features that work.
    c.identity('pubsub', 'service', o.name);
    c.feature(NS_DISCO_INFO);
    c.feature(NS_DISCO_ITEMS);
    c.feature(NS_COMMANDS);
    // XEP-0462: disco#items of the service can be filtered by pubsub#type.
    c.feature(NS_PUBSUB_FILTER);
    // Quire's item history: nodes keep earlier revisions of items ({urn:quire:history:0}max_revisions).
    c.feature(NS_HISTORY);
    for (const f of serviceFeatures([feature('access-open'), feature('get-pending')])) {
      if (!o.collections && (f.endsWith('#collections') || f.endsWith('#multi-collections'))) continue;
      c.feature(f);
    }

    const resolve = () => service();
    c.iq('get', NS_PUBSUB, 'pubsub', pubsubIqHandler('get', NS_PUBSUB, resolve, { autoCreate: true }));
    c.iq('set', NS_PUBSUB, 'pubsub', pubsubIqHandler('set', NS_PUBSUB, resolve, { autoCreate: true }));
    c.iq('get', NS_PUBSUB_OWNER, 'pubsub', pubsubIqHandler('get', NS_PUBSUB_OWNER, resolve, { autoCreate: true }));
    c.iq('set', NS_PUBSUB_OWNER, 'pubsub', pubsubIqHandler('set', NS_PUBSUB_OWNER, resolve, { autoCreate: true }));

    // XEP-0030 for the service and its nodes (§5.1–§5.5); there is no disco module on a service domain.
    c.iq('get', NS_DISCO_INFO, 'query', async ({ payload, from }) => {
      const node = payload.attrs.node;
      if (node === NODE_GET_PENDING) {
        // XEP-0050 §2.2: the command node's identity and features.
        return xml('query', { xmlns: NS_DISCO_INFO, node }, xml('identity', { category: 'automation', type: 'command-node', name: 'Get pending subscription requests' }), xml('feature', { var: NS_COMMANDS }), xml('feature', { var: NS_DATA }));
      }
      if (node !== undefined) return xml('query', { xmlns: NS_DISCO_INFO, node }, await (await service()).nodeInfo(from, node));
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        c.host.identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name })),
        [...c.host.features].sort().map((v) => xml('feature', { var: v })),
      );
    });
    c.iq('get', NS_DISCO_ITEMS, 'query', async ({ payload, from }) => {
      const node = payload.attrs.node;
      // XEP-0050 §2.2: the commands the service offers.
      if (node === NS_COMMANDS) return xml('query', { xmlns: NS_DISCO_ITEMS, node }, xml('item', { jid: domain, node: NODE_GET_PENDING, name: 'Get pending subscription requests' }));
      return xml('query', { xmlns: NS_DISCO_ITEMS, node }, await (await service()).discoItems(from, node, parseTypeFilter(payload)));
    });

    // §8.7 get-pending, an XEP-0050 command.
    c.iq('set', NS_COMMANDS, 'command', async ({ payload, from }) => getPendingCommand(await service(), from, payload));

    // §8.6: an owner's answer to a subscription approval form arrives as a message to the service.
    c.hook(
      'message/host',
      (event: StanzaEvent) => {
        const x = event.stanza.getChild('x', NS_DATA);
        const form = x ? parseForm(x) : null;
        if (!form || form.formType !== NS_SUBSCRIBE_AUTHORIZATION || event.stanza.attrs.type === 'error') return undefined;
        service()
          .then((s) => s.approve(event.from, form))
          .catch((err: unknown) => {
            if (!(err instanceof StanzaError)) m.log.error({ err }, 'approving a subscription failed');
            if (err instanceof StanzaError) m.route(pubsubErrorReply(event.stanza, err));
          });
        return true;
      },
      10,
    );

    // Subscribers on every host of this server: last items when they come online (§4.3 on_sub_and_presence),
    // and the end of temporary subscriptions when they leave (§12.4).
    const onInitial = ({ session }: { session: Session }) => {
      if (!loading) return undefined;
      void service()
        .then((s) => s.sendLastOnPresence(session.jid))
        .catch((err: unknown) => m.log.error({ err }, 'sending last items failed'));
      return undefined;
    };
    const onUnavailable = (session: Session) => {
      if (!loading) return;
      const gone: Jid[] = [session.jid];
      let othersAvailable = false;
      for (const other of server.sessions.resources(session.jid.bare)) if (other !== session && other.presence) othersAvailable = true;
      if (!othersAvailable) gone.push(session.jid.bareJid());
      void service()
        .then(async (s) => {
          for (const jid of gone) await s.endTemporarySubscriptions(jid);
        })
        .catch((err: unknown) => m.log.error({ err }, 'ending temporary subscriptions failed'));
    };
    for (const h of server.hosts.values()) {
      const off = [
        h.events.on('presence/initial', onInitial),
        h.events.on('presence/self', (event: StanzaEvent) => {
          if (event.origin && event.stanza.attrs.type === 'unavailable') onUnavailable(event.origin);
          return undefined;
        }, 50),
        h.events.on('session-ended', ({ session }: { session: Session }) => {
          if (session.presence) onUnavailable(session);
          return undefined;
        }, 50),
        h.events.on('account-deleted', ({ user }: { user: string }) => {
          void service()
            .then((s) => s.forgetEntity(`${user}@${h.name}`))
            .catch((err: unknown) => m.log.error({ err }, 'forgetting a deleted account failed'));
          return undefined;
        }),
      ];
      m.onUnload(() => off.forEach((f) => f()));
    }

    // item_expire and leases.
    m.every(60_000, () => {
      if (loading) void service().then((s) => s.sweep()).catch((err: unknown) => m.log.error({ err }, 'pubsub sweep failed'));
    });

    // Load at start, so that the first request does not wait and presence events find the service.
    void service().catch(() => undefined);
  },
});

