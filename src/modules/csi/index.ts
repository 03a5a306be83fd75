// XEP-0352 Client State Indication: a client says <inactive/> when nobody looks at it (a phone in a pocket) and
// <active/> when somebody does. While it is inactive, unimportant stanzas (presence updates, chat states, PEP
// notifications) wait in a bounded queue; everything waiting goes out, in order, as soon as the client is active
// again or something important (a message with a body, an IQ, a subscription request) has to reach it.
import { z } from 'zod';
import { defineModule } from '../../core/module-api.js';
import { TO_SESSION, type Session, type ToSessionEvent } from '../../core/session.js';
import { xml, type Element } from '../../core/xml/element.js';
import { HeldStanzas, NS_CSI, holdKey } from './held-stanzas.js';

export { NS_CSI, holdKey } from './held-stanzas.js';

/** session.data key: the session's CSI state and what it holds. */
const STATE = 'csi';

/** What c2s fires as 'stream-element/<ns>:<name>' for a top-level element from a bound client. */
interface StreamElementEvent {
  stanza: Element;
  session: Session;
}

/** Whether the client said it is inactive (and has not said it is active since). */
export function isInactive(session: Session): boolean {
  return (session.data.get(STATE) as HeldStanzas | undefined)?.inactive === true;
}

export default defineModule({
  name: 'csi',
  spec: 'XEP-0352',
  description: 'Client State Indication: holds back presence updates, chat states and PEP notifications for inactive clients',
  options: z
    .object({
      /** Stanzas held per inactive session; one more and everything held goes out. */
      max_buffered: z.number().int().min(1).default(100),
    })
    .strict()
    .default({ max_buffered: 100 }),
  setup(m) {
    const maxBuffered = m.options.max_buffered;

    // §4: advertised once the client has authenticated.
    m.fold('stream-features/authenticated', (features: Element) => features.append(xml('csi', { xmlns: NS_CSI })));

    // §4: no reply to either element. A stream starts active (§5) and the state is per stream; handling is
    // synchronous, so the queue is out before the next thing the client sent is processed (§6, RFC 6120 §10.1).
    m.hook('stream-element/' + NS_CSI + ':inactive', ({ session }: StreamElementEvent) => {
      let held = session.data.get(STATE) as HeldStanzas | undefined;
      if (!held) session.data.set(STATE, (held = new HeldStanzas()));
      held.inactive = true;
      return true;
    });
    m.hook('stream-element/' + NS_CSI + ':active', ({ session }: StreamElementEvent) => {
      const held = session.data.get(STATE) as HeldStanzas | undefined;
      if (held) {
        held.inactive = false;
        held.flush(session);
      }
      return true;
    });

    // Low in the fold, so that handlers that change a stanza see it before it is held.
    m.fold<Element | null, ToSessionEvent>(
      TO_SESSION,
      (stanza, { session }) => {
        if (stanza === null) return null;
        const held = session.data.get(STATE) as HeldStanzas | undefined;
        if (held === undefined || !held.inactive) return stanza;
        const key = holdKey(stanza, session.jid.bare);
        // Important, or the queue is full: what waited goes first, so the client sees everything in order.
        if (key === null || held.size >= maxBuffered) {
          held.flush(session);
          return stanza;
        }
        held.hold(stanza, key);
        return null;
      },
      -100,
    );

    // §5: a stream resumed with XEP-0198 starts active; the state is not carried over. When the connection drops,
    // what waited joins the stream management queue (sendDirect goes through its tap), and the session is active
    // again should the client come back. Before stream management (priority 0) decides whether to keep the session.
    m.hook(
      'session-interrupted',
      ({ session }: { session: Session }) => {
        const held = session.data.get(STATE) as HeldStanzas | undefined;
        if (held) {
          session.data.delete(STATE);
          held.flush(session);
        }
        return undefined;
      },
      10,
    );

    // Unloading lets go of everything held (the fold is gone, so nothing more would be).
    m.onUnload(() => {
      for (const session of m.server.sessions.all()) {
        if (session.host !== m.host.name) continue;
        const held = session.data.get(STATE) as HeldStanzas | undefined;
        if (!held) continue;
        session.data.delete(STATE);
        held.flush(session);
      }
    });
  },
});
