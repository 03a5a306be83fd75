// XEP-0030 Service Discovery: what the server and its accounts are and can do, collected from the
// enabled modules, so disco always matches the config.
import { defineModule } from '../../core/module-api.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';

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

    m.iq('get', NS_DISCO_INFO, 'query', ({ payload }) => {
      const node = payload.attrs.node;
      if (node !== undefined) throw new StanzaError('item-not-found', `no node "${node}" here`);
      const identities = [{ category: 'server', type: 'im', name: 'Quire' }, ...host.identities];
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name })),
        sortedFeatures(host.features),
        host.discoExtensions.map((build) => build()),
      );
    });

    m.iq('get', NS_DISCO_ITEMS, 'query', ({ payload }) => {
      const node = payload.attrs.node;
      const items = host.discoItems.filter((item) => node === undefined || item.node === node);
      if (node !== undefined && items.length === 0) throw new StanzaError('item-not-found', `no node "${node}" here`);
      return xml('query', { xmlns: NS_DISCO_ITEMS, node }, items.map((i) => xml('item', { jid: i.jid, name: i.name })));
    });

    // An account's bare JID (XEP-0030 §3.1, XEP-0163 §4): answered by the server on the account's behalf.
    m.iq(
      'get',
      NS_DISCO_INFO,
      'query',
      async ({ payload, to }) => {
        if (payload.attrs.node !== undefined) throw new StanzaError('item-not-found');
        if (!(await m.accounts.exists(host.name, to.local))) throw new StanzaError('service-unavailable');
        return xml('query', { xmlns: NS_DISCO_INFO }, xml('identity', { category: 'account', type: 'registered' }), sortedFeatures(host.accountFeatures));
      },
      'bare',
    );
    m.iq(
      'get',
      NS_DISCO_ITEMS,
      'query',
      async ({ to }) => {
        if (!(await m.accounts.exists(host.name, to.local))) throw new StanzaError('service-unavailable');
        const items: Element[] = [];
        m.host.events.fire('disco-items/account', { to, items });
        return xml('query', { xmlns: NS_DISCO_ITEMS }, items);
      },
      'bare',
    );
  },
});

function sortedFeatures(features: Set<string>): Element[] {
  return [...features].sort().map((v) => xml('feature', { var: v }));
}
