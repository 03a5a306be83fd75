// XEP-0198 Stream Management for client streams: acknowledgements both ways, and resumption of a session whose
// connection was lost. The core keeps such a session in the directory without a connection ("hibernating") when
// this module answers 'session-interrupted'; stanzas for it wait in its queue until a new stream resumes it with
// <resume/>, or until resume_timeout ends it. Its unacknowledged messages then go to offline storage or back to
// their senders (XEP-0198 §4), before the usual end of a session (unavailable presence).
import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Host, StanzaEvent } from '../../core/host.js';
import { tryParseJid } from '../../core/jid/index.js';
import { defineModule } from '../../core/module-api.js';
import { parseStoredXml } from '../../core/roster.js';
import type { Session } from '../../core/session.js';
import { NS, type StanzaErrorCondition } from '../../core/stanza.js';
import type { ClientSession, UnboundElementEvent } from '../../core/stream/c2s.js';
import { xml, type Element } from '../../core/xml/element.js';
import { NS_SM, parseH, SmState } from './state.js';

export { NS_SM } from './state.js';

/** session.data key of a session's SmState. */
const SM = 'sm';
/** SM-IDs of ended sessions remembered, with their 'h', for <failed h/> (XEP-0198 §5). */
const MAX_EXPIRED_IDS = 1000;

interface StreamElementEvent {
  stanza: Element;
  session: ClientSession;
}

function failed(condition: StanzaErrorCondition, h?: number): Element {
  return xml('failed', { xmlns: NS_SM, h: h === undefined ? undefined : String(h) }, xml(condition, { xmlns: NS.stanzaErrors }));
}

/** XEP-0198 §6: the peer acknowledged more than it was sent. */
function handledCountTooHigh(h: number, sent: number): Element {
  return xml(
    'stream:error',
    {},
    xml('undefined-condition', { xmlns: NS.streamErrors }),
    xml('handled-count-too-high', { xmlns: NS_SM, h: String(h), 'send-count': String(sent) }),
    xml('text', { xmlns: NS.streamErrors, 'xml:lang': 'en' }, `You acknowledged ${h} stanzas, but I only sent you ${sent} so far.`),
  );
}

/** XML Schema boolean (XEP-0198 'resume'). */
const isTrue = (value: string | undefined) => value === 'true' || value === '1';

