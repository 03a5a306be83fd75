// XEP-0402 PEP Native Bookmarks, server side (§5 Compatibility): the account advertises #compat and the server
// keeps the legacy XEP-0048 bookmarks of XEP-0049 private storage (<storage xmlns='storage:bookmarks'/>) in step
// with the PEP node urn:xmpp:bookmarks:1 (one item per conference, its id the room's JID), both ways.
import type { Host } from '../../core/host.js';
import { makeJid, type Jid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import { xml, type Element } from '../../core/xml/element.js';
import type { DataForm, PubSubService } from '../../pubsub/index.js';
import { NS_PUBLISH_OPTIONS } from '../../pubsub/index.js';
import { PEP_ITEMS_CHANGED_EVENT, pepService, type PepItemsChangedEvent } from '../pep/index.js';
import { PRIVATE_STORED_EVENT, PRIVATE_STORE, privateKey, type PrivateStoredEvent } from '../private/index.js';

export const NS_BOOKMARKS2 = 'urn:xmpp:bookmarks:1';
export const NS_LEGACY_BOOKMARKS = 'storage:bookmarks';
/** §5: private storage and PEP native bookmarks are one list. */
export const FEATURE_COMPAT = `${NS_BOOKMARKS2}#compat`;
/** Fired on the host when no sync of an account's two bookmark stores is pending any more (tests wait for it). */
export const BOOKMARKS_SYNCED_EVENT = 'bookmarks/synced';

const LEGACY_KEY = privateKey(NS_LEGACY_BOOKMARKS, 'storage');

/** What both formats say about one room. */
interface Conference {
  jid: string;
  name?: string;
  autojoin: boolean;
  nick?: string;
  password?: string;
}

const same = (a: Conference, b: Conference) => a.name === b.name && a.autojoin === b.autojoin && a.nick === b.nick && a.password === b.password;

/** XEP-0048 §3.2 and XEP-0402 §3: autojoin is an xs:boolean. */
const isTrue = (v: string | undefined) => v === 'true' || v === '1';

function fromLegacy(c: Element): Conference | null {
  const jid = c.attrs.jid;
  if (!jid) return null;
  return { jid, name: c.attrs.name, autojoin: isTrue(c.attrs.autojoin), nick: c.getChildText('nick') ?? undefined, password: c.getChildText('password') ?? undefined };
}

function fromPep(id: string, c: Element): Conference {
  return { jid: id, name: c.attrs.name, autojoin: isTrue(c.attrs.autojoin), nick: c.getChildText('nick') ?? undefined, password: c.getChildText('password') ?? undefined };
}

function toLegacy(c: Conference): Element {
  return xml(
    'conference',
    { jid: c.jid, name: c.name, autojoin: c.autojoin ? 'true' : 'false' },
    c.nick !== undefined ? xml('nick', {}, c.nick) : null,
    c.password !== undefined ? xml('password', {}, c.password) : null,
  );
}

/** The PEP payload; extensions of the item it replaces are kept (legacy clients cannot see them). */
function toPep(c: Conference, previous?: Element): Element {
  const extensions = previous?.getChild('extensions', NS_BOOKMARKS2);
  return xml(
    'conference',
    { xmlns: NS_BOOKMARKS2, name: c.name, autojoin: c.autojoin ? 'true' : 'false' },
    c.nick !== undefined ? xml('nick', {}, c.nick) : null,
    c.password !== undefined ? xml('password', {}, c.password) : null,
    extensions ? extensions.clone() : null,
  );
}

/** XEP-0402 §3 / XEP-0223: how the node is created when the server publishes first. */
const PUBLISH_OPTIONS: DataForm = {
  type: 'submit',
  formType: NS_PUBLISH_OPTIONS,
  fields: [
    { var: 'pubsub#persist_items', values: ['true'] },
    { var: 'pubsub#max_items', values: ['max'] },
    { var: 'pubsub#send_last_published_item', values: ['never'] },
    { var: 'pubsub#access_model', values: ['whitelist'] },
  ],
};

export default defineModule({
  name: 'bookmarks',
  spec: 'XEP-0402',
  description: 'PEP native bookmarks: legacy private-storage bookmarks (XEP-0048/XEP-0049) kept in step with urn:xmpp:bookmarks:1',
  dependencies: ['pep', 'private'],
  setup(m) {
    const host: Host = m.host;
    const privateStore = m.map(PRIVATE_STORE);
    m.accountFeature(FEATURE_COMPAT);

    /** One job at a time per account, so the two directions never interleave. */
    const queues = new Map<string, Promise<void>>();
    function enqueue(user: string, job: () => Promise<void>): void {
      const run = (queues.get(user) ?? Promise.resolve())
        .then(job)
        .catch((err: unknown) => m.log.error({ err, user }, 'bookmark sync failed'))
        .then(() => {
          if (queues.get(user) !== run) return;
          queues.delete(user);
          host.events.fire(BOOKMARKS_SYNCED_EVENT, { host, user });
        });
      queues.set(user, run);
    }

    async function pepConferences(svc: PubSubService): Promise<Map<string, { conference: Conference; payload: Element }>> {
      const out = new Map<string, { conference: Conference; payload: Element }>();
      if (!svc.nodes.has(NS_BOOKMARKS2)) return out;
      const { items } = await svc.env.store.items(host.name, svc.env.user, NS_BOOKMARKS2, {});
      for (const item of items) {
        if (item.payload?.localName === 'conference' && item.payload.ns === NS_BOOKMARKS2) out.set(item.id, { conference: fromPep(item.id, item.payload), payload: item.payload });
      }
      return out;
    }

    /** Private storage from PEP: its conferences as the node holds them; other children (<url/>) as they were. */
    async function pepToPrivate(user: string): Promise<void> {
      const svc = await pepService(m.server, host.name, user);
      if (!svc) return;
      const conferences = await pepConferences(svc);
      const stored = await privateStore.get(host.name, user, LEGACY_KEY);
      const kept = stored ? parseStoredXml(stored).elements().filter((e) => e.localName !== 'conference') : [];
      if (!stored && conferences.size === 0) return;
      const storage = xml('storage', { xmlns: NS_LEGACY_BOOKMARKS }, [...conferences.values()].map((c) => toLegacy(c.conference)), kept);
      const empty = storage.children.length === 0;
      await privateStore.set(host.name, user, LEGACY_KEY, empty ? null : storage.toString());
    }

    /** PEP from private storage: publish new and changed rooms, retract removed ones (§5: unchanged ones stay quiet). */
    async function privateToPep(user: string, storage: Element): Promise<void> {
      const svc = await pepService(m.server, host.name, user);
      if (!svc) return;
      const owner: Jid = makeJid(user, host.name);
      const current = await pepConferences(svc);
      const wanted = new Map<string, Conference>();
      for (const c of storage.getChildren('conference')) {
        const conference = fromLegacy(c);
        if (conference) wanted.set(conference.jid, conference);
      }
      for (const [jid, conference] of wanted) {
        const previous = current.get(jid);
        if (previous && same(previous.conference, conference)) continue;
        const payload = toPep(conference, previous?.payload);
        const publishOptions = svc.nodes.has(NS_BOOKMARKS2) ? null : PUBLISH_OPTIONS;
        await svc.publish(owner, NS_BOOKMARKS2, { item: { id: jid, payload, payloadCount: 1 }, items: 1, publishOptions }, true);
      }
      const gone = [...current.keys()].filter((jid) => !wanted.has(jid));
      // XEP-0402 §3.3: removal is a retraction that subscribers hear of.
      if (gone.length) await svc.retract(owner, NS_BOOKMARKS2, gone, true);
      // The node's version (with any conference the client left out in the same moment) is what private storage keeps.
      await pepToPrivate(user);
    }

    m.hook(PRIVATE_STORED_EVENT, ({ host: h, user, element }: PrivateStoredEvent) => {
      if (h !== host || element.localName !== 'storage' || element.ns !== NS_LEGACY_BOOKMARKS) return undefined;
      enqueue(user, () => privateToPep(user, element));
      return undefined;
    });

    m.hook(PEP_ITEMS_CHANGED_EVENT, ({ host: h, user, change }: PepItemsChangedEvent) => {
      if (h !== host || change.node !== NS_BOOKMARKS2) return undefined;
      // Runs after the change that fired this has left the service's queue.
      enqueue(user, () => pepToPrivate(user));
      return undefined;
    });
  },
});
