// XEP-0313 Message Archive Management for user archives, with XEP-0441 preferences: every message worth keeping
// that an account sends or receives goes into its archive, under the XEP-0359 stanza-id the account sees, and
// the account's clients page through it with XEP-0059 to sync history, and search its text (XEP-0431).
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Host, StanzaEvent } from '../../core/host.js';
import type { Jid } from '../../core/jid/index.js';
import { GenerationalCache } from '../../core/cache.js';
import { SerialQueues } from '../../core/serial-queues.js';
import { defineModule, type IqRequest } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';
import { NS_SID, stanzaIdBy } from '../stanza-id/index.js';
import { ArchiveQueryRunner, fin } from './archive.js';
import { formatDateTime, NS_FULLTEXT, parseQuery, queryForm, type QueryCapabilities } from './query.js';
import {
  listVerdict, NS_MAM, parsePrefs, PrefsError, prefsToXml, searchableText, worthArchiving, type DefaultPolicy, type Prefs,
} from './rules.js';

export { NS_MAM } from './rules.js';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_DELAY = 'urn:xmpp:delay';

/** Fired on the host as 'mam/archived' once a message is in an account's archive (for push, metrics). */
export interface MamArchivedEvent {
  host: Host;
  user: string;
  /** The archive id: for an incoming message, the stanza-id the account saw. */
  id: string;
  direction: 'incoming' | 'outgoing';
  /** The message as stored (not to be modified). */
  stanza: Element;
}

// The archive id each outgoing message gets, for modules that run later on the same stanza (XEP-0280 carbons
// SHOULD put it in the sent copy, XEP-0313 §3.5). Set before the preferences are read (they may need storage):
// under 'never' the id names nothing. Weak: the entry goes with the stanza.
/** The id under which the sender's archive keeps an outgoing message ('mam/sent-id' answers with it). */
const sentIds = new WeakMap<Element, string>();


/** How often old messages are removed when max_age_days is set. */
const PURGE_INTERVAL_MS = 60 * 60 * 1000;

/** The stanza as an archive value: detached, with its namespace written out so it can be forwarded as it is. */
function storedValue(message: Element): Element {
  const copy = message.clone();
  copy.attrs.xmlns = 'jabber:client';
  return copy;
}

