// XEP-0160 Best Practices for Handling Offline Messages, with XEP-0203 Delayed Delivery stamps.
// A message to an account with no available non-negative resource is kept in the 'offline' archive and
// delivered, in order, to the first resource that sends non-negative available presence.
import { z } from 'zod';
import type { Host, StanzaEvent } from '../../core/host.js';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import type { Session } from '../../core/session.js';
import { xml, type Element } from '../../core/xml/element.js';

export const NS_DELAY = 'urn:xmpp:delay';
export const NS_HINTS = 'urn:xmpp:hints';
export const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';
/** XEP-0160 §4: the disco feature of offline storage. */
export const FEATURE_MSGOFFLINE = 'msgoffline';

/** Fired on the host as 'offline/stored' once a message is in storage (for push notifications, metrics). */
export interface OfflineStoredEvent {
  host: Host;
  user: string;
  /** The archive id of the stored message. */
  id: string;
  /** The message as stored, with its delay stamp. */
  stanza: Element;
}

/** Fired on the host as 'offline/delivered' after a session was given the stored messages (count may be 0). */
export interface OfflineDeliveredEvent {
  host: Host;
  session: Session;
  count: number;
}

/** Elements that say nothing worth keeping on their own: chat states, hints, the thread, stanza ids. */
function isHousekeeping(child: Element): boolean {
  if (child.ns === NS_CHATSTATES || child.ns === NS_HINTS) return true;
  if (child.localName === 'thread') return true;
  // XEP-0359 origin-id: a client's own id for its message, nothing to read.
  return child.ns === 'urn:xmpp:sid:0' && child.localName === 'origin-id';
}

/**
 * XEP-0160 §3 (and XEP-0334 hints): whether a message to an offline account is stored.
 * normal and chat are, except those that carry only XEP-0085 chat states (or nothing at all);
 * headline, groupchat and error are not. <no-store/> keeps any message out; <store/> lets in one
 * the type rules would leave out (never an error, XEP-0334 §6).
 */
export function worthStoring(message: Element): boolean {
  const type = message.attrs.type ?? 'normal';
  if (type === 'error' || type === 'groupchat') return false;
  if (message.getChild('no-store', NS_HINTS)) return false;
  if (message.getChild('store', NS_HINTS)) return true;
  if (type !== 'normal' && type !== 'chat') return false;
  for (const child of message.children) if (typeof child !== 'string' && !isHousekeeping(child)) return true;
  return false;
}

/** XEP-0082 DateTime in UTC, whole seconds. */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export default defineModule({
  name: 'offline',
  spec: 'XEP-0160',
  description: 'Stores messages for accounts that are offline and delivers them, with XEP-0203 delay stamps, at the next login',
  options: z
    .object({
      /** Messages kept per account; further ones are refused with service-unavailable (XEP-0160 §2). */
      max_messages: z.number().int().min(1).default(1000),
    })
    .strict()
    .default({ max_messages: 1000 }),
  setup(m) {
    const host: Host = m.host;
    const archive = m.archive('offline');
    const maxMessages = m.options.max_messages;
    const log = m.log;
    m.feature(FEATURE_MSGOFFLINE);

    // Per-account work queue: stores and deliveries of one account run one after the other, so a message
    // stored while its recipient is logging in is either delivered in that login or waits for the next, the
    // mailbox limit is checked against a count no concurrent store can change, and two resources coming
    // online together do not both get the messages (the second finds the mailbox already emptied).
    const queues = new Map<string, Promise<void>>();
    function enqueue(user: string, task: () => Promise<void>): void {
      const previous = queues.get(user) ?? Promise.resolve();
      const next = previous.then(task).catch((err: unknown) => log.error({ err, user }, 'offline storage failed'));
      queues.set(user, next);
      void next.then(() => {
        if (queues.get(user) === next) queues.delete(user);
      });
    }

    m.hook('message/offline', (event: StanzaEvent) => {
      const { stanza } = event;
      // Not stored: the default delivery answers as RFC 6121 §8.5.2.2 says (service-unavailable for
      // normal and chat, silence for headline).
      if (!worthStoring(stanza)) return undefined;
      const user = event.to.local;
      const received = Date.now();
      const message = stanza.clone();
      enqueue(user, async () => {
        // RFC 6121 §8.5.2.2: there is no offline storage for an account that does not exist.
        if (!(await m.accounts.exists(host.name, user))) {
          m.server.router.bounce(message, 'service-unavailable');
          return;
        }
        // XEP-0160 §2 step 3: a full queue is answered with service-unavailable.
        if ((await archive.count(host.name, user)) >= maxMessages) {
          m.server.router.bounce(message, 'service-unavailable', 'the offline message storage of this account is full');
          return;
        }
        // XEP-0203 §2: one delay element, added by the server that delayed the stanza. A sender cannot speak for
        // this server, so a stamp claiming to be ours is replaced.
        for (const delay of message.getChildren('delay', NS_DELAY)) if (delay.attrs.from === host.name) message.remove(delay);
        message.append(xml('delay', { xmlns: NS_DELAY, from: host.name, stamp: dateTime(received) }, 'Offline Storage'));
        const id = await archive.append(host.name, user, { when: received, with: event.from.bare, value: message.toString() });
        host.events.fire('offline/stored', { host, user, id, stanza: message } satisfies OfflineStoredEvent);
      });
      return true;
    });

    /** XEP-0160 §2 step 5: everything stored goes to the resource that sent the presence, oldest first. */
    function deliver(session: Session): void {
      const user = session.jid.local;
      enqueue(user, async () => {
        const { items } = await archive.query(host.name, user);
        const sent: string[] = [];
        try {
          for (const item of items) {
            // The session may have closed, gone unavailable or negative meanwhile: what is not sent stays stored.
            if (!session.presence || session.priority < 0 || m.server.sessions.get(session.jid) !== session) break;
            let message: Element;
            try {
              message = parseStoredXml(item.value);
            } catch (err) {
              log.error({ err, user, id: item.id }, 'dropping a damaged offline message');
              sent.push(item.id);
              continue;
            }
            // send() serializes at once: once it returns, the message is the connection's to deliver.
            session.send(message);
            sent.push(item.id);
          }
        } finally {
          // Deleted only once sent, so a failure before this point delivers again rather than loses.
          if (sent.length) await archive.delete(host.name, user, { ids: sent });
        }
        host.events.fire('offline/delivered', { host, session, count: sent.length } satisfies OfflineDeliveredEvent);
      });
    }

    // Whether each session last sent available presence with a non-negative priority. Offline messages go out
    // when that becomes true: at initial presence, or later when a negative priority is raised (§2 step 5,
    // RFC 6121 §8.5.2.1: negative-priority resources never receive messages sent to the bare JID).
    const eligible = new WeakMap<Session, boolean>();
    m.hook(
      'presence/self',
      (event: StanzaEvent) => {
        const session = event.origin;
        if (!session) return undefined;
        const now = session.presence !== null && session.priority >= 0;
        const before = eligible.get(session) ?? false;
        eligible.set(session, now);
        // Deferred by the queue's promise, so the presence broadcast that follows this hook goes out first.
        if (now && !before) deliver(session);
        return undefined;
      },
      // Before the presence module and the default broadcast, which end the chain.
      100,
    );
  },
});
