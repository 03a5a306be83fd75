// XEP-0191 Blocking Command: a user's list of blocked JIDs (domains, bare or full JIDs), the commands
// to read and change it with pushes to interested resources, and its enforcement in both directions
// on the routing path. The list lives in the map store 'blocklist' and is cached (blocklists.ts).
import { z } from 'zod';
import type { StanzaEvent } from '../../core/host.js';
import { tryParseJid, type Jid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import type { Roster } from '../../core/roster.js';
import type { Server } from '../../core/server.js';
import type { Session } from '../../core/session.js';
import { StanzaError, errorReply, iqResult, isErrorStanza } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';
import { Blocklists, isBlocked, type Blocklist } from './blocklists.js';

export const NS_BLOCKING = 'urn:xmpp:blocking';
export const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors';

/** session.data key: the resource retrieved the blocklist, so it is sent pushes (§3.3, §3.4). */
const INTERESTED = 'blocking';

/** One cache per server, shared by its hosts: a stanza from one host's account to another's checks both lists. */
const cacheOf = new WeakMap<Server, Blocklists>();

/** Presence the server sends on a block (§3.3) although the list already blocks its addressee by then. */
const exempt = new WeakSet<Element>();

let pushCount = 0;

/** The prepared JIDs of a command's <item/> children, without duplicates; one bad JID fails the whole command. */
function itemJids(payload: Element): string[] {
  const jids = new Set<string>();
  for (const item of payload.getChildren('item', NS_BLOCKING)) {
    const jid = tryParseJid(item.attrs.jid);
    // RFC 6120 §8.3.3.8, XEP-0191 §3.3 "other standard XMPP stanza errors also apply".
    if (!jid) throw new StanzaError('jid-malformed', `"${item.attrs.jid ?? ''}" is not a valid JID`);
    jids.add(jid.full);
  }
  return [...jids];
}

function items(jids: Iterable<string>): Element[] {
  const out: Element[] = [];
  for (const jid of jids) out.push(xml('item', { jid }));
  return out;
}

/**
 * The addresses among a roster's contacts that may receive the user's presence (subscription 'from' or
 * 'both', RFC 6121 §4) and that one of `changed` matches (§5), unless `still` blocks them anyway. A full-JID
 * item concerns that resource alone, so it is the address; otherwise the contact's bare JID is.
 */
function presenceAudience(roster: Roster, changed: string[], still: Blocklist): string[] {
  const parsed: Jid[] = [];
  for (const text of changed) {
    const jid = tryParseJid(text);
    if (jid) parsed.push(jid);
  }
  const audience = new Set<string>();
  for (const item of roster.items.values()) {
    if (item.subscription !== 'from' && item.subscription !== 'both') continue;
    const contact = tryParseJid(item.jid);
    if (!contact) continue;
    for (const jid of parsed) {
      let target: Jid | null = null;
      if (jid.resource !== '') target = jid.bare === contact.bare ? jid : null;
      else if (jid.full === contact.bare || (jid.local === '' && jid.domain === contact.domain)) target = contact;
      if (target && !isBlocked(still, target)) audience.add(target.full);
    }
  }
  return [...audience];
}

export default defineModule({
  name: 'blocking',
  spec: 'XEP-0191',
  description: 'Blocking Command: blocklists with pushes, enforced on stanzas to and from the blocked JIDs',
  options: z
    .object({
      /** JIDs one account may block (the XEP sets no limit; storage and memory do). */
      max_items: z.number().int().min(1).default(5000),
    })
    .strict()
    .default({ max_items: 5000 }),
  setup(m) {
    const { max_items: maxItems } = m.options;
    const host = m.host;
    const server = m.server;
    const router = server.router;
    let lists = cacheOf.get(server);
    if (!lists) {
      lists = new Blocklists(m.map('blocklist'), server.sessions);
      cacheOf.set(server, lists);
    }
    const blocklists = lists;

    // §3.1
    m.feature(NS_BLOCKING);

    // An online user's list is needed synchronously for everything the user sends: load it with the first
    // session (again, in case the account was deleted and created anew while the old list was cached).
    m.hook('session-started', ({ session }: { session: Session }) => {
      if (server.sessions.count(session.jid.bare) === 1) {
        blocklists.refresh(host.name, session.jid.local).catch((err: unknown) => m.log.error({ err, user: session.jid.bare }, 'cannot load the blocklist'));
      }
      return undefined;
    });

    // A deleted account's data is gone from storage; its cached list goes too.
    m.hook('account-deleted', ({ user }: { user: string }) => {
      blocklists.refresh(host.name, user).catch((err: unknown) => m.log.error({ err, user }, 'cannot reload the blocklist'));
      return undefined;
    });

    /** Sends a blocklist push to every resource of the account that retrieved the blocklist (§3.3, §3.4). */
    const push = (bare: string, payload: Element) => {
      const iq = xml('iq', { type: 'set', from: bare }, payload);
      for (const session of server.sessions.resources(bare)) {
        if (session.data.get(INTERESTED) !== true) continue;
        iq.attrs.id = 'block-push-' + (++pushCount).toString(36);
        iq.attrs.to = session.jid.full;
        session.send(iq);
      }
    };

    /** Presence from each of the user's available resources to the audience: unavailable, or the current one. */
    const sendPresence = (bare: string, audience: string[], unavailable: boolean) => {
      if (audience.length === 0) return;
      for (const session of server.sessions.resources(bare)) {
        const current = session.presence;
        if (!current) continue;
        for (const to of audience) {
          const presence = unavailable ? xml('presence', { type: 'unavailable' }) : current.clone();
          presence.attrs.from = session.jid.full;
          presence.attrs.to = to;
          if (unavailable) exempt.add(presence);
          m.route(presence);
        }
      }
    };

    /** Answers blocking IQs to the account's own bare JID (a request with no 'to' is addressed there, RFC 6120 §10.3.3). */
    const command = (type: 'get' | 'set', name: string, handler: (event: StanzaEvent, payload: Element) => Promise<void>) => {
      m.hook(`iq-${type}/bare/${NS_BLOCKING}:${name}`, (event: StanzaEvent) => {
        const { stanza } = event;
        const fail = (err: unknown) => {
          if (!(err instanceof StanzaError)) m.log.error({ err, stanza: stanza.toString() }, 'blocking command failed');
          m.route(errorReply(stanza, err instanceof StanzaError ? err : new StanzaError('internal-server-error')));
        };
        if (event.from.bare !== event.to.bare) fail(new StanzaError('forbidden', 'a blocklist can only be read and changed by its owner'));
        else handler(event, stanza.firstElement()!).catch(fail);
        return true;
      });
    };

    // §3.2: the blocklist, empty or not; the resource is interested in pushes from now on.
    command('get', 'blocklist', async ({ stanza, to, origin }) => {
      const list = await blocklists.get(host.name, to.local, to.bare);
      origin?.data.set(INTERESTED, true);
      m.route(iqResult(stanza, xml('blocklist', { xmlns: NS_BLOCKING }, items(list))));
    });

    // §3.3
    command('set', 'block', async ({ stanza, to }, payload) => {
      const jids = itemJids(payload);
      if (jids.length === 0) throw new StanzaError('bad-request', 'a block command needs at least one <item/>');
      await blocklists.change(host.name, to.local, async (list) => {
        const added = jids.filter((jid) => !list.has(jid));
        if (list.size + added.length > maxItems) throw new StanzaError('policy-violation', `at most ${maxItems} JIDs can be blocked`);
        if (added.length > 0) {
          const roster = await server.rosters.get(host.name, to.local);
          await blocklists.add(host.name, to.local, added);
          // §3.3: whoever may see the user's presence is told the user went away, before the block silences it.
          sendPresence(to.bare, presenceAudience(roster, added, list), true);
          for (const jid of added) list.add(jid);
        }
        m.route(iqResult(stanza));
        push(to.bare, xml('block', { xmlns: NS_BLOCKING }, items(jids)));
      });
    });

    // §3.4 (items) and §3.5 (no items: everything).
    command('set', 'unblock', async ({ stanza, to }, payload) => {
      const jids = itemJids(payload);
      await blocklists.change(host.name, to.local, async (list) => {
        const removed = jids.length === 0 ? [...list] : jids.filter((jid) => list.has(jid));
        if (removed.length > 0) {
          const roster = await server.rosters.get(host.name, to.local);
          if (jids.length === 0) await blocklists.removeAll(host.name, to.local);
          else await blocklists.remove(host.name, to.local, removed);
          for (const jid of removed) list.delete(jid);
          // §3.4: whoever may see the user's presence gets the current one again.
          sendPresence(to.bare, presenceAudience(roster, removed, list), false);
        }
        m.route(iqResult(stanza));
        push(to.bare, xml('unblock', { xmlns: NS_BLOCKING }, items(jids)));
      });
    });

    /** §3.3: what happens to a stanza from a JID the addressee blocked; the addressee appears offline to it. */
    const refuseInbound = (stanza: Element) => {
      const type = stanza.attrs.type;
      // Presence of any type (notifications, subscriptions, probes): no response, no error.
      if (stanza.name === 'presence') return;
      // Messages: service-unavailable. IQs: service-unavailable for get and set, other types dropped.
      // bounce() answers no errors (RFC 6120 §8.3.1).
      if (stanza.name === 'message' || type === 'get' || type === 'set') router.bounce(stanza, 'service-unavailable');
    };

    const verdict = (event: StanzaEvent, recipient: Blocklist, sender: Blocklist | undefined): true | undefined => {
      if (isBlocked(recipient, event.from)) {
        refuseInbound(event.stanza);
        return true;
      }
      // Server-generated stanzas from the user (presence broadcasts and probes of a presence module, replies
      // on the user's behalf) do not go to a JID the user blocked either; they are dropped without an error.
      if (sender !== undefined && isBlocked(sender, event.to) && !exempt.has(event.stanza)) return true;
      return undefined;
    };

    // Everything addressed to a local account passes here, from local clients, the server and modules alike.
    m.hook('route/to-account', (event: StanzaEvent): true | undefined | Promise<true | undefined> => {
      const { from, to } = event;
      // Never between the account's own resources (XEP-0191 §4, note on XEP-0016); never the user's own server,
      // which answers on its behalf.
      if (from.bare === to.bare || from.full === to.domain) return undefined;
      const recipient = blocklists.get(host.name, to.local, to.bare);
      let sender: Blocklist | Promise<Blocklist> | undefined;
      // A local client's own stanzas were checked on the way out (pre-*); errors answer something and always pass.
      if (event.origin === null && from.local !== '' && event.stanza.attrs.type !== 'error' && server.hostFor(from.domain)) {
        sender = blocklists.get(from.domain, from.local, from.bare);
      }
      if (recipient instanceof Promise || sender instanceof Promise) {
        return Promise.all([recipient, sender]).then(([r, s]) => verdict(event, r, s));
      }
      return verdict(event, recipient, sender);
    });

    // §3.3: a stanza from the user to a JID the user blocked is not routed; the client gets not-acceptable + <blocked/>.
    const outbound = (event: StanzaEvent): true | undefined => {
      const { stanza, from, to, origin } = event;
      if (!origin || from.bare === to.bare || to.full === from.domain) return undefined;
      const list = blocklists.peek(from.bare);
      if (list === undefined) {
        // Only until the list loaded at session start is in: the stanza waits for it, in order with the
        // ones after it (they wait on the same promise), and is routed again.
        Promise.resolve(blocklists.get(host.name, origin.jid.local, from.bare)).then(
          () => router.route(stanza, origin),
          (err: unknown) => {
            m.log.error({ err, user: from.bare }, 'cannot load the blocklist');
            if (!isErrorStanza(stanza)) origin.send(errorReply(stanza, 'internal-server-error'));
          },
        );
        return true;
      }
      if (!isBlocked(list, to)) return undefined;
      const type = stanza.attrs.type;
      // No error answers an error (RFC 6120 §8.3.1), and nobody waits for an answer to an IQ result.
      if (type === 'error' || (stanza.name === 'iq' && type === 'result')) return true;
      origin.send(errorReply(stanza, new StanzaError('not-acceptable', undefined, 'cancel', xml('blocked', { xmlns: NS_BLOCKING_ERRORS }))));
      return true;
    };
    // Before carbons and the like (priority 0) see a stanza that is not going anywhere.
    for (const kind of ['message', 'presence', 'iq']) {
      for (const level of ['bare', 'full', 'host']) m.hook('pre-' + kind + '/' + level, outbound, 100);
    }
  },
});
