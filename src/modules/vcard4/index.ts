// XEP-0292 vCard4 Over XMPP: the vCard is the item of the account's PEP node urn:xmpp:vcard4, published and read
// with plain PEP (the pep module does all of that). This module advertises the namespace on the account (§5) and
// answers the IQ-based <vcard xmlns='urn:ietf:params:xml:ns:vcard-4.0'/> get some clients still send, from the
// node's newest item, with the node's access model.
import { defineModule } from '../../core/module-api.js';
import { StanzaError } from '../../core/stanza.js';
import { pepService } from '../pep/index.js';

export const NS_VCARD4 = 'urn:ietf:params:xml:ns:vcard-4.0';
/** §3: the PEP node holding the account's vCard. */
export const VCARD4_NODE = 'urn:xmpp:vcard4';

export default defineModule({
  name: 'vcard4',
  spec: 'XEP-0292',
  description: 'vCard4 over XMPP: the PEP node urn:xmpp:vcard4, also answered to the IQ-based <vcard/> get',
  dependencies: ['pep'],
  setup(m) {
    const hostName = m.host.name;
    // §5: the account supports the vCard4 namespace.
    m.accountFeature(NS_VCARD4);

    m.iq(
      'get',
      NS_VCARD4,
      'vcard',
      async ({ from, to }) => {
        // Like vcard-temp: an account that does not exist and one without a vCard answer alike.
        if (from.bare !== to.bare && !(await m.accounts.exists(hostName, to.local))) throw new StanzaError('service-unavailable');
        const svc = await pepService(m.server, hostName, to.local);
        if (!svc || !svc.nodes.has(VCARD4_NODE)) throw new StanzaError('item-not-found', 'no vCard4 published');
        // The node's access model decides who reads it (XEP-0060 §6.5), as for a pubsub items request.
        const [result] = await svc.items(from, VCARD4_NODE, { maxItems: 1 });
        const vcard = result?.items[result.items.length - 1]?.payload;
        if (!vcard || vcard.localName !== 'vcard' || vcard.ns !== NS_VCARD4) throw new StanzaError('item-not-found', 'no vCard4 published');
        return vcard.clone();
      },
      'bare',
    );
  },
});
