// The per-session state of XEP-0198 Stream Management: the count of stanzas handled from the client ('h'), the
// stanzas sent to it and not yet acknowledged, and when to ask for an acknowledgement. It is the session's tap, so
// its inbound() and outbound() run for every stanza: they count, queue a string and write, nothing more.
import type { ClientSession, StanzaTap } from '../../core/stream/c2s.js';

export const NS_SM = 'urn:xmpp:sm:3';

/** XEP-0198 §4: 'h' is an xs:unsignedInt that wraps from 2^32-1 to 0. */
export const MAX_H = 0xffffffff;

/** Parses an 'h' attribute; undefined when it is not an xs:unsignedInt. */
export function parseH(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value)) return undefined;
  const h = Number(value);
  return h <= MAX_H ? h : undefined;
}

export interface AckPolicy {
  /** Unacknowledged stanzas after which an <r/> goes out at once. */
  every: number;
  /** Milliseconds after an unacknowledged stanza before an <r/> goes out anyway. */
  delayMs: number;
  /** Unacknowledged stanzas allowed; one more ends the session (policy-violation). */
  maxUnacked: number;
}

const REQUEST = `<r xmlns="${NS_SM}"/>`;

export class SmState implements StanzaTap {
  /** XEP-0198 §4: stanzas handled from the client, modulo 2^32. */
  inboundCount = 0;
  /** Serialized stanzas sent to the client and not yet acknowledged, oldest first. */
  unacked: string[] = [];
  /** The client's last 'h': how many stanzas it acknowledged (modulo 2^32), those before unacked[0]. */
  acked = 0;
  /** An <r/> is out and no <a/> answered it yet. */
  private requested = false;
  private requestTimer: NodeJS.Timeout | null = null;
  /** Set once the queue went over its bound; the session is being ended. */
  overflowed = false;
  /** The SM-ID when the client asked for resumption (XEP-0198 §5), else null. */
  id: string | null = null;
  /** Seconds the session is kept after its connection is lost. */
  resumeTimeout = 0;
  resumeTimer: NodeJS.Timeout | null = null;
  /** Set once the session ended and its queue was dealt with. */
  finished = false;

  constructor(
    readonly session: ClientSession,
    private policy: AckPolicy,
    /** Called (on the next tick) when the queue overflows. */
    private onOverflow: (state: SmState) => void,
  ) {}

  inbound(): void {
    this.inboundCount = (this.inboundCount + 1) >>> 0;
  }

  outbound(data: string): void {
    // Queued before it is written: a write that closes the stream must not lose it.
    this.unacked.push(data);
    if (this.unacked.length > this.policy.maxUnacked) {
      if (!this.overflowed) {
        this.overflowed = true;
        process.nextTick(this.onOverflow, this);
      }
      return;
    }
    if (this.session.hibernating) return;
    this.session.writeRaw(data);
    if (this.requested) return;
    if (this.unacked.length >= this.policy.every) this.requestAck();
    else this.requestTimer ??= setTimeout(this.onRequestTimer, this.policy.delayMs).unref();
  }

  /** Stanzas the server sent on this SM session (XEP-0198 'send-count'). */
  get sentCount(): number {
    return (this.acked + this.unacked.length) >>> 0;
  }

  /** How many queued stanzas an 'h' from the client acknowledges, or -1 when it is more than were sent (§6). */
  acknowledges(h: number): number {
    const count = (h - this.acked) >>> 0;
    return count <= this.unacked.length ? count : -1;
  }

  /** XEP-0198 §4: drops what the client acknowledged. The caller checked acknowledges(h) first. */
  ack(h: number): void {
    const count = this.acknowledges(h);
    if (count > 0) this.unacked.splice(0, count);
    this.acked = h;
    this.requested = false;
    if (this.unacked.length && !this.session.hibernating) this.requestTimer ??= setTimeout(this.onRequestTimer, this.policy.delayMs).unref();
  }

  requestAck(): void {
    this.clearRequestTimer();
    this.requested = true;
    this.session.writeRaw(REQUEST);
  }

  /** The connection is gone: no more requests until a new stream takes the session. */
  hibernate(onTimeout: () => void): void {
    this.clearRequestTimer();
    this.requested = false;
    this.resumeTimer = setTimeout(onTimeout, this.resumeTimeout * 1000).unref();
  }

  /** A new stream took the session (XEP-0198 §5). */
  resumed(h: number): void {
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
    this.requested = false;
    this.ack(h);
  }

  clearTimers(): void {
    this.clearRequestTimer();
    if (this.resumeTimer) clearTimeout(this.resumeTimer);
    this.resumeTimer = null;
  }

  private clearRequestTimer(): void {
    if (this.requestTimer) clearTimeout(this.requestTimer);
    this.requestTimer = null;
  }

  private onRequestTimer = (): void => {
    this.requestTimer = null;
    if (!this.requested && this.unacked.length && !this.session.hibernating && !this.finished) this.requestAck();
  };
}
