// XEP-0030 Service Discovery: what the server and its accounts are and can do, collected from the
// enabled modules, so disco always matches the config.
import { defineModule } from '../../core/module-api.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';
import type { Jid } from '../../core/jid/index.js';

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';

export default defineModule({
  name: 'disco',
  spec: 'XEP-0030',
  description: 'Service discovery: identities, features and items of the server and its accounts',
  setup(m) {
    m.feature(NS_DISCO_INFO);
    m.feature(NS_DISCO_ITEMS);
    m.accountFeature(NS_DISCO_INFO);
    m.accountFeature(NS_DISCO_ITEMS);
    const host = m.host;

    // The host's own nodes (XEP-0050 commands and the like) are answered by the module that knows them
    // ('disco-info/host-node', 'disco-items/host-node').
    m.iq('get', NS_DISCO_INFO, 'query', async ({ payload, from, to }) => {
      const node = payload.attrs.node;
      if (node !== undefined) {
        const event: HostNodeEvent = { from, to, node };
        const answer = host.events.fire('disco-info/host-node', event) as HostNodeAnswer | undefined;
        if (!answer) throw new StanzaError('item-not-found', `no node "${node}" here`);
        return xml('query', { xmlns: NS_DISCO_INFO, node }, await answer);
      }
      const identities = [{ category: 'server', type: 'im', name: 'Quire' }, ...host.identities];
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name })),
        sortedFeatures(host.features),
        host.discoExtensions.map((build) => build()),
      );
    });

    m.iq('get', NS_DISCO_ITEMS, 'query', async ({ payload, from, to }) => {
      const node = payload.attrs.node;
      if (node !== undefined) {
        const event: HostNodeEvent = { from, to, node };
        const answer = host.events.fire('disco-items/host-node', event) as HostNodeAnswer | undefined;
        if (answer) return xml('query', { xmlns: NS_DISCO_ITEMS, node }, await answer);
      }
      const items = host.discoItems.filter((item) => node === undefined || item.node === node);
      if (node !== undefined && items.length === 0) throw new StanzaError('item-not-found', `no node "${node}" here`);
      return xml('query', { xmlns: NS_DISCO_ITEMS, node }, items.map((i) => xml('item', { jid: i.jid, name: i.name })));
    });

    // An account's bare JID (XEP-0030 §3.1, XEP-0163 §6): answered by the server on the account's behalf.
    // Modules add identities and features (m.accountIdentity, m.accountFeature), answer for nodes
    // ('disco-info/account-node') and add items ('disco-items/account'), possibly after loading data.
    const accountExists = async (from: Jid, to: Jid) => from.bare === to.bare || (await m.accounts.exists(host.name, to.local));
    m.iq(
      'get',
      NS_DISCO_INFO,
      'query',
      async ({ payload, from, to }) => {
        if (!(await accountExists(from, to))) throw new StanzaError('service-unavailable');
        const node = payload.attrs.node;
        if (node !== undefined) {
          const event: AccountNodeInfoEvent = { from, to, node };
          const answer = host.events.fire('disco-info/account-node', event) as Promise<Element[]> | undefined;
          if (!answer) throw new StanzaError('item-not-found', `no node "${node}" here`);
          return xml('query', { xmlns: NS_DISCO_INFO, node }, await answer);
        }
        const identities = [{ category: 'account', type: 'registered' }, ...host.accountIdentities];
        return xml('query', { xmlns: NS_DISCO_INFO }, identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name })), sortedFeatures(host.accountFeatures));
      },
      'bare',
    );
    m.iq(
      'get',
      NS_DISCO_ITEMS,
      'query',
      async ({ payload, from, to }) => {
        if (!(await accountExists(from, to))) throw new StanzaError('service-unavailable');
        const node = payload.attrs.node;
        const event: AccountItemsEvent = { from, to, node, items: [], pending: [], known: node === undefined };
        host.events.fire('disco-items/account', event);
        for (const more of await Promise.all(event.pending)) event.items.push(...more);
        if (!event.known) throw new StanzaError('item-not-found', `no node "${node}" here`);
        return xml('query', { xmlns: NS_DISCO_ITEMS, node }, event.items);
      },
      'bare',
    );
  },
});

/**
 * 'disco-info/host-node' and 'disco-items/host-node': a query about a node of the host itself. The module that
 * knows the node returns the query's children (or a promise of them); the others return undefined.
 */
export interface HostNodeEvent {
  from: Jid;
  to: Jid;
  node: string;
}

export type HostNodeAnswer = Element[] | Promise<Element[]>;

/** 'disco-info/account-node': the module that knows the node returns a promise of the query's children. */
export interface AccountNodeInfoEvent {
  from: Jid;
  to: Jid;
  node: string;
}

/**
 * 'disco-items/account': handlers push items, or promises of items into pending, and return undefined so that
 * every module can add its own; one that recognizes `node` sets known (else the answer is item-not-found).
 */
export interface AccountItemsEvent {
  from: Jid;
  to: Jid;
  node: string | undefined;
  items: Element[];
  pending: Promise<Element[]>[];
  known: boolean;
}

function sortedFeatures(features: Set<string>): Element[] {
  return [...features].sort().map((v) => xml('feature', { var: v }));
}
