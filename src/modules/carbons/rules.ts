// XEP-0280 Message Carbons: which messages are copied (§6.1, the "urn:xmpp:carbons:rules:0" rules), who got a
// message under RFC 6121 and so needs no copy (§6.2), and the XEP-0297 wrapping of a copy (§6.2, §6.3).
import { bareMessageRecipients } from '../../core/delivery.js';
import type { Jid } from '../../core/jid/index.js';
import type { SessionDirectory, Session } from '../../core/session.js';
import { NS } from '../../core/stanza.js';
import { Element, xml } from '../../core/xml/element.js';

export const NS_CARBONS = 'urn:xmpp:carbons:2';
/** §6.1.2: advertising it makes the rules below binding. */
export const NS_CARBONS_RULES = 'urn:xmpp:carbons:rules:0';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_RECEIPTS = 'urn:xmpp:receipts';
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
export const NS_CHAT_MARKERS = 'urn:xmpp:chat-markers:0';
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
export const NS_CONFERENCE = 'jabber:x:conference';
export const NS_SID = 'urn:xmpp:sid:0';

/**
 * §6.1: whether a message that is not an error is eligible for carbons. Errors are eligible only as answers to an
 * eligible message, which takes knowing that message: the module tracks them.
 * `direction` is 'sent' for a message the user's client sends, 'received' for one addressed to the user;
 * `fromFullJid` says whether a received message comes from a full JID (a MUC participant, for a MUC PM).
 */
export function isEligible(message: Element, direction: 'sent' | 'received', fromFullJid: boolean): boolean {
  const type = message.attrs.type ?? 'normal';
  // §6.1.1: groupchat is not copied (the room sends it to every joined client); errors: see above.
  if (type === 'groupchat' || type === 'error') return false;
  let im = type === 'chat';
  let mucUser: Element | undefined;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const ns = child.ns;
    if (ns === NS_CARBONS) {
      // §6.4: <private/> keeps a message out. A <sent/> or <received/> inside a message is not a carbon this server
      // made (those it delivers itself, never routes): it is not copied again; the client discards it (§11).
      return false;
    } else if (ns === NS_HINTS) {
      // XEP-0334 §4: <no-copy/> "should not be copied to addresses other than the one to which it is addressed".
      if (child.localName === 'no-copy') return false;
    } else if (ns === NS_RECEIPTS || ns === NS_CHATSTATES || ns === NS_CHAT_MARKERS || ns === NS_CONFERENCE) {
      // §6.1: payloads typically used in IM (XEP-0184, XEP-0085, XEP-0333); §6.1.1: XEP-0249 direct invitations.
      im = true;
    } else if (ns === NS_MUC_USER) {
      mucUser = child;
    } else if (child.localName === 'body' && ns === message.ns && type === 'normal') {
      im = true;
    }
  }
  if (mucUser) {
    // §6.1.1: a mediated invitation is copied; a private message from a room participant is not (the room already
    // sends it to every joined client), while one the user sends to a participant is.
    if (mucUser.getChild('invite', NS_MUC_USER)) return true;
    if (direction === 'received' && fromFullJid) return false;
  }
  return im;
}

/**
 * The sessions RFC 6121 §8.5 delivers a message to, as the default delivery (core/delivery.ts) does: the addressed
 * resource; else, for normal and chat, the available non-negative resources of the highest priority; headline to
 * all available non-negative ones (§8.5.2.1). Those get the message itself, so no copy (§6.2).
 */
export function deliveredTo(sessions: SessionDirectory, to: Jid, type: string): Session[] {
  if (to.resource !== '') {
    const session = sessions.get(to);
    if (session) return [session];
    // §8.5.3.2.1: normal and chat to a gone resource are handled as if sent to the bare JID; the rest goes nowhere.
    if (type !== 'normal' && type !== 'chat') return [];
  }
  if (type === 'error' || type === 'groupchat') return [];
  return bareMessageRecipients(sessions, to.bare, type);
}

/**
 * §6.2 / §6.3: the copy: a message from the user's bare JID with the original's type, holding <received/> or <sent/>
 * with the original inside an XEP-0297 <forwarded/>. The caller sets 'to' (the full JID of the copy's resource).
 * A sent copy carries the id the sender's archive gave the message, when there is one (XEP-0313 §3.5 "SHOULD").
 */
export function wrapCarbon(kind: 'sent' | 'received', message: Element, bareJid: string, archiveId?: string): Element {
  const original = message.clone();
  // Inside <forwarded/> the message must say its namespace, or it would inherit urn:xmpp:forward:0.
  delete original.attrs.xmlns;
  original.attrs = { xmlns: NS.client, ...original.attrs };
  original.ns = NS.client;
  if (kind === 'sent') {
    // XEP-0359 §4: only the account assigns ids by its own JID; one the sending client put there is not one.
    for (const sid of original.getChildren('stanza-id', NS_SID)) if (sid.attrs.by === bareJid) original.remove(sid);
    if (archiveId !== undefined) original.append(xml('stanza-id', { xmlns: NS_SID, by: bareJid, id: archiveId }));
  }
  return xml('message', { from: bareJid, type: message.attrs.type }, xml(kind, { xmlns: NS_CARBONS }, xml('forwarded', { xmlns: NS_FORWARD }, original)));
}
