// XEP-0115 Entity Capabilities: the server's own caps in the stream features (§6.3), and a verified cache of
// what clients' caps stand for, so that other modules (PEP +notify filtering) know each session's features.
import { z } from 'zod';
import type { Host, StanzaEvent } from '../../core/host.js';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import type { Session } from '../../core/session.js';
import { iqResult } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';
import { CAPS_HASHES, NS_DISCO_INFO, verificationString } from './verification.js';

export { verificationInput, verificationString } from './verification.js';

export const NS_CAPS = 'http://jabber.org/protocol/caps';
/** The caps 'node' of Quire itself (§4: a URL about the software). */
export const CAPS_NODE = 'https://quire.im';
/** session.data key of a session's verified capabilities. */
export const SESSION_CAPS = 'caps';

/** What a session's caps stand for, once verified (or, for a hash Quire cannot check, as the client said, §5.4 step 2). */
export interface SessionCaps {
  node: string;
  hash: string;
  ver: string;
  features: ReadonlySet<string>;
}

/** Fired on the host as 'caps/updated' when a session's capabilities become known or change. */
export interface CapsUpdatedEvent {
  session: Session;
  host: Host;
  features: ReadonlySet<string>;
}

export function sessionCaps(session: Session): SessionCaps | undefined {
  return session.data.get(SESSION_CAPS) as SessionCaps | undefined;
}

/** Per session: the caps it last advertised, and how many disco#info queries it has cost. */
interface CapsState {
  advertised: string;
  queries: number;
}

/** A client can make the server query it (and store the result) once per distinct ver it advertises; bounded. */
const MAX_QUERIES_PER_SESSION = 10;

