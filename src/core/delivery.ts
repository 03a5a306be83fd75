// Default delivery to local accounts: RFC 6121 §8.5 (local user) and RFC 6120 §10.5.
// Registered on every host at the lowest priority, so modules (offline storage, roster, carbons…)
// can take a stanza first by handling the same event.
import type { Host, StanzaEvent } from './host.js';
import type { Session, SessionDirectory } from './session.js';
import { xml, type Element } from './xml/element.js';

const DEFAULT_PRIORITY = -1000;

/** RFC 6121 §4.7.2.3: an integer from -128 to +127, 0 when absent or invalid. */
export function presencePriority(presence: Element): number {
  const text = presence.getChildText('priority');
  if (text === undefined) return 0;
  const value = Number.parseInt(text.trim(), 10);
  return Number.isNaN(value) ? 0 : Math.max(-128, Math.min(127, value));
}

/** Sends to one session with the addressee stamped; send() serializes at once, so the element is reused. */
function deliverTo(session: Session, stanza: Element): void {
  const previousTo = stanza.attrs.to;
  stanza.attrs.to = session.jid.full;
  session.send(stanza);
  stanza.attrs.to = previousTo;
}

/**
 * RFC 6121 §8.5.2.1: the resources a message to a bare JID goes to: headline to every available resource with a
 * non-negative priority, normal and chat to those of them with the highest priority. Carbons asks the same.
 */
export function bareMessageRecipients(sessions: SessionDirectory, bare: string, type: string): Session[] {
  const available: Session[] = [];
  let top = -129;
  for (const session of sessions.resources(bare)) {
    if (!session.presence || session.priority < 0) continue;
    available.push(session);
    if (session.priority > top) top = session.priority;
  }
  return type === 'headline' ? available : available.filter((s) => s.priority === top);
}

/** RFC 6121 §8.5.2: a message to a local bare JID. */
function messageToBare(event: StanzaEvent): true {
  const { stanza, host } = event;
  const type = stanza.attrs.type ?? 'normal';
  // RFC 6121 §8.5.2.1.1 / §8.5.2.2.1: error messages to a bare JID are silently ignored.
  if (type === 'error') return true;
  if (type === 'groupchat') {
    host.server.router.bounce(stanza, 'service-unavailable');
    return true;
  }
  const recipients = bareMessageRecipients(host.server.sessions, event.to.bare, type);
  if (recipients.length > 0) {
    for (const session of recipients) deliverTo(session, stanza);
    return true;
  }
  // §8.5.2.2: no available resource. Offline storage (XEP-0160) takes it if enabled.
  if (host.events.fire('message/offline', event) !== undefined) return true;
  if (type !== 'headline') host.server.router.bounce(stanza, 'service-unavailable');
  return true;
}

/** RFC 6121 §8.5.3: a message to a local full JID. */
function messageToFull(event: StanzaEvent): true {
  const { stanza, host } = event;
  const session = host.server.sessions.get(event.to);
  if (session) {
    session.send(stanza);
    return true;
  }
  const type = stanza.attrs.type ?? 'normal';
  // §8.5.3.2.1: no such resource. normal and chat are treated as if sent to the bare JID;
  // groupchat gets service-unavailable; headline and error are ignored.
  if (type === 'normal' || type === 'chat') return messageToBare({ ...event, to: event.to.bareJid() });
  if (type === 'groupchat') host.server.router.bounce(stanza, 'service-unavailable');
  return true;
}

/** Presence to a local account (bare or full JID) as the defaults deliver it: for a module that held it back. */
export function deliverPresence(event: StanzaEvent): true {
  return event.to.resource === '' ? presenceToBare(event) : presenceToFull(event);
}

/** RFC 6121 §4.6 directed presence, and inbound presence with no roster module. */
function presenceToBare(event: StanzaEvent): true {
  const { stanza, host } = event;
  const type = stanza.attrs.type;
  if (type === 'probe' || type === 'error') return true;
  for (const session of host.server.sessions.resources(event.to.bare)) if (session.presence) deliverTo(session, stanza);
  return true;
}