export default defineModule({
  name: 'sm',
  spec: 'XEP-0198',
  description: 'Stream management: stanza acknowledgements and resumption of sessions whose connection was lost',
  options: z
    .object({
      /** Seconds a session whose connection was lost is kept for resumption (the most advertised in 'max'). */
      resume_timeout: z.number().int().min(1).max(86_400).default(300),
      /** Stanzas sent to a client and not acknowledged yet; one more ends its session (policy-violation). */
      max_unacked: z.number().int().min(1).default(500),
      /** The server asks for an acknowledgement once this many stanzas are unacknowledged… */
      request_ack_every: z.number().int().min(1).default(5),
      /** …or this many seconds after an unacknowledged stanza went out. */
      request_ack_delay: z.number().positive().max(3600).default(3),
    })
    .strict()
    .default({ resume_timeout: 300, max_unacked: 500, request_ack_every: 5, request_ack_delay: 3 }),
  setup(m) {
    const host: Host = m.host;
    const { resume_timeout: resumeTimeout, max_unacked: maxUnacked, request_ack_every: every, request_ack_delay: delay } = m.options;
    const policy = { every, delayMs: Math.round(delay * 1000), maxUnacked };
    const sessions = m.server.sessions;
    const router = m.server.router;
    const log = m.log;
    /** Resumable SM sessions by SM-ID. */
    const resumable = new Map<string, SmState>();
    /** SM-IDs of ended sessions: account and final 'h'. */
    const expired = new Map<string, { user: string; h: number }>();
    /** SM sessions by full JID, to notice one replaced by a new bind of its resource (which never fires session-ended). */
    const byJid = new Map<string, SmState>();

    // XEP-0198 §2: offered once the client has authenticated, with resource binding.
    m.fold('stream-features/authenticated', (features: Element) => features.append(xml('sm', { xmlns: NS_SM })));

    const stateOf = (session: Session) => session.data.get(SM) as SmState | undefined;

    function overflow(state: SmState): void {
      log.info({ jid: state.session.jid.full, unacked: state.unacked.length }, 'too many unacknowledged stanzas');
      // Live: a stream error ends the session; hibernating: closing it ends it.
      state.session.close('policy-violation', `more than ${maxUnacked} stanzas unacknowledged`);
    }

    // ---- §3 enabling ----

    m.hook('stream-element/' + NS_SM + ':enable', ({ stanza, session }: StreamElementEvent) => {
      // §3: one attempt only; a resumed session already has stream management.
      if (stateOf(session)) {
        session.writeRaw(failed('unexpected-request').toString());
        return true;
      }
      const state = new SmState(session, policy, overflow);
      const enabled = xml('enabled', { xmlns: NS_SM });
      if (isTrue(stanza.attrs.resume)) {
        // §5: opaque and unguessable, since it is what lets a new stream take over the session.
        state.id = randomBytes(18).toString('base64url');
        // §3: the client's 'max' is a preference; the server's limit wins.
        const wanted = Number(stanza.attrs.max);
        state.resumeTimeout = Number.isInteger(wanted) && wanted > 0 ? Math.min(wanted, resumeTimeout) : resumeTimeout;
        resumable.set(state.id, state);
        Object.assign(enabled.attrs, { id: state.id, resume: 'true', max: String(state.resumeTimeout) });
      }
      session.data.set(SM, state);
      byJid.set(session.jid.full, state);
      session.writeRaw(enabled.toString());
      // §4: the server's outbound count starts once <enabled/> is sent; its 'h' from <enable/> on (inboundCount is 0).
      session.tap = state;
      return true;
    });

    // ---- §4 acks ----

    m.hook('stream-element/' + NS_SM + ':r', ({ session }: StreamElementEvent) => {
      const state = stateOf(session);
      if (!state) session.writeRaw(failed('unexpected-request').toString());
      else session.writeRaw(xml('a', { xmlns: NS_SM, h: String(state.inboundCount) }).toString());
      return true;
    });

    m.hook('stream-element/' + NS_SM + ':a', ({ stanza, session }: StreamElementEvent) => {
      const state = stateOf(session);
      if (!state) {
        session.writeRaw(failed('unexpected-request').toString());
        return true;
      }
      const h = parseH(stanza.attrs.h);
      if (h === undefined) {
        session.close('invalid-xml', "the 'h' of <a/> must be an unsigned 32-bit integer");
        return true;
      }
      if (state.acknowledges(h) < 0) {
        session.writeRaw(handledCountTooHigh(h, state.sentCount).toString());
        session.close();
        return true;
      }
      state.ack(h);
      return true;
    });

    // ---- §5 resumption ----

    // The connection died without </stream:stream> (§6): keep a resumable session for resume_timeout seconds.
    m.hook('session-interrupted', ({ session }: { session: ClientSession }) => {
      const state = stateOf(session);
      if (!state || state.id === null || state.overflowed || state.finished) return undefined;
      log.debug({ jid: session.jid.full, unacked: state.unacked.length }, 'session hibernating');
      state.hibernate(() => {
        log.debug({ jid: session.jid.full }, 'session not resumed in time');
        // Ends the session: session-ended below deals with the queue, then the default handler sends unavailable presence.
        session.close();
      });
      return true;
    });

    m.hook('stream-element-unbound/' + NS_SM + ':resume', (event: UnboundElementEvent) => {
      const { stanza, username } = event;
      const previd = stanza.attrs.previd;
      const h = parseH(stanza.attrs.h);
      if (!previd || h === undefined) {
        event.send(failed('bad-request'));
        return true;
      }
      const state = resumable.get(previd);
      // Only the account that owns a session may resume it; to anyone else it does not exist.
      if (!state || state.session.jid.local !== username) {
        const gone = expired.get(previd);
        // §5: item-not-found, with the 'h' of a session that timed out.
        event.send(failed('item-not-found', gone && gone.user === username ? gone.h : undefined));
        return true;
      }
      // §6: the client cannot have handled more than it was sent. The session stays as it was.
      if (state.acknowledges(h) < 0) {
        event.send(handledCountTooHigh(h, state.sentCount));
        event.close();
        return true;
      }
      const session = state.session;
      if (!event.resume(session)) {
        event.send(failed('item-not-found'));
        return true;
      }
      state.resumed(h);
      session.writeRaw(xml('resumed', { xmlns: NS_SM, previd, h: String(state.inboundCount) }).toString());
      // §5: what the client did not acknowledge goes out again, in order (it stays queued until acknowledged).
      for (const data of state.unacked) session.writeRaw(data);
      if (state.unacked.length) state.requestAck();
      log.debug({ jid: session.jid.full, resent: state.unacked.length }, 'session resumed');
      return true;
    });

    // §3: <enable/> before binding; <resume/> after it (a bound stream cannot take over another session).
    m.hook('stream-element-unbound/' + NS_SM + ':enable', (event: UnboundElementEvent) => {
      event.send(failed('unexpected-request'));
      return true;
    });
    m.hook('stream-element/' + NS_SM + ':resume', ({ session }: StreamElementEvent) => {
      session.writeRaw(failed('unexpected-request').toString());
      return true;
    });

    // ---- the end of an SM session ----

    /**
     * XEP-0198 §4: stanzas the client never acknowledged are treated as if sent to an unavailable resource.
     * Messages: to offline storage ('message/offline', which the offline module answers) when the account has no
     * other available resource, else, or when nothing stores them, back to the sender as recipient-unavailable
     * (headlines and errors are dropped, RFC 6121 §8.5.3.2.1). IQ requests: service-unavailable (RFC 6120
     * §10.5.3.1). Presence is state, not a message: dropped.
     */
    function handleUnacked(state: SmState): void {
      const session = state.session;
      const bare = session.jid.bareJid();
      let otherResource = false;
      for (const other of sessions.resources(bare.bare)) {
        if (other !== session && other.presence && other.priority >= 0) otherResource = true;
      }
      for (const data of state.unacked) {
        let stanza: Element;
        try {
          stanza = parseStoredXml(data);
        } catch (err) {
          log.error({ err }, 'unparsable queued stanza');
          continue;
        }
        const type = stanza.attrs.type;
        if (stanza.name === 'iq') {
          if (type === 'get' || type === 'set') router.bounce(stanza, 'service-unavailable');
          continue;
        }
        if (stanza.name !== 'message' || type === 'error') continue;
        const from = tryParseJid(stanza.attrs.from);
        // What the account's own server sent it (carbons copies, archive results) is not a message for later.
        if (from && from.bare === bare.bare) continue;
        if (!otherResource && from && type !== 'groupchat') {
          stanza.attrs.to = bare.bare;
          const event: StanzaEvent = { stanza, origin: null, from, to: bare, host };
          if (host.events.fire('message/offline', event) !== undefined) continue;
        }
        if (type !== 'headline') router.bounce(stanza, 'recipient-unavailable');
      }
      state.unacked = [];
    }

    function finish(state: SmState): void {
      if (state.finished) return;
      state.finished = true;
      state.clearTimers();
      const session = state.session;
      session.tap = null;
      if (byJid.get(session.jid.full) === state) byJid.delete(session.jid.full);
      if (state.id !== null) {
        resumable.delete(state.id);
        expired.set(state.id, { user: session.jid.local, h: state.inboundCount });
        if (expired.size > MAX_EXPIRED_IDS) expired.delete(expired.keys().next().value!);
      }
      if (state.unacked.length) handleUnacked(state);
    }

    // Before the default handler (-1000) broadcasts unavailable presence: the queue is dealt with first.
    m.hook(
      'session-ended',
      ({ session }: { session: Session }) => {
        const state = stateOf(session);
        if (state) finish(state);
        return undefined;
      },
      100,
    );

    // RFC 6120 §7.7.2.2: a new bind of the same resource replaces the old session without ending it.
    m.hook('session-started', ({ session }: { session: Session }) => {
      const previous = byJid.get(session.jid.full);
      if (previous && previous.session !== session) finish(previous);
      return undefined;
    });

    m.onUnload(() => {
      for (const state of byJid.values()) state.clearTimers();
    });
  },
});
