// XEP-0012 Last Activity (jabber:iq:last): the server's uptime, and for an account how long ago it logged out
// and with what status, told only to those allowed to see the account's presence.
import { performance } from 'node:perf_hooks';
import type { StanzaEvent, Host } from '../../core/host.js';
import type { Jid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import { SerialQueues } from '../../core/serial-queues.js';
import type { Session } from '../../core/session.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';

export const NS_LAST = 'jabber:iq:last';
/** The keyval store: per account, <last xmlns='jabber:iq:last' when='ms since the epoch'>status</last>. */
export const LAST_STORE = 'last';

function isLastQuery(stanza: Element): boolean {
  if (stanza.attrs.type !== 'get') return false;
  const payload = stanza.firstElement();
  return payload !== undefined && payload.localName === 'query' && payload.ns === NS_LAST;
}

export default defineModule({
  name: 'last',
  spec: 'XEP-0012',
  description: "Last activity: the server's uptime, and when an account last logged out (for its presence subscribers)",
  setup(m) {
    const hostName = m.host.name;
    const store = m.keyval(LAST_STORE);
    const rosters = m.server.rosters;
    const sessions = m.server.sessions;
    // Monotonic, so a clock change does not change the uptime.
    const startedAt = performance.now();
    /** The status of the last unavailable presence of accounts that still have sessions, by bare JID. */
    const lastStatus = new Map<string, string>();
    /** Recording a logout and reading it, per account in that order: a query right after a logout sees it. */
    const queues = new SerialQueues();

    m.feature(NS_LAST);
    m.accountFeature(NS_LAST);

    /** §3, §7: the account itself, or a contact with a subscription to its presence ('from' or 'both' in its roster). */
    const maySeePresence = (subscription: string | undefined) => subscription === 'from' || subscription === 'both';
    const authorized = async (from: Jid, to: Jid): Promise<boolean> => {
      if (from.bare === to.bare) return true;
      return maySeePresence(await rosters.subscription(hostName, to.local, from.bare));
    };

    // §5: the server's uptime, with no character data.
    m.iq('get', NS_LAST, 'query', () => xml('query', { xmlns: NS_LAST, seconds: String(Math.floor((performance.now() - startedAt) / 1000)) }));

    // §3: an account's bare JID, answered by the server on the user's behalf.
    m.iq(
      'get',
      NS_LAST,
      'query',
      async ({ from, to }) => {
        // RFC 6121 §8.5.1: an IQ to an account that does not exist gets service-unavailable.
        if (!(await m.accounts.exists(hostName, to.local))) throw new StanzaError('service-unavailable');
        if (!(await authorized(from, to))) throw new StanzaError('forbidden');
        // §3: a connected or available resource means the user is online now: 0 seconds.
        if (sessions.hasSessions(to.bare)) return xml('query', { xmlns: NS_LAST, seconds: '0' });
        const stored = await queues.run(to.bare, () => store.get(hostName, to.local));
        if (!stored) throw new StanzaError('item-not-found', 'this account has not logged out since last activity was recorded');
        const record = parseStoredXml(stored);
        const seconds = Math.max(0, Math.floor((Date.now() - Number(record.attrs.when)) / 1000));
        return xml('query', { xmlns: NS_LAST, seconds: String(seconds) }, record.text() || null);
      },
      'bare',
    );

    // §4: a query to a full JID goes to the client, but only from someone allowed to see the user's presence;
    // anyone else gets forbidden from the server, whether or not the resource exists (§7: no presence leak).
    // Runs early on iq/full; when the roster must be loaded first, the IQ is held and the event fired again.
    const passed = new WeakSet<Element>();
    m.hook(
      'iq/full',
      (event: StanzaEvent) => {
        const { stanza, from, to } = event;
        if (passed.has(stanza) || !isLastQuery(stanza) || from.bare === to.bare) return undefined;
        const roster = rosters.cached(hostName, to.local);
        if (roster) {
          if (maySeePresence(roster.items.get(from.bare)?.subscription)) return undefined;
          m.server.router.bounce(stanza, 'forbidden');
          return true;
        }
        authorized(from, to).then(
          (allowed) => {
            if (!allowed) return m.server.router.bounce(stanza, 'forbidden');
            passed.add(stanza);
            m.host.events.fire('iq/full', event);
          },
          (err: unknown) => {
            m.log.error({ err }, 'roster lookup for last activity failed');
            m.server.router.bounce(stanza, 'internal-server-error');
          },
        );
        return true;
      },
      100,
    );

    // §3: "the status message of the last unavailable presence received from the user". Observe only.
    m.hook(
      'presence/self',
      ({ stanza, from }: StanzaEvent) => {
        // After the account's last session ended, the default handler's unavailable presence is covered below.
        if (stanza.attrs.type === 'unavailable' && sessions.hasSessions(from.bare)) lastStatus.set(from.bare, stanza.getChildText('status') ?? '');
        return undefined;
      },
      10,
    );

    // §3: the time of the last logout is when the account's last session ends.
    m.hook('session-ended', ({ session }: { session: Session; host: Host }) => {
      const bare = session.jid.bare;
      if (session.host !== hostName || sessions.hasSessions(bare)) return undefined;
      // A session that ends while available goes unavailable with no status (RFC 6121 §4.5.2, delivery.ts).
      const status = session.presence ? '' : (lastStatus.get(bare) ?? '');
      lastStatus.delete(bare);
      const record = xml('last', { xmlns: NS_LAST, when: String(Date.now()) }, status || null);
      queues.run(bare, () => store.set(hostName, session.jid.local, record.toString())).catch((err: unknown) => m.log.error({ err }, 'could not record last activity'));
      return undefined;
    });
  },
});
