// XEP-0359 Unique and Stable Stanza IDs: every message delivered to a local account carries a
// <stanza-id/> assigned by the account (by = its bare JID), which archives and clients can refer to.
import { randomUUID } from 'node:crypto';
import { defineModule } from '../../core/module-api.js';
import type { StanzaEvent } from '../../core/host.js';
import { tryParseJid } from '../../core/jid/index.js';
import { Element } from '../../core/xml/element.js';

export const NS_SID = 'urn:xmpp:sid:0';

/** The stanza-id the account assigned to a message, once this module has stamped it (for archives, carbons). */
export function stanzaIdBy(message: Element, bare: string): string | undefined {
  for (const child of message.children) {
    if (typeof child !== 'string' && child.localName === 'stanza-id' && child.ns === NS_SID && child.attrs.by === bare) return child.attrs.id;
  }
  return undefined;
}

/** Whether a stanza-id's 'by' names this account, also when written unprepared ('Juliet@Capulet.lit'). */
function byAccount(by: string | undefined, bare: string): boolean {
  if (by === bare) return true;
  return by !== undefined && tryParseJid(by)?.full === bare;
}

/**
 * §4 rules 2 and 4: a stanza-id claiming to be by the account was not assigned by it (it comes from the
 * sender): it goes, whatever the message type. Then non-error, non-groupchat messages get the account's
 * own (groupchat messages are stamped by the room, rule 7). Returns undefined so delivery goes on.
 */
function stamp(event: StanzaEvent): undefined {
  const message = event.stanza;
  const bare = event.to.bare;
  const children = message.children;
  for (let i = children.length - 1; i >= 0; i--) {
    const child = children[i];
    if (typeof child !== 'string' && child.localName === 'stanza-id' && child.ns === NS_SID && byAccount(child.attrs.by, bare)) children.splice(i, 1);
  }
  const type = message.attrs.type;
  if (type === 'error' || type === 'groupchat') return undefined;
  // §3.1: a UUID (RFC 4122 version 4), unpredictable and telling nothing about the archive (§6).
  message.append(new Element('stanza-id', { xmlns: NS_SID, id: randomUUID(), by: bare }));
  return undefined;
}

export default defineModule({
  name: 'stanza_id',
  spec: 'XEP-0359',
  description: 'Unique and stable stanza IDs on the messages delivered to accounts; spoofed ones are removed',
  setup(m) {
    // §5: the account assigns the IDs, so its disco#info says so.
    m.accountFeature(NS_SID);
    // Above the delivery handlers and the modules that store or copy a message (offline, archive, carbons),
    // so they all see the ID.
    m.hook('message/bare', stamp, 100);
    m.hook('message/full', stamp, 100);
  },
});
