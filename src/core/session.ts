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
  /**
   * XEP-0198: true while the client's connection is lost and the session is kept for resumption. It stays in the
   * directory and available; what it is sent waits in a queue. Modules that probe clients (pings) should skip it.
   */
  readonly hibernating?: boolean;
  /**
   * Writes a stanza to the client. Never throws; a closed session drops it. The 'stanza/to-session' fold runs first
   * when a module registered one (XEP-0352 CSI), and may hold the stanza back.
   */
  send(stanza: Element): void;
  /** Writes a stanza without the 'stanza/to-session' fold: for the module that held it back and now lets it go. */
  sendDirect(stanza: Element): void;
  /** Closes the stream, with a stream error when a condition is given. */
  close(condition?: StreamErrorCondition, text?: string): void;
}

/**
 * Fold 'stanza/to-session' (value: the stanza), run on the session's host by send() before writing. A handler
 * returns the stanza (or another one) to go on, or null to hold it back: it must then keep a copy (callers reuse
 * the element once send() returns) and write it later with sendDirect(). Runs only when a handler is registered.
 */
export const TO_SESSION = 'stanza/to-session';

export interface ToSessionEvent {
  session: Session;
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
