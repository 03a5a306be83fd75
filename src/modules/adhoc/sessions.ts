// XEP-0050 §3.3 command sessions: each belongs to one requester (a full JID) and one command node, and lives until
// it completes, is canceled, or stays idle too long. Bounded in number overall and per requester; ended ids are
// remembered for a while so that a late request hears session-expired rather than bad-sessionid.
import { randomBytes } from 'node:crypto';
import { commandError, type ExecutingStep } from '../../core/adhoc.js';
import type { DataForm } from '../../core/data-forms.js';
import type { Jid } from '../../core/jid/index.js';
import { StanzaError } from '../../core/stanza.js';

/** One form the session has shown, with what going back to it needs. */
export interface Stage {
  step: ExecutingStep;
  /** The handler's state once it had produced this stage (copied: later stages work on their own copy). */
  state: object;
  /** What the requester last submitted to this stage, shown again when it goes back here (§2.4.2: optional). */
  submitted?: DataForm;
}

export interface CommandSession {
  readonly id: string;
  readonly node: string;
  /** The requester's full JID. */
  readonly requester: string;
  /** Every form shown so far; the last one is waiting for an answer. */
  stages: Stage[];
  lastActive: number;
}

export interface SessionLimits {
  maxSessions: number;
  maxPerRequester: number;
  idleMs: number;
}

/** Why a session id is no longer usable: remembered per id, with the requester it belonged to. */
interface Ended {
  requester: string;
  node: string;
}

export class CommandSessions {
  private readonly active = new Map<string, CommandSession>();
  /** Session ids by requester, in the order they were opened. */
  private readonly byRequester = new Map<string, Set<string>>();
  /** Ended sessions, oldest first; as many are remembered as may be active. */
  private readonly ended = new Map<string, Ended>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.active.size;
  }

  /**
   * A new session for a requester. A requester at its limit loses its oldest session; a full table answers
   * resource-constraint (wait) once idle sessions have been swept.
   */
  open(node: string, requester: Jid): CommandSession {
    const own = this.byRequester.get(requester.full);
    if (own && own.size >= this.limits.maxPerRequester) this.end(this.active.get(own.values().next().value!)!);
    if (this.active.size >= this.limits.maxSessions) this.sweep();
    if (this.active.size >= this.limits.maxSessions) throw new StanzaError('resource-constraint', 'too many command sessions are open; try again later');
    const session: CommandSession = { id: randomBytes(16).toString('base64url'), node, requester: requester.full, stages: [], lastActive: this.now() };
    this.active.set(session.id, session);
    let ids = this.byRequester.get(session.requester);
    if (!ids) this.byRequester.set(session.requester, (ids = new Set()));
    ids.add(session.id);
    return session;
  }

  /**
   * The requester's active session with this id for this node. XEP-0050 §4.4: one that ended (completed, canceled,
   * timed out) is session-expired; an id that is unknown, or is another requester's or another command's, is
   * bad-sessionid (so nobody learns of others' sessions).
   */
  find(id: string, requester: Jid, node: string): CommandSession {
    const session = this.active.get(id);
    if (session && session.requester === requester.full && session.node === node) {
      if (this.now() - session.lastActive <= this.limits.idleMs) return session;
      this.end(session);
    }
    const ended = this.ended.get(id);
    if (ended && ended.requester === requester.full && ended.node === node) throw commandError('session-expired', 'this command session has ended');
    throw commandError('bad-sessionid', 'no such command session');
  }

  end(session: CommandSession): void {
    if (!this.active.delete(session.id)) return;
    const ids = this.byRequester.get(session.requester);
    ids?.delete(session.id);
    if (ids?.size === 0) this.byRequester.delete(session.requester);
    this.ended.set(session.id, { requester: session.requester, node: session.node });
    if (this.ended.size > this.limits.maxSessions) this.ended.delete(this.ended.keys().next().value!);
  }

  /** Ends every session of a requester whose stream has ended: nobody else may continue them (§3.3). */
  endAllOf(requester: string): void {
    for (const id of [...(this.byRequester.get(requester) ?? [])]) this.end(this.active.get(id)!);
  }

  /** Ends the sessions idle for longer than the limit. */
  sweep(): void {
    const oldest = this.now() - this.limits.idleMs;
    for (const session of [...this.active.values()]) if (session.lastActive < oldest) this.end(session);
  }

  /** Ends every session (module unload). */
  clear(): void {
    for (const session of [...this.active.values()]) this.end(session);
  }
}