function presenceToFull(event: StanzaEvent): true {
  const type = event.stanza.attrs.type;
  if (type === 'probe') return true;
  event.host.server.sessions.get(event.to)?.send(event.stanza);
  return true;
}

/**
 * RFC 6121 §4.2, §4.4 and §4.5: presence a client sends with no 'to' updates its session and is broadcast
 * ('presence/self'). The first available presence of a session also fires 'presence/initial', after the
 * broadcast, for modules that deliver what waited for the user (offline messages, subscription requests).
 */
export function broadcastOwnPresence(host: Host, session: Session, stanza: Element): void {
  const type = stanza.attrs.type;
  // Subscription states and probes need an addressee (RFC 6121 §3, §4.3).
  if (type !== undefined && type !== 'unavailable') return;
  const wasAvailable = session.presence !== null;
  if (type === undefined) {
    session.priority = presencePriority(stanza);
    session.presence = stanza;
  } else {
    session.presence = null;
  }
  host.events.fire('presence/self', { stanza, origin: session, from: session.jid, to: session.jid.bareJid(), host } satisfies StanzaEvent);
  if (!wasAvailable && session.presence) host.events.fire('presence/initial', { session, host });
}

/** Without a roster module, own presence reaches the account's own available resources (including the sender, §4.2.2). */
function presenceBroadcast(event: StanzaEvent): true {
  const { stanza, origin, host } = event;
  if (!origin) return true;
  for (const session of host.server.sessions.resources(origin.jid.bare)) {
    if (session.presence || session === origin) deliverTo(session, stanza);
  }
  return true;
}

/** RFC 6120 §10.5.3: an IQ for a full JID goes to that resource, or gets service-unavailable. */
function iqToFull(event: StanzaEvent): true {
  const session = event.host.server.sessions.get(event.to);
  if (session) session.send(event.stanza);
  else if (event.stanza.attrs.type === 'get' || event.stanza.attrs.type === 'set') event.host.server.router.bounce(event.stanza, 'service-unavailable');
  return true;
}

/** RFC 6120 §8.4: a request nobody handles gets service-unavailable; responses go to whoever asked. */
function iqToServer(event: StanzaEvent): true {
  const type = event.stanza.attrs.type;
  if (type === 'get' || type === 'set') event.host.server.router.bounce(event.stanza, 'service-unavailable');
  else event.host.server.resolveIq(event.stanza);
  return true;
}

/** RFC 6120 §10.3.1/§10.4: messages to the server itself; presence to the server is ignored. */
function messageToHost(event: StanzaEvent): true {
  const type = event.stanza.attrs.type ?? 'normal';
  if (type !== 'error' && type !== 'headline') event.host.server.router.bounce(event.stanza, 'service-unavailable');
  return true;
}

/** When a session ends while available, the others hear it went unavailable (RFC 6121 §4.5.2). */
function sessionEnded({ session, host }: { session: Session; host: Host }): undefined {
  if (!session.presence) return undefined;
  broadcastOwnPresence(host, session, xml('presence', { type: 'unavailable', from: session.jid.full }));
  return undefined;
}

export function installDefaultDelivery(host: Host): void {
  const on = host.events.on.bind(host.events);
  on('message/bare', messageToBare, DEFAULT_PRIORITY);
  on('message/full', messageToFull, DEFAULT_PRIORITY);
  on('message/host', messageToHost, DEFAULT_PRIORITY);
  on('presence/bare', presenceToBare, DEFAULT_PRIORITY);
  on('presence/full', presenceToFull, DEFAULT_PRIORITY);
  on('presence/host', () => true, DEFAULT_PRIORITY);
  on('presence/self', presenceBroadcast, DEFAULT_PRIORITY);
  on('iq/full', iqToFull, DEFAULT_PRIORITY);
  on('iq/bare', iqToServer, DEFAULT_PRIORITY);
  on('iq/host', iqToServer, DEFAULT_PRIORITY);
  on('session-ended', sessionEnded, DEFAULT_PRIORITY);
}
