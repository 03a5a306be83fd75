// RFC 6121 §2 roster management: get (with versioning, §2.6), set, remove, and pushes to every
// interested resource. The roster data itself is core (src/core/roster.ts); subscription states are
// changed by the presence module.
import { z } from 'zod';
import type { Host } from '../../core/host.js';
import { tryParseJid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import { itemToXml, newItem, type Roster, type RosterItem } from '../../core/roster.js';
import type { Session } from '../../core/session.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';

export const NS_ROSTER = 'jabber:iq:roster';
export const NS_ROSTER_VER = 'urn:xmpp:features:rosterver';

/** session.data key: the resource asked for the roster, so it gets pushes (RFC 6121 §2.1.6). */
const INTERESTED = 'roster';

/** Whether the resource asked for the roster: an "interested resource" (RFC 6121 §2.2), which gets pushes. */
export function isInterested(session: Session): boolean {
  return session.data.get(INTERESTED) === true;
}

/** A roster push for one item, or its removal (RFC 6121 §2.1.6, §2.5.2). */
function pushStanza(roster: Roster, item: Element): Element {
  return xml('iq', { type: 'set', id: 'push-' + Math.random().toString(36).slice(2, 12), from: `${roster.user}@${roster.host}` }, xml('query', { xmlns: NS_ROSTER, ver: String(roster.version) }, item));
}

/** Sends a push to every interested resource of the account. */
export function pushRosterItem(host: Host, roster: Roster, item: RosterItem | { removed: string }): void {
  const payload = 'removed' in item ? xml('item', { jid: item.removed, subscription: 'remove' }) : itemToXml(item);
  const push = pushStanza(roster, payload);
  for (const session of host.server.sessions.resources(`${roster.user}@${roster.host}`)) {
    if (!isInterested(session)) continue;
    push.attrs.to = session.jid.full;
    session.send(push);
  }
}

export default defineModule({
  name: 'roster',
  spec: 'RFC 6121 §2',
  description: 'Rosters: get with versioning, set, remove, pushes to interested resources',
  options: z
    .object({
      /** Contacts per account (RFC 6121 §2.3.3 leaves the limit to the server). */
      max_items: z.number().int().min(1).default(2000),
      /** Characters in a contact's name or a group name. */
      max_name_length: z.number().int().min(1).default(1023),
    })
    .strict()
    .default({ max_items: 2000, max_name_length: 1023 }),
  setup(m) {
    const { max_items: maxItems, max_name_length: maxName } = m.options;
    const rosters = m.server.rosters;
    const host = m.host;

    // §2.6.1: roster versioning is offered as a stream feature.
    m.fold('stream-features/authenticated', (features: Element) => features.append(xml('ver', { xmlns: NS_ROSTER_VER })));

    // Rosters of online accounts stay in memory; they are read on every presence broadcast.
    m.hook('session-started', ({ session }: { session: Session }) => {
      rosters.pin(host.name, session.jid.local);
      return undefined;
    });
    m.hook('session-ended', ({ session }: { session: Session }) => {
      rosters.unpin(host.name, session.jid.local);
      return undefined;
    }, -2000);

    /** The account whose roster a request is about; only one's own (RFC 6121 §2.1.5). */
    const ownAccount = (from: { local: string; domain: string; bare: string }, to: { bare: string }) => {
      if (from.domain !== host.name || from.local === '' || to.bare !== from.bare) throw new StanzaError('forbidden', 'a roster can only be read and changed by its owner');
      return from.local;
    };

    // §2.1.3 roster get, §2.6.3 with a version.
    m.iq(
      'get',
      NS_ROSTER,
      'query',
      async ({ payload, from, to, origin }) => {
        const user = ownAccount(from, to);
        const roster = await rosters.get(host.name, user);
        origin?.data.set(INTERESTED, true);
        const clientVer = payload.attrs.ver;
        const current = String(roster.version);
        if (clientVer !== undefined) {
          if (clientVer === current) return undefined; // §2.6.3: nothing changed, empty result
          const since = /^\d+$/.test(clientVer) ? Number(clientVer) : -1;
          if (since >= roster.deltaSince && since < roster.version && origin) {
            // The client is behind but can catch up: empty result, then one push per change (§2.6.3).
            const changes: { ver: number; item: Element }[] = [];
            for (const item of roster.items.values()) if (item.inRoster && item.ver > since) changes.push({ ver: item.ver, item: itemToXml(item) });
            for (const [jid, ver] of roster.removed) if (ver > since) changes.push({ ver, item: xml('item', { jid, subscription: 'remove' }) });
            changes.sort((a, b) => a.ver - b.ver);
            setImmediate(() => {
              for (const change of changes) {
                const push = xml('iq', { type: 'set', id: `push-${change.ver}`, from: from.bare, to: origin.jid.full }, xml('query', { xmlns: NS_ROSTER, ver: String(change.ver) }, change.item));
                origin.send(push);
              }
            });
            return undefined;
          }
        }
        const query = xml('query', { xmlns: NS_ROSTER, ver: clientVer !== undefined ? current : undefined });
        for (const item of roster.items.values()) if (item.inRoster) query.append(itemToXml(item));
        return query;
      },
      'bare',
    );

    // §2.1.5 / §2.3 add or update, §2.5 delete.
    m.iq(
      'set',
      NS_ROSTER,
      'query',
      async ({ payload, from, to }) => {
        const user = ownAccount(from, to);
        const items = payload.getChildren('item', NS_ROSTER);
        // §2.3.3: exactly one item.
        if (items.length !== 1 || payload.elements().length !== 1) throw new StanzaError('bad-request', 'a roster set carries exactly one <item/>');
        const el = items[0];
        const contact = tryParseJid(el.attrs.jid);
        if (!contact) throw new StanzaError('jid-malformed', `"${el.attrs.jid ?? ''}" is not a valid JID`);
        // Rosters hold bare JIDs (RFC 6121 §2.1.2.3): a full JID names the same contact.
        const jid = contact.bare;
        const roster = await rosters.get(host.name, user);
        const existing = roster.items.get(jid);

        if (el.attrs.subscription === 'remove') {
          if (!existing?.inRoster) throw new StanzaError('item-not-found', `${jid} is not in the roster`);
          // §2.5.2: the presence module cancels the subscriptions in both directions first.
          host.events.fire('roster/removing', { host, roster, item: existing });
          await rosters.commit(roster, [], [jid]);
          pushRosterItem(host, roster, { removed: jid });
          return undefined;
        }
        // §2.1.2.5: clients may only set subscription to "remove"; other values are ignored or refused.
        const subscription = el.attrs.subscription;
        if (subscription !== undefined && subscription !== 'none' && subscription !== 'to' && subscription !== 'from' && subscription !== 'both') {
          throw new StanzaError('bad-request', `subscription="${subscription}" cannot be set by a client`);
        }
        const name = el.attrs.name;
        if (name !== undefined && name.length > maxName) throw new StanzaError('not-acceptable', `the name is longer than ${maxName} characters`);
        const groups: string[] = [];
        for (const g of el.getChildren('group', NS_ROSTER)) {
          const group = g.text();
          // §2.1.2.4 / §2.3.3: empty or duplicate groups are not acceptable.
          if (group === '') throw new StanzaError('not-acceptable', 'a group name cannot be empty');
          if (group.length > maxName) throw new StanzaError('not-acceptable', `a group name is longer than ${maxName} characters`);
          if (groups.includes(group)) throw new StanzaError('bad-request', `the group "${group}" is listed twice`);
          groups.push(group);
        }
        if (!existing?.inRoster) {
          let count = 0;
          for (const item of roster.items.values()) if (item.inRoster) count++;
          if (count >= maxItems) throw new StanzaError('not-allowed', `a roster holds at most ${maxItems} contacts`);
        }
        const item: RosterItem = existing ? { ...existing, groups: [...existing.groups] } : newItem(jid);
        item.inRoster = true;
        item.name = name === '' ? undefined : name;
        item.groups = groups;
        await rosters.commit(roster, [item]);
        pushRosterItem(host, roster, item);
        return undefined;
      },
      'bare',
    );
  },
});