export default defineModule({
  name: 'caps',
  spec: 'XEP-0115',
  description: "Advertises the server's entity capabilities and keeps a verified cache of clients' capabilities",
  dependencies: ['disco'],
  options: z
    .object({
      /** Seconds a client has to answer the disco#info query about its caps. */
      query_timeout: z.number().int().min(1).default(30),
      /** Verified ver strings kept in memory (all are kept in storage). */
      cache_size: z.number().int().min(1).default(1000),
    })
    .strict()
    .default({ query_timeout: 30, cache_size: 1000 }),
  setup(m) {
    const host: Host = m.host;
    const log = m.log;
    const { query_timeout: queryTimeout, cache_size: cacheSize } = m.options;
    m.feature(NS_CAPS);

    // --- The server's own caps (§6.3) ---

    /** The server's disco#info, as the disco module answers it (identities, features, XEP-0128 forms). */
    function serverDiscoInfo(): Element {
      const identities = [{ category: 'server', type: 'im', name: 'Quire' }, ...host.identities];
      return xml(
        'query',
        { xmlns: NS_DISCO_INFO },
        identities.map((i) => xml('identity', { category: i.category, type: i.type, name: i.name })),
        [...host.features].map((v) => xml('feature', { var: v })),
        host.discoExtensions.map((build) => build()),
      );
    }

    // Recomputed only when what disco says changes (modules add features as they load).
    let own: { key: string; ver: string | null } | null = null;
    function serverVer(): string | null {
      let key = `${host.discoExtensions.length}\n`;
      for (const i of host.identities) key += `${i.category}/${i.type}/${i.name ?? ''}\n`;
      for (const feature of host.features) key += feature + '\n';
      if (own?.key === key) return own.ver;
      const ver = verificationString(serverDiscoInfo(), 'sha-1');
      if (ver === null) log.warn('the server disco#info is ill-formed for XEP-0115 (duplicate identities or forms): no caps advertised');
      own = { key, ver };
      return ver;
    }

    m.fold('stream-features/authenticated', (features: Element) => {
      const ver = serverVer();
      if (ver !== null) features.append(xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node: CAPS_NODE, ver }));
      return features;
    });

    // §6.2: a client that checks the server's caps asks for the node "node#ver"; XEP-0030 §3.2 wants the node
    // mirrored in the answer. Other nodes are left to the disco module.
    m.hook(
      `iq-get/host/${NS_DISCO_INFO}:query`,
      (event: StanzaEvent) => {
        const node = event.stanza.firstElement()?.attrs.node;
        if (node === undefined || !node.startsWith(CAPS_NODE + '#') || node !== `${CAPS_NODE}#${serverVer()}`) return undefined;
        const info = serverDiscoInfo();
        info.attrs.node = node;
        m.route(iqResult(event.stanza, info));
        return true;
      },
      10,
    );

    // --- Clients' caps (§5.4) ---

    /** Host-wide (user '') map of "hash:ver" to the verified disco#info, so the cache survives restarts. */
    const store = m.map('caps');
    /** The most recently used verified entries, "hash:ver" -> features. */
    const memory = new Map<string, ReadonlySet<string>>();
    /** Lookups under way, so that many sessions advertising the same new ver cost one query. */
    const inflight = new Map<string, Promise<ReadonlySet<string> | null>>();
    const states = new WeakMap<Session, CapsState>();

    function remember(key: string, features: ReadonlySet<string>): void {
      memory.delete(key);
      memory.set(key, features);
      if (memory.size > cacheSize) memory.delete(memory.keys().next().value!);
    }

    function featuresOf(query: Element): Set<string> {
      const features = new Set<string>();
      for (const feature of query.getChildren('feature', NS_DISCO_INFO)) if (feature.attrs.var) features.add(feature.attrs.var);
      return features;
    }

    const isCurrent = (session: Session) => m.server.sessions.get(session.jid) === session;

    /** §6.2: asks the session itself, at its full JID, for the node "node#ver". */
    async function query(session: Session, node: string, ver: string): Promise<Element | null> {
      const state = states.get(session);
      if (!state || state.queries >= MAX_QUERIES_PER_SESSION || !isCurrent(session)) return null;
      state.queries++;
      const request = xml('iq', { type: 'get', from: host.name, to: session.jid.full }, xml('query', { xmlns: NS_DISCO_INFO, node: `${node}#${ver}` }));
      const response = await m.server.sendIq(request, queryTimeout * 1000);
      if (!response || response.attrs.type !== 'result' || response.attrs.from !== session.jid.full) return null;
      return response.getChild('query', NS_DISCO_INFO) ?? null;
    }

    /** §5.4 step 3: query, recompute the ver from the answer, and cache it globally only if it matches. */
    async function queryAndVerify(session: Session, key: string, node: string, hash: string, ver: string): Promise<ReadonlySet<string> | null> {
      const info = await query(session, node, ver);
      if (!info) return null;
      const computed = verificationString(info, hash);
      if (computed !== ver) {
        // §5.4 3.9: not cached; another entity advertising the same ver may still be asked.
        log.info({ jid: session.jid.full, node, hash, ver, computed }, 'caps verification failed');
        return null;
      }
      const features = featuresOf(info);
      remember(key, features);
      const stored = info.clone();
      delete stored.attrs.node;
      await store.set(host.name, '', key, stored.toString());
      return features;
    }

    async function lookup(session: Session, key: string, node: string, hash: string, ver: string): Promise<ReadonlySet<string> | null> {
      const stored = await store.get(host.name, '', key);
      if (stored !== null) {
        const features = featuresOf(parseStoredXml(stored));
        remember(key, features);
        return features;
      }
      return queryAndVerify(session, key, node, hash, ver);
    }

    /** Records what the session's caps stand for, unless it has advertised something else meanwhile. */
    function apply(session: Session, advertised: string, caps: SessionCaps): void {
      if (!isCurrent(session) || states.get(session)?.advertised !== advertised) return;
      session.data.set(SESSION_CAPS, caps);
      host.events.fire('caps/updated', { session, host, features: caps.features } satisfies CapsUpdatedEvent);
    }

    async function resolve(session: Session, advertised: string, node: string, hash: string, ver: string): Promise<void> {
      const key = `${hash}:${ver}`;
      let shared = inflight.get(key);
      let mine = false;
      if (!shared) {
        mine = true;
        shared = lookup(session, key, node, hash, ver).finally(() => inflight.delete(key));
        inflight.set(key, shared);
      }
      let features = await shared;
      // §5.4 3.9: another session's answer did not verify; this one may answer truthfully.
      if (!features && !mine) features = await queryAndVerify(session, key, node, hash, ver);
      if (features) apply(session, advertised, { node, hash, ver, features });
    }

    function advertise(session: Session, c: Element): void {
      const { hash, node, ver } = c.attrs;
      // §8: without 'hash' the ver is in the legacy format, which cannot be verified: ignored, as is 'ext'.
      if (!hash || !node || !ver) return;
      let state = states.get(session);
      if (!state) {
        state = { advertised: '', queries: 0 };
        states.set(session, state);
      }
      const advertised = `${hash}\n${node}\n${ver}`;
      // The same caps as the last presence (the usual case): already known, or being looked up.
      if (state.advertised === advertised) return;
      state.advertised = advertised;
      if (!CAPS_HASHES.has(hash)) {
        // §5.4 step 2: a hash Quire cannot check: ask, and believe it for this session only.
        query(session, node, ver).then(
          (info) => info && apply(session, advertised, { node, hash, ver, features: featuresOf(info) }),
          (err: unknown) => log.error({ err }, 'caps query failed'),
        );
        return;
      }
      const known = memory.get(`${hash}:${ver}`);
      if (known) {
        remember(`${hash}:${ver}`, known);
        apply(session, advertised, { node, hash, ver, features: known });
        return;
      }
      resolve(session, advertised, node, hash, ver).catch((err: unknown) => log.error({ err }, 'caps lookup failed'));
    }

    // Observes the client's own presence broadcasts (RFC 6121 §4.2, §4.4) before the handlers that end the chain.
    m.hook(
      'presence/self',
      (event: StanzaEvent) => {
        const session = event.origin;
        if (!session || event.stanza.attrs.type !== undefined) return undefined;
        const c = event.stanza.getChild('c', NS_CAPS);
        if (c) advertise(session, c);
        return undefined;
      },
      200,
    );
  },
});
