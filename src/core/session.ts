// Bound client sessions and the directory that finds them by JID (RFC 6120 §7, RFC 6121 §8).
import type { Jid } from './jid/index.js';
import type { Element } from './xml/element.js';
import type { StreamErrorCondition } from './stanza.js';

export interface Session {
  readonly id: string;
  /** The served domain this stream is for. */
  readonly host: string;
  /** Full JID once a resource is bound. */
  readonly jid: Jid;
  /** RFC 6121 §4.7.2.3: the priority of the last available presence; 0 before any. */
  priority: number;
  /** The last available presence the session broadcast, or null while it is unavailable (RFC 6121 §4.2). */
  presence: Element | null;
  /** Per-module state (roster interest, caps, stream management…), keyed by module name. */
  readonly data: Map<string, unknown>;
  readonly secure: boolean;
  readonly remoteAddress: string;
  /** When the client last sent anything (ms since the epoch). */
  readonly lastReceived: number;
  /** Writes a stanza to the client. Never throws; a closed session drops it. */
  send(stanza: Element): void;
  /** Closes the stream, with a stream error when a condition is given. */
  close(condition?: StreamErrorCondition, text?: string): void;
}

/** Bare JID -> resource -> session, for every local account with a bound resource. */
export class SessionDirectory {
  private byBare = new Map<string, Map<string, Session>>();
  private total = 0;

  get size(): number {
    return this.total;
  }

  /** Adds a session; returns the session it replaces (same full JID), if any. */
  add(session: Session): Session | undefined {
    let resources = this.byBare.get(session.jid.bare);
    if (!resources) {
      resources = new Map();
      this.byBare.set(session.jid.bare, resources);
    }
    const previous = resources.get(session.jid.resource);
    resources.set(session.jid.resource, session);
    if (!previous) this.total++;
    return previous;
  }

  /** Removes the session if it is still the one registered under its full JID. */
  remove(session: Session): boolean {
    const resources = this.byBare.get(session.jid.bare);
    if (!resources || resources.get(session.jid.resource) !== session) return false;
    resources.delete(session.jid.resource);
    this.total--;
    if (resources.size === 0) this.byBare.delete(session.jid.bare);
    return true;
  }

  get(fullJid: Jid): Session | undefined {
    return this.byBare.get(fullJid.bare)?.get(fullJid.resource);
  }

  /** Every bound session of the account, available or not. */
  resources(bareJid: string): Iterable<Session> {
    return this.byBare.get(bareJid)?.values() ?? [];
  }

  count(bareJid: string): number {
    return this.byBare.get(bareJid)?.size ?? 0;
  }

  hasSessions(bareJid: string): boolean {
    return this.byBare.has(bareJid);
  }

  *all(): Iterable<Session> {
    for (const resources of this.byBare.values()) yield* resources.values();
  }
}
