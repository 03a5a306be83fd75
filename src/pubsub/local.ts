// What the engine needs to know about local accounts, read from the running server: rosters (presence and
// roster access models) and the presence of their sessions (presence-based delivery, show-values, +notify).
import { tryParseJid } from '../core/jid/index.js';
import type { Roster } from '../core/roster.js';
import type { Server } from '../core/server.js';
import type { Session } from '../core/session.js';
import type { ResourcePresence } from './service.js';

/** The roster of a local account, or null when the JID is not one. */
export async function localRoster(server: Server, bare: string): Promise<Roster | null> {
  const jid = tryParseJid(bare);
  if (!jid || jid.local === '' || !server.hosts.has(jid.domain)) return null;
  return server.rosters.get(jid.domain, jid.local);
}

/** RFC 6121 §4.7.2.1: the <show/> of an available presence, 'online' when it has none. */
export function showOf(session: Session): string {
  const show = session.presence?.getChildText('show')?.trim();
  return show === 'away' || show === 'chat' || show === 'dnd' || show === 'xa' ? show : 'online';
}

/** Available resources of a local account; undefined when the JID is not a local account. */
export function localPresence(server: Server, bare: string): ResourcePresence[] | undefined {
  const at = bare.indexOf('@');
  if (at < 0 || !server.hosts.has(bare.slice(at + 1))) return undefined;
  const out: ResourcePresence[] = [];
  for (const session of server.sessions.resources(bare)) if (session.presence) out.push({ full: session.jid.full, show: showOf(session) });
  return out;
}
