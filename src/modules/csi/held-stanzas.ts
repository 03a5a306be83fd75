// XEP-0352 Client State Indication, the server's side of it (§1 leaves the optimisations to the server): what is
// "unimportant" to a client nobody is looking at, and the per-session queue that holds it until the client is active
// again or something important has to go out.
import type { Session } from '../../core/session.js';
import type { Element } from '../../core/xml/element.js';

export const NS_CSI = 'urn:xmpp:csi:0';

const NS_CARBONS = 'urn:xmpp:carbons:2';
const NS_FORWARD = 'urn:xmpp:forward:0';
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user';
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates';

/** Payloads that say nothing on their own: hints, ids, delay stamps. */
const HOUSEKEEPING = new Set(['urn:xmpp:hints', 'urn:xmpp:sid:0', 'urn:xmpp:delay', 'jabber:x:delay']);
/** Payloads that can wait: delivery receipts, chat markers, PubSub/PEP notifications (avatars, moods, tunes…). */
const CAN_WAIT = new Set(['urn:xmpp:receipts', NS_CHATSTATES, 'urn:xmpp:chat-markers:0', 'http://jabber.org/protocol/pubsub#event']);

/** A stanza from the account itself: its own presence, PEP, carbons, notes to self. */
function fromOwnAccount(from: string | undefined, bare: string): boolean {
  return from !== undefined && from.startsWith(bare) && (from.length === bare.length || from.charCodeAt(bare.length) === 47 /* '/' */);
}

/**
 * Whether a stanza can wait, and how: null when it is important (it goes out now, after whatever waited);
 * otherwise a key under which only the latest such stanza is kept ('' to keep every one).
 *
 * Important: IQs; presence other than updates (subscription requests and answers, errors); a room's presence about
 * the user's own occupant (status 110); messages of type error, with a body or subject or any payload not known to be
 * unimportant (encrypted messages, invitations); everything from the account itself except received carbons, which
 * are judged by the message they carry. Unimportant: presence updates (the latest per sender is kept), messages with
 * nothing but chat states (the latest per sender), receipts, markers and PubSub notifications.
 */
export function holdKey(stanza: Element, bare: string): string | null {
  const name = stanza.name;
  const from = stanza.attrs.from;
  if (name === 'presence') {
    const type = stanza.attrs.type;
    if (type !== undefined && type !== 'unavailable') return null;
    if (fromOwnAccount(from, bare)) return null;
    const mucUser = stanza.getChild('x', NS_MUC_USER);
    if (mucUser) for (const status of mucUser.getChildren('status', NS_MUC_USER)) if (status.attrs.code === '110') return null;
    return 'presence ' + (from ?? '');
  }
  if (name !== 'message' || stanza.attrs.type === 'error') return null;
  let message = stanza;
  let prefix = 'chatstate ';
  if (fromOwnAccount(from, bare)) {
    // XEP-0280: a <sent/> carbon says the user is busy on another device (a client may clear its notifications).
    const carried = stanza.getChild('received', NS_CARBONS)?.getChild('forwarded', NS_FORWARD)?.getChild('message');
    if (!carried) return null;
    message = carried;
    prefix = 'carbon chatstate ';
  }
  let chatState = false;
  let other = false;
  for (const child of message.children) {
    if (typeof child === 'string') continue;
    const ns = child.ns;
    if (ns === NS_CHATSTATES) chatState = true;
    else if (CAN_WAIT.has(ns)) other = true;
    else if (HOUSEKEEPING.has(ns) || (child.localName === 'thread' && ns === message.ns)) continue;
    // The marker a room puts on private messages, without an invitation or status codes in it.
    else if (ns === NS_MUC_USER && child.firstElement() === undefined) continue;
    else return null;
  }
  // Only the latest chat state of a conversation means anything by the time the user looks.
  return chatState && !other ? prefix + (message.attrs.from ?? '') : '';
}

/** The stanzas held back for one inactive session, in the order they were sent. */
export class HeldStanzas {
  inactive = false;
  /** Held stanzas in order; null where a later stanza with the same key replaced one. */
  private queue: (Element | null)[] = [];
  /** key -> index in queue of the stanza held under it. */
  private keys = new Map<string, number>();
  private live = 0;

  get size(): number {
    return this.live;
  }

  /** Holds a copy of the stanza (the caller may reuse the element); a stanza held under the same key goes. */
  hold(stanza: Element, key: string): void {
    if (key !== '') {
      const previous = this.keys.get(key);
      if (previous !== undefined) {
        this.queue[previous] = null;
        this.live--;
      }
      this.keys.set(key, this.queue.length);
    }
    this.queue.push(stanza.clone());
    this.live++;
    // Replaced entries leave holes; a sender that keeps changing presence must not grow the queue.
    if (this.queue.length > 64 && this.queue.length > 2 * this.live) this.compact();
  }

  /** Writes everything held, in order, past the 'stanza/to-session' fold, and empties the queue. */
  flush(session: Session): void {
    if (this.live === 0) return;
    const queue = this.queue;
    this.queue = [];
    this.keys.clear();
    this.live = 0;
    for (const stanza of queue) if (stanza !== null) session.sendDirect(stanza);
  }

  private compact(): void {
    const kept: (Element | null)[] = [];
    const index = new Map<number, number>();
    for (let i = 0; i < this.queue.length; i++) {
      const stanza = this.queue[i];
      if (stanza === null) continue;
      index.set(i, kept.length);
      kept.push(stanza);
    }
    for (const [key, at] of this.keys) this.keys.set(key, index.get(at)!);
    this.queue = kept;
  }
}