export default defineModule({
  name: 'mam',
  spec: 'XEP-0313',
  description: 'Message Archive Management: user archives of sent and received messages, queried with RSM paging; XEP-0441 preferences; XEP-0431 full-text search',
  dependencies: ['stanza_id'],
  options: z
    .object({
      /** Results per page at most; a client asking for more (or not saying) gets this many and pages on (§4.3.1). */
      max_page_size: z.number().int().min(1).max(10_000).default(250),
      /** XEP-0441 default for accounts that set no preferences. */
      default_policy: z.enum(['always', 'roster', 'never']).default('always'),
      /** Messages older than this many days are removed (oldest first, §3.2); 0 keeps them forever. */
      max_age_days: z.number().min(0).default(0),
    })
    .strict()
    .default({ max_page_size: 250, default_policy: 'always', max_age_days: 0 }),
  async setup(m) {
    // Other modules (carbons) ask for the archive id of a message being sent.
    m.hook('mam/sent-id', (message: Element) => sentIds.get(message));
    const host: Host = m.host;
    const store = m.archive('mam');
    const prefsStore = m.keyval('mam_prefs');
    // Archiving and queries of one account run one after the other, so the archive keeps the order messages came
    // in (§3.1) even when a preference or roster has to be loaded first, and a query sees every message the account
    // had been given before it asked.
    const queues = new SerialQueues();
    const log = m.log;
    const { max_page_size: maxPageSize, max_age_days: maxAgeDays } = m.options;
    const defaultPolicy: DefaultPolicy = m.options.default_policy;

    // §7: user archives are advertised on the account's bare JID; #extended for before-id, after-id, ids,
    // flipped pages and metadata; #groupchat-field because include-groupchat is understood (§4.1.4).
    m.accountFeature(NS_MAM);
    m.accountFeature(`${NS_MAM}#extended`);
    m.accountFeature(`${NS_MAM}#groupchat-field`);
    // XEP-0431 §2.1: search is offered where the storage backend can do it (all of Quire's can).
    const capabilities: QueryCapabilities = { maxIds: maxPageSize, fullText: store.textSearch };
    if (capabilities.fullText) m.accountFeature(NS_FULLTEXT);

    // Every archived message needs its account's preferences: they are read from storage once, not per message.
    const prefsCache = new GenerationalCache<string, Prefs>(10_000);
    const defaultPrefs: Prefs = { default: defaultPolicy, always: [], never: [] };

    async function prefsOf(user: string): Promise<Prefs> {
      const cached = prefsCache.get(user);
      if (cached) return cached;
      let prefs = defaultPrefs;
      const stored = await prefsStore.get(host.name, user);
      if (stored !== null) {
        try {
          prefs = parsePrefs(parseStoredXml(stored));
        } catch (err) {
          log.error({ err, user }, 'ignoring damaged archiving preferences');
        }
      }
      prefsCache.set(user, prefs);
      return prefs;
    }
    m.hook('account-deleted', ({ user }: { user: string }) => prefsCache.delete(user));

    /** XEP-0441 §2: whether the account's preferences let messages with this JID into its archive. */
    async function allowed(account: Jid, target: Jid): Promise<boolean> {
      const prefs = await prefsOf(account.local);
      const verdict = listVerdict(prefs, target);
      if (verdict !== undefined) return verdict;
      if (prefs.default !== 'roster') return prefs.default === 'always';
      // XEP-0441 §2.3.1: the bare target JID in the user's roster. Notes to oneself are always the user's own business.
      if (target.bare === account.bare) return true;
      const roster = await m.server.rosters.get(host.name, account.local);
      return roster.items.get(target.bare)?.inRoster === true;
    }

    function hasSessions(bare: string): boolean {
      for (const _ of m.server.sessions.resources(bare)) return true;
      return false;
    }

    function archive(account: Jid, target: Jid, id: string, message: Element, direction: 'incoming' | 'outgoing'): void {
      // Timestamp of receipt (§3), taken now, not when the queue gets to it.
      const when = Date.now();
      const value = message.toString();
      // XEP-0431: what a search looks through; only the text, never the markup.
      const text = capabilities.fullText ? searchableText(message) : undefined;
      queues
        .run(account.bare, async () => {
          // A message to a name with no account is bounced by delivery; there is no archive to put it in.
          if (direction === 'incoming' && !hasSessions(account.bare) && !(await m.accounts.exists(host.name, account.local))) return;
          if (!(await allowed(account, target))) return;
          await store.append(host.name, account.local, { id, when, with: target.bare, value, text });
          if (host.events.has('mam/archived')) {
            host.events.fire('mam/archived', { host, user: account.local, id, direction, stanza: message } satisfies MamArchivedEvent);
          }
        })
        .catch((err: unknown) => log.error({ err, user: account.bare }, 'archiving a message failed'));
    }

    // Incoming: after stanza_id (priority 100) stamped the id the account sees, before delivery. The archive id
    // is that stanza-id (§3.5). A message the blocking filter or another module refused never gets here (§6.1).
    const incoming = (event: StanzaEvent): undefined => {
      const { stanza, to } = event;
      if (!worthArchiving(stanza)) return undefined;
      const account = to.bareJid();
      const id = stanzaIdBy(stanza, account.bare);
      if (id === undefined) return undefined;
      // XEP-0441 §2.3.3: for incoming messages the target is the 'from'.
      archive(account, event.from, id, storedValue(stanza), 'incoming');
      return undefined;
    };
    m.hook('message/bare', incoming, 40);
    m.hook('message/full', incoming, 40);

    // Outgoing: what a client of the account sends, on the sender's host before routing. It gets a fresh id and
    // carries no stanza-id to the recipient (§3.5: the recipient cannot read this archive); the stored copy does.
    // Below the blocking filter (100), so a message that is not going anywhere is not kept.
    const outgoing = (event: StanzaEvent): undefined => {
      const { stanza, origin, from, to } = event;
      if (!origin) return undefined;
      // §6.1.1: a message between the account's own resources (or to itself) is kept once, as it arrives.
      if (to.bare === from.bare) return undefined;
      if (!worthArchiving(stanza)) return undefined;
      const account = from.bareJid();
      const id = randomUUID();
      const copy = storedValue(stanza);
      // A stanza-id claiming to be by the account is not the account's (XEP-0359 §4): only the archive's own stays.
      for (const sid of copy.getChildren('stanza-id', NS_SID)) if (sid.attrs.by === account.bare) copy.remove(sid);
      copy.append(xml('stanza-id', { xmlns: NS_SID, by: account.bare, id }));
      sentIds.set(stanza, id);
      // XEP-0441 §2.3.2: for outgoing messages the target is the 'to'.
      archive(account, to, id, copy, 'outgoing');
      return undefined;
    };
    m.hook('pre-message/bare', outgoing, 40);
    m.hook('pre-message/full', outgoing, 40);

    /** §8.1: a user archive is the user's alone. */
    function ownArchive(request: IqRequest): Jid {
      if (request.from.bare !== request.to.bare) throw new StanzaError('forbidden', 'only the account itself can use its archive');
      return request.to;
    }

    // §4.1.5 form discovery.
    m.iq('get', NS_MAM, 'query', (request) => {
      ownArchive(request);
      return xml('query', { xmlns: NS_MAM }, queryForm(capabilities.fullText));
    }, 'bare');

    // §4: the query. Results go out as messages before the IQ result that ends them.
    m.iq('set', NS_MAM, 'query', (request) => {
      const archiveJid = ownArchive(request);
      const query = parseQuery(request.payload, capabilities);
      const send = request.origin ? (s: Element) => request.origin!.send(s) : (s: Element) => m.route(s);
      return queues.run(archiveJid.bare, async () => {
        const page = await new ArchiveQueryRunner(store, host.name, archiveJid.local).run(query.filter, query.rsm, maxPageSize);
        // §4.3.4 flip-page changes the order of sending only; <first/> and <last/> keep the archive's order.
        const order = query.flip ? [...page.items].reverse() : page.items;
        for (const item of order) send(resultMessage(request.from, archiveJid, query.queryId, item.id, item.when, item.value));
        return fin(page, query.queryId);
      });
    }, 'bare');

    // §5 archive metadata (#extended): the first and last message.
    m.iq('get', NS_MAM, 'metadata', (request) => {
      const archiveJid = ownArchive(request);
      return queues.run(archiveJid.bare, async () => {
        const [first, last] = await Promise.all([
          store.query(host.name, archiveJid.local, { limit: 1 }),
          store.query(host.name, archiveJid.local, { limit: 1, reverse: true }),
        ]);
        const metadata = xml('metadata', { xmlns: NS_MAM });
        if (first.items.length > 0 && last.items.length > 0) {
          metadata.append(xml('start', { id: first.items[0].id, timestamp: formatDateTime(first.items[0].when) }));
          metadata.append(xml('end', { id: last.items[0].id, timestamp: formatDateTime(last.items[0].when) }));
        }
        return metadata;
      });
    }, 'bare');

    // XEP-0441 §2.1: preferences.
    m.iq('get', NS_MAM, 'prefs', async (request) => {
      const archiveJid = ownArchive(request);
      return prefsToXml(await prefsOf(archiveJid.local));
    }, 'bare');
    m.iq('set', NS_MAM, 'prefs', (request) => {
      const archiveJid = ownArchive(request);
      let prefs: Prefs;
      try {
        prefs = parsePrefs(request.payload);
      } catch (err) {
        if (err instanceof PrefsError) throw new StanzaError('bad-request', err.message);
        throw err;
      }
      // In the account's queue: messages before the change are judged by the old preferences, later ones by the new.
      return queues.run(archiveJid.bare, async () => {
        await prefsStore.set(host.name, archiveJid.local, prefsToXml(prefs).toString());
        prefsCache.set(archiveJid.local, prefs);
        return prefsToXml(prefs);
      });
    }, 'bare');

    // §3.2 retention: the oldest messages go first, so no holes appear in the archive.
    if (maxAgeDays > 0) {
      const purge = async () => {
        const cutoff = Date.now() - maxAgeDays * 86_400_000;
        const users = await m.accounts.list(host.name);
        let removed = 0;
        await Promise.all(users.map((user) => queues.run(`${user}@${host.name}`, async () => {
          removed += await store.delete(host.name, user, { end: cutoff });
        })));
        if (removed > 0) log.info({ removed, maxAgeDays }, 'removed old archived messages');
      };
      // Once before the server accepts clients, so nobody sees messages past their time; then every hour.
      await purge();
      m.every(PURGE_INTERVAL_MS, () => void purge().catch((err: unknown) => log.error({ err }, 'archive retention failed')));
    }
  },
});

/** §4.2: one archived message, forwarded (XEP-0297) with the time it was received (XEP-0203). */
function resultMessage(to: Jid, archiveJid: Jid, queryId: string | undefined, id: string, when: number, value: string): Element {
  const forwarded = xml('forwarded', { xmlns: NS_FORWARD }, xml('delay', { xmlns: NS_DELAY, stamp: formatDateTime(when) }));
  try {
    const message = parseStoredXml(value);
    if (message.attrs.xmlns === undefined) message.attrs.xmlns = 'jabber:client';
    forwarded.append(message);
  } catch {
    // §3.2: the message may be left out, but the id, time and place in the archive stay.
  }
  return xml(
    'message',
    { to: to.full, from: archiveJid.bare, id: randomUUID() },
    xml('result', { xmlns: NS_MAM, queryid: queryId, id }, forwarded),
  );
}
