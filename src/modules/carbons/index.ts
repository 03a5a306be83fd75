// XEP-0280 Message Carbons: a client that enables carbons gets a copy of the messages its account receives on other
// resources (<received/>) and of those its other resources send (<sent/>), so every device sees both sides of every
// conversation. The rules of §6.1 decide which messages are copied; urn:xmpp:carbons:rules:0 says we follow them.
import type { StanzaEvent } from '../../core/host.js';
import { defineModule, type IqRequest } from '../../core/module-api.js';
import type { Session } from '../../core/session.js';
import { StanzaError } from '../../core/stanza.js';
import type { Element } from '../../core/xml/element.js';
import { NS_CARBONS, NS_CARBONS_RULES, deliveredTo, isEligible, wrapCarbon } from './rules.js';

export { NS_CARBONS, NS_CARBONS_RULES, NS_FORWARD, isEligible, wrapCarbon } from './rules.js';

/** session.data key: true while the session has carbons enabled (§4, §5). */
const ENABLED = 'carbons';
/**
 * session.data key: '<peer bare JID> <id>' of the eligible messages the session sent or was given while the account
 * had carbons on, newest last, so that an error answering one of them is copied too (§6.1).
 */
const EXCHANGED = 'carbons:exchanged';
const MAX_EXCHANGED = 128;

/** Whether a session has carbons on. */
export function carbonsEnabled(session: Session): boolean {
  return session.data.get(ENABLED) === true;
}

function remember(session: Session, peerBare: string, id: string): void {
  let ids = session.data.get(EXCHANGED) as Set<string> | undefined;
  if (!ids) session.data.set(EXCHANGED, (ids = new Set()));
  ids.add(peerBare + ' ' + id);
  if (ids.size > MAX_EXCHANGED) ids.delete(ids.values().next().value!);
}

function exchanged(session: Session | undefined, peerBare: string, id: string | undefined): boolean {
  if (!session || id === undefined) return false;
  const ids = session.data.get(EXCHANGED) as Set<string> | undefined;
  return ids !== undefined && ids.has(peerBare + ' ' + id);
}

export default defineModule({
  name: 'carbons',
  spec: 'XEP-0280',
  description: 'Message Carbons: every carbons-enabled client of an account sees the messages its other clients send and receive',
  setup(m) {
    const sessions = m.server.sessions;

    // §2, §6.1.2
    m.feature(NS_CARBONS);
    m.feature(NS_CARBONS_RULES);

    // §4 / §5: a client turns carbons on and off for itself, as often as it likes (§7); asked of its own bare JID
    // (a request with no 'to') or of the server.
    const toggle = (on: boolean) => ({ origin, to }: IqRequest) => {
      // §4: not-allowed "if the request is from a client that is not hosted on this server".
      if (!origin || origin.host !== m.host.name) throw new StanzaError('not-allowed', 'Carbons are for clients of this server');
      // §5: not-allowed when changing another client's carbons.
      if (to.local !== '' && to.bare !== origin.jid.bare) throw new StanzaError('not-allowed', "a client can only change its own account's Carbons");
      if (on) origin.data.set(ENABLED, true);
      else origin.data.delete(ENABLED);
      return undefined;
    };
    m.iq('set', NS_CARBONS, 'enable', toggle(true), 'both');
    m.iq('set', NS_CARBONS, 'disable', toggle(false), 'both');

    /** The account's carbons-enabled sessions other than `except`, or null when there are none (the common case). */
    const enabledSessions = (bare: string, except: Session | null): Session[] | null => {
      let out: Session[] | null = null;
      for (const session of sessions.resources(bare)) {
        if (session !== except && session.data.get(ENABLED) === true) (out ??= []).push(session);
      }
      return out;
    };

    const send = (copies: Session[], skip: Session[], kind: 'sent' | 'received', message: Element, bare: string) => {
      let carbon: Element | null = null;
      for (const session of copies) {
        if (skip.includes(session)) continue;
        // A sent message was archived by the mam module (priority 40) before this hook runs, if mam is enabled;
        // it answers 'mam/sent-id' with the archive id (XEP-0313 §3.5 puts it on the sent carbon).
        carbon ??= wrapCarbon(kind, message, bare, kind === 'sent' ? (m.host.events.fire('mam/sent-id', message) as string | undefined) : undefined);
        // §6.2 / §6.3: addressed to the full JID of the resource that gets the copy; send() writes it at once.
        carbon.attrs.to = session.jid.full;
        session.send(carbon);
      }
    };

    // §6.2 Receiving messages: after the stanza-id (priority 100) is on, before the default delivery (-1000). The
    // resources RFC 6121 gives the message get it as is; the other carbons-enabled ones get a <received/> copy.
    const received = (event: StanzaEvent): undefined => {
      const { stanza, from, to } = event;
      const bare = to.bare;
      // A message between the account's own resources is copied once, as a <sent/> carbon (below).
      if (from.bare === bare) return undefined;
      const copies = enabledSessions(bare, null);
      if (copies === null) return undefined;
      const type = stanza.attrs.type ?? 'normal';
      if (type === 'error') {
        // §6.1: an error is copied when it answers an eligible message; that one went out from the addressed resource.
        if (!exchanged(sessions.get(to), from.bare, stanza.attrs.id)) return undefined;
        send(copies, deliveredTo(sessions, to, type), 'received', stanza, bare);
        return undefined;
      }
      if (!isEligible(stanza, 'received', from.resource !== '')) return undefined;
      const recipients = deliveredTo(sessions, to, type);
      // An error the user's client sends back about this message is copied too.
      const id = stanza.attrs.id;
      if (id !== undefined) for (const session of recipients) remember(session, from.bare, id);
      send(copies, recipients, 'received', stanza, bare);
      return undefined;
    };
    m.hook('message/bare', received, 50);
    m.hook('message/full', received, 50);

    // §6.3 Sending messages: every carbons-enabled resource of the sender but the sending one gets a <sent/> copy,
    // whether or not the sender enabled carbons. Below blocking (100), which stops messages that go nowhere.
    const sent = (event: StanzaEvent): undefined => {
      const { stanza, origin, to } = event;
      if (!origin) return undefined;
      const bare = origin.jid.bare;
      const copies = enabledSessions(bare, origin);
      if (copies === null) return undefined;
      const type = stanza.attrs.type ?? 'normal';
      const id = stanza.attrs.id;
      if (type === 'error') {
        if (!exchanged(origin, to.bare, id)) return undefined;
      } else {
        if (!isEligible(stanza, 'sent', false)) return undefined;
        if (id !== undefined) remember(origin, to.bare, id);
      }
      // A note to one's own account: the resources that get the message itself need no copy of it.
      const skip = to.bare === bare ? deliveredTo(sessions, to, type) : [];
      send(copies, skip, 'sent', stanza, bare);
      return undefined;
    };
    m.hook('pre-message/bare', sent);
    m.hook('pre-message/full', sent);
    // Services and gateways addressed by domain (a transport's bot) have conversations too.
    m.hook('pre-message/host', sent);
  },
});
