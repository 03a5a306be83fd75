// XEP-0054 vcard-temp: each account keeps one vCard on the server; anyone may read it, only its owner may
// change it. The whole <vCard/> element is stored as XML, as the client sent it.
import { z } from 'zod';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';

export const NS_VCARD = 'vcard-temp';
/** The keyval store holding one serialized <vCard xmlns='vcard-temp'/> per account. */
export const VCARD_STORE = 'vcard';
/** Fired on the host after an account stored its vCard (XEP-0398 publishes its photo as the PEP avatar). */
export const VCARD_STORED_EVENT = 'vcard/stored';
export interface VcardStoredEvent {
  user: string;
  vcard: Element;
}

export default defineModule({
  name: 'vcard',
  spec: 'XEP-0054',
  description: "Stores each account's vCard (vcard-temp) and serves it to anyone who asks",
  options: z
    .object({
      /** Largest vCard accepted, in bytes of its XML (photos are the bulk of it). */
      max_size: z.number().int().min(1).default(65536),
    })
    .strict()
    .default({ max_size: 65536 }),
  setup(m) {
    const maxSize = m.options.max_size;
    const store = m.keyval(VCARD_STORE);
    const hostName = m.host.name;
    // §4: advertised by the server; the vCard lives at the account's bare JID, so there too.
    m.feature(NS_VCARD);
    m.accountFeature(NS_VCARD);

    m.iq(
      'get',
      NS_VCARD,
      'vCard',
      async ({ from, to }) => {
        const stored = await store.get(hostName, to.local);
        if (from.bare === to.bare) {
          // §3.1: one's own vCard; with none stored, an empty <vCard/> (which clients take as "nothing set yet").
          return stored ? parseStoredXml(stored) : xml('vCard', { xmlns: NS_VCARD });
        }
        // §3.3: another account's vCard, answered by the server on its behalf. No vCard and no such account get
        // the same error, service-unavailable (RFC 6121 §8.5.1), so that the answer does not reveal which it is.
        if (!stored) throw new StanzaError('service-unavailable');
        return parseStoredXml(stored);
      },
      'bare',
    );

    m.iq(
      'set',
      NS_VCARD,
      'vCard',
      async ({ payload, from, to }) => {
        // §3.2: only the account itself may publish its vCard.
        if (from.bare !== to.bare) throw new StanzaError('forbidden', 'you can only change your own vCard');
        const vcard = payload.clone();
        const serialized = vcard.toString();
        const size = Buffer.byteLength(serialized, 'utf8');
        // The XEP sets no limit; RFC 6120 §8.3.3.12 not-acceptable is the condition for a request that does not meet
        // the server's criteria (XEP-0060 answers an oversized payload the same way).
        if (size > maxSize) throw new StanzaError('not-acceptable', `the vCard is ${size} bytes; this server stores at most ${maxSize} (use a smaller photo)`);
        await store.set(hostName, to.local, serialized);
        m.host.events.fire(VCARD_STORED_EVENT, { user: to.local, vcard } satisfies VcardStoredEvent);
        return undefined;
      },
      'bare',
    );
  },
});
