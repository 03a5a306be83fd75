// RFC 6121 §3 (subscriptions, with pre-approval) and §4 (presence broadcast, probes, directed presence).
// Each subscription stanza changes the roster as Appendix A of RFC 6121 says, pushes the change to the
// user's interested resources, and is routed on (or answered) per the same rules.
import type { Host, StanzaEvent } from '../../core/host.js';
import { deliverPresence } from '../../core/delivery.js';
import { defineModule } from '../../core/module-api.js';
import { newItem, parseStoredXml, type Roster, type RosterItem } from '../../core/roster.js';
import { SerialQueues } from '../../core/serial-queues.js';
import type { Session } from '../../core/session.js';
import { xml, type Element } from '../../core/xml/element.js';
import { isInterested, pushRosterItem } from '../roster/index.js';

export const NS_PRE_APPROVAL = 'urn:xmpp:features:pre-approval';

type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed';
const SUBSCRIPTION_TYPES = new Set(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed']);

/** session.data key: JIDs that got directed presence and must hear when the session goes unavailable (§4.6). */
const DIRECTED = 'presence:directed';
const MAX_DIRECTED = 1000;

export default defineModule({
  name: 'presence',
  spec: 'RFC 6121 §3-4',
  description: 'Presence subscriptions with pre-approval, broadcast, probes and directed presence',
  dependencies: ['roster'],
  setup(m) {
    const host: Host = m.host;
    const rosters = m.server.rosters;
    const router = m.server.router;
    /** Subscription requests waiting for an answer, redelivered at every login (§3.1.3). */
    const requests = m.map('subscription-requests');
    /**
     * Presence work per account, in arrival order: subscription stanzas the account sends and receives, probes it
     * answers, and, while any of those waits for storage, its broadcasts and the presence delivered to it. So the
     * RFC 6121 orderings hold whatever storage takes: an approval, then its roster push, then the approver's
     * presence (§3.1.5, §3.1.6); "unavailable" to a contact before "unsubscribed" (§3.2.2).
     */
    const queues = new SerialQueues();

    m.fold('stream-features/authenticated', (features: Element) => features.append(xml('sub', { xmlns: NS_PRE_APPROVAL })));

    const fail = (err: unknown) => m.log.error({ err }, 'presence handling failed');
    const bareOf = (user: string) => `${user}@${host.name}`;
    const isSubscription = (type: string | undefined): type is SubscriptionType => type !== undefined && SUBSCRIPTION_TYPES.has(type);

    /** Stores changed items and pushes those the user can see. */
    async function save(roster: Roster, item: RosterItem, remove = false): Promise<void> {
      const previous = roster.items.get(item.jid)?.subscription ?? 'none';
      if (remove) {
        await rosters.commit(roster, [], [item.jid]);
        return;
      }
      await rosters.commit(roster, [item]);
      if (item.inRoster) pushRosterItem(host, roster, item);
      // Others (PEP) act when a subscription starts or ends.
      if (item.subscription !== previous) host.events.fire('roster/subscription-changed', { host, user: roster.user, contact: item.jid, previous, subscription: item.subscription });
    }

    /** The user's available sessions, for delivering inbound subscription stanzas (§3.1.3). */
    function deliverToAvailable(user: string, stanza: Element): void {
      for (const session of m.server.sessions.resources(bareOf(user))) {
        if (!session.presence) continue;
        const copy = stanza.clone();
        copy.attrs.to = session.jid.full;
        session.send(copy);
      }
    }

    /**
     * Approvals, cancellations and unsubscribes go to the user's interested resources (RFC 6121 §3.1.6, §3.2.3,
     * §3.3.3), which see the matching roster push; available ones get them too, as they may show them.
     */
    function deliverToInterested(user: string, stanza: Element): void {
      for (const session of m.server.sessions.resources(bareOf(user))) {
        if (!session.presence && !isInterested(session)) continue;
        const copy = stanza.clone();
        copy.attrs.to = session.jid.full;
        session.send(copy);
      }
    }

    /** The user's available presence, one per available resource, addressed from it: taken now, sent later. */
    function presencesOf(user: string): Element[] {
      const out: Element[] = [];
      for (const session of m.server.sessions.resources(bareOf(user))) {
        if (!session.presence) continue;
        const presence = session.presence.clone();
        presence.attrs.from = session.jid.full;
        out.push(presence);
      }
      return out;
    }

    /** Sends each presence (or "unavailable" from each of their resources) to one JID. */
    function sendPresences(presences: Element[], to: string, type?: 'unavailable'): void {
      for (const available of presences) {
        const presence = type ? xml('presence', { type, from: available.attrs.from }) : available.clone();
        presence.attrs.to = to;
        router.route(presence);
      }
    }

    /** Sends the user's current presence (or unavailable) from every available resource to one JID. */
    function sendPresenceTo(user: string, to: string, type?: 'unavailable'): void {
      sendPresences(presencesOf(user), to, type);
    }

    function routeFromUser(user: string, to: string, type: SubscriptionType): void {
      router.route(xml('presence', { from: bareOf(user), to, type }));
    }

    // ---- outbound: stanzas from the user's clients (§3.1.2, §3.2.2, §3.3.2, §3.4, §4.6) ----

    /** `presences`: the user's available presence when the stanza arrived (see presencesOf). */
    async function outboundSubscription(event: StanzaEvent, type: SubscriptionType, presences: Element[]): Promise<void> {
      const user = event.from.local;
      const contact = event.to.bare;
      if (contact === bareOf(user)) return; // one's own presence needs no subscription
      const stanza = event.stanza;
      // §3.1.2: stamped with bare JIDs on both sides.
      stanza.attrs.from = bareOf(user);
      stanza.attrs.to = contact;
      const roster = await rosters.get(host.name, user);
      const existing = roster.items.get(contact);
      const item: RosterItem = existing ? { ...existing } : newItem(contact);
      const sub = item.subscription;
      switch (type) {
        case 'subscribe':
          // A.2.1: None or From gains Pending Out; the item joins the roster if it was not there.
          if (!item.inRoster || ((sub === 'none' || sub === 'from') && !item.ask)) {
            item.inRoster = true;
            if (sub === 'none' || sub === 'from') item.ask = true;
            await save(roster, item);
          }
          router.route(stanza);
          return;
        case 'unsubscribe':
          // A.2.3: To -> None, Both -> From, and Pending Out is cancelled.
          if (existing && (sub === 'to' || sub === 'both' || item.ask)) {
            item.subscription = sub === 'both' ? 'from' : sub === 'to' ? 'none' : sub;
            item.ask = false;
            await save(roster, item);
          }
          router.route(stanza);
          return;
        case 'subscribed':
          if (existing?.pendingIn) {
            // A.2.2: approving a request: None -> From, To -> Both.
            item.subscription = sub === 'to' ? 'both' : sub === 'none' ? 'from' : sub;
            item.pendingIn = false;
            item.approved = false;
            item.inRoster = true;
            await save(roster, item);
            await requests.set(host.name, user, contact, null);
            router.route(stanza);
            // §3.1.5: then the user's presence, as it was when the user approved. A local contact handles both in
            // order (its queue), after the approval's roster push (§3.1.6).
            sendPresences(presences, contact);
          } else if ((sub === 'none' || sub === 'to') && !item.approved) {
            // §3.4: pre-approval; nothing is routed.
            item.approved = true;
            item.inRoster = true;
            await save(roster, item);
          }
          return;
        case 'unsubscribed':
          if (sub === 'from' || sub === 'both') {
            // A.2.4: cancelling the contact's subscription: From -> None, Both -> To.
            item.subscription = sub === 'both' ? 'to' : 'none';
            item.pendingIn = false;
            item.approved = false;
            await save(roster, item);
            await requests.set(host.name, user, contact, null);
            // §3.2.2: the contact sees the user go unavailable while still subscribed, before the cancellation.
            sendPresences(presences, contact, 'unavailable');
            router.route(stanza);
          } else if (existing?.pendingIn) {
            // Denying a request.
            item.pendingIn = false;
            await save(roster, item, !item.inRoster);
            await requests.set(host.name, user, contact, null);
            router.route(stanza);
          } else if (existing?.approved) {
            // §3.4: withdrawing a pre-approval; nothing is routed.
            item.approved = false;
            await save(roster, item);
          }
          return;
      }
    }

    function outboundPresence(event: StanzaEvent): true | undefined {
      const type = event.stanza.attrs.type;
      if (isSubscription(type)) {
        const presences = type === 'subscribed' || type === 'unsubscribed' ? presencesOf(event.from.local) : [];
        queues.run(event.from.bare, () => outboundSubscription(event, type, presences)).catch(fail);
        return true;
      }
      // §4.6: directed presence to someone not subscribed is remembered, to send unavailable later.
      const session = event.origin;
      if (!session || (type !== undefined && type !== 'unavailable') || event.to.bare === session.jid.bare) return undefined;
      const subscription = rosters.cached(host.name, session.jid.local)?.items.get(event.to.bare)?.subscription;
      if (subscription === 'from' || subscription === 'both') return undefined;
      let directed = session.data.get(DIRECTED) as Set<string> | undefined;
      if (type === 'unavailable') directed?.delete(event.to.full);
      else {
        if (!directed) session.data.set(DIRECTED, (directed = new Set()));
        if (directed.size < MAX_DIRECTED) directed.add(event.to.full);
      }
      return undefined;
    }
    m.hook('pre-presence/bare', outboundPresence, 10);
    m.hook('pre-presence/full', outboundPresence, 10);

    // ---- inbound: stanzas to a local account (§3.1.3, §3.1.6, §3.2.3, §3.3.3, §4.3.2) ----

    async function inboundSubscription(event: StanzaEvent, type: SubscriptionType): Promise<void> {
      const user = event.to.local;
      const contact = event.from.bare;
      const stanza = event.stanza;
      stanza.attrs.from = contact;
      stanza.attrs.to = bareOf(user);
      if (!(await m.accounts.exists(host.name, user))) {
        // §3.1.3: no such user, so no subscription.
        if (type === 'subscribe') routeFromUser(user, contact, 'unsubscribed');
        return;
      }
      const roster = await rosters.get(host.name, user);
      const existing = roster.items.get(contact);
      const item: RosterItem = existing ? { ...existing } : { ...newItem(contact), inRoster: false };
      const sub = item.subscription;
      switch (type) {
        case 'subscribe':
          if (sub === 'from' || sub === 'both') {
            // §3.1.3: already subscribed: the server answers for the user.
            routeFromUser(user, contact, 'subscribed');
          } else if (item.approved) {
            // §3.4: pre-approved: None -> From, To -> Both, answered at once.
            item.subscription = sub === 'to' ? 'both' : 'from';
            item.approved = false;
            await save(roster, item);
            routeFromUser(user, contact, 'subscribed');
            sendPresenceTo(user, contact);
          } else if (!item.pendingIn) {
            // A.3.1: Pending In; the request waits for the user's answer, and is kept for later logins.
            item.pendingIn = true;
            await save(roster, item);
            await requests.set(host.name, user, contact, stanza.toString());
            deliverToAvailable(user, stanza);
          }
          return;
        case 'unsubscribe':
          if (sub === 'from' || sub === 'both') {
            item.subscription = sub === 'both' ? 'to' : 'none';
            item.pendingIn = false;
            // §3.3.3: the notification, then the roster push, then "unavailable" to the contact.
            deliverToInterested(user, stanza);
            await save(roster, item);
            // §3.3.3: the contact no longer gets the user's presence, so it sees each available resource go.
            sendPresenceTo(user, contact, 'unavailable');
          } else if (item.pendingIn) {
            // The contact withdrew its request.
            item.pendingIn = false;
            deliverToInterested(user, stanza);
            await save(roster, item, !item.inRoster);
            await requests.set(host.name, user, contact, null);
          }
          return;
        case 'subscribed':
          // A.3.2: only an answer to a request of the user's counts.
          if (item.ask) {
            item.subscription = sub === 'from' ? 'both' : 'to';
            item.ask = false;
            // §3.1.6: the approval reaches the interested resources before the roster push (a MUST); the
            // approving contact's presence comes next, in this account's queue.
            deliverToInterested(user, stanza);
            await save(roster, item);
          }
          return;
        case 'unsubscribed':
          if (sub === 'to' || sub === 'both' || item.ask) {
            item.subscription = sub === 'both' ? 'from' : sub === 'to' ? 'none' : sub;
            item.ask = false;
            // §3.2.3: the cancellation, then the roster push.
            deliverToInterested(user, stanza);
            await save(roster, item);
          }
          return;
      }
    }

    /** §4.3.2: a probe is answered with the user's presence if the prober is subscribed to it. */
    async function answerProbe(event: StanzaEvent): Promise<void> {
      const user = event.to.local;
      const prober = event.from.bare;
      if (prober === bareOf(user)) return;
      const roster = await rosters.get(host.name, user);
      const subscription = roster.items.get(prober)?.subscription;
      if (subscription !== 'from' && subscription !== 'both') {
        routeFromUser(user, prober, 'unsubscribed');
        return;
      }
      let sent = false;
      for (const session of m.server.sessions.resources(bareOf(user))) {
        if (!session.presence) continue;
        const presence = session.presence.clone();
        presence.attrs.from = session.jid.full;
        presence.attrs.to = event.from.full;
        router.route(presence);
        sent = true;
      }
      if (!sent) router.route(xml('presence', { type: 'unavailable', from: bareOf(user), to: event.from.full }));
    }

    function inboundPresence(event: StanzaEvent): true | undefined {
      const type = event.stanza.attrs.type;
      const bare = event.to.bare;
      if (isSubscription(type)) {
        queues.run(bare, () => inboundSubscription(event, type)).catch(fail);
        return true;
      }
      if (type === 'probe') {
        queues.run(bare, () => answerProbe(event)).catch(fail);
        return true;
      }
      // Presence must not overtake the account's subscription work before it (an approval and its push).
      if (queues.busy(bare)) {
        queues.run(bare, () => deliverPresence(event)).catch(fail);
        return true;
      }
      return undefined;
    }
    m.hook('presence/bare', inboundPresence, 10);
    m.hook('presence/full', inboundPresence, 10);

    // ---- broadcast (§4.2, §4.4, §4.5) ----

    function broadcast(session: Session, stanza: Element, roster: Roster): void {
      // To every contact subscribed to the user.
      for (const item of roster.items.values()) {
        if (item.subscription !== 'from' && item.subscription !== 'both') continue;
        const copy = stanza.clone();
        copy.attrs.from = session.jid.full;
        copy.attrs.to = item.jid;
        router.route(copy);
      }
      // §4.6.3: and to those that got directed presence, when going unavailable.
      if (stanza.attrs.type === 'unavailable') {
        const directed = session.data.get(DIRECTED) as Set<string> | undefined;
        if (directed) {
          for (const to of directed) router.route(xml('presence', { type: 'unavailable', from: session.jid.full, to }));
          directed.clear();
        }
      }
    }

    m.hook(
      'presence/self',
      (event: StanzaEvent) => {
        const session = event.origin!;
        const stanza = event.stanza;
        // §4.2.2 / §4.4.2: the user's own available resources, including the sender.
        for (const own of m.server.sessions.resources(session.jid.bare)) {
          if (!own.presence && own !== session) continue;
          const copy = stanza.clone();
          copy.attrs.from = session.jid.full;
          copy.attrs.to = own.jid.full;
          own.send(copy);
        }
        const cached = queues.busy(session.jid.bare) ? undefined : rosters.cached(host.name, session.jid.local);
        if (cached) broadcast(session, stanza, cached);
        else queues.run(session.jid.bare, async () => broadcast(session, stanza, await rosters.get(host.name, session.jid.local))).catch(fail);
        return true;
      },
      0,
    );

    // §4.2.2 and §3.1.3: a session's first available presence probes the contacts it is subscribed to,
    // hears the user's other resources, and gets the subscription requests still waiting for an answer.
    m.hook('presence/initial', ({ session }: { session: Session }) => {
      for (const other of m.server.sessions.resources(session.jid.bare)) {
        if (other === session || !other.presence) continue;
        const copy = other.presence.clone();
        copy.attrs.from = other.jid.full;
        copy.attrs.to = session.jid.full;
        session.send(copy);
      }
      queues.run(session.jid.bare, async () => {
        const user = session.jid.local;
        const roster = await rosters.get(host.name, user);
        for (const item of roster.items.values()) {
          if (item.subscription === 'to' || item.subscription === 'both') router.route(xml('presence', { type: 'probe', from: bareOf(user), to: item.jid }));
        }
        for (const [, stored] of await requests.getAll(host.name, user)) {
          const request = parseStoredXml(stored);
          request.attrs.to = session.jid.full;
          session.send(request);
        }
      }).catch(fail);
      return undefined;
    });

    // §2.5.2: removing a contact cancels the subscriptions both ways.
    m.hook('roster/removing', ({ roster, item }: { roster: Roster; item: RosterItem }) => {
      const user = roster.user;
      if (item.subscription === 'to' || item.subscription === 'both' || item.ask) routeFromUser(user, item.jid, 'unsubscribe');
      if (item.subscription === 'from' || item.subscription === 'both' || item.pendingIn) {
        if (item.subscription === 'from' || item.subscription === 'both') sendPresenceTo(user, item.jid, 'unavailable');
        routeFromUser(user, item.jid, 'unsubscribed');
      }
      if (item.pendingIn) requests.set(host.name, user, item.jid, null).catch(fail);
      return undefined;
    });
  },
});
