// Event notifications (XEP-0060 §7.1.2.1, §7.2.2.1, §8.2.5.3, §8.4.2, §8.5.2, §12.6): the <event/> is built and
// serialized once per publication, and every recipient gets a small <message/> around that one element, so a
// fan-out to many subscribers costs one serialization of the payload, not one per subscriber.
import { Element, escapeAttr, escapeText, serialize, xml } from '../core/xml/element.js';
import { dateTime } from './config.js';

export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_SHIM = 'http://jabber.org/protocol/shim';
export const NS_DELAY = 'urn:xmpp:delay';

let counter = 0;
const prefix = Math.random().toString(36).slice(2, 8);

/** §7.1.2: a notification id unique within the service, for bounce tracking (§12.5). */
export function notificationId(): string {
  return `${prefix}-${(++counter).toString(36)}`;
}

/**
 * An <event/> shared by many notifications, serialized at most once. Modules on the delivery path see an
 * ordinary element (and may add children to the <message/>, as stanza-id does); only the event's text is reused.
 */
export class SharedEvent {
  private xmlText: string | undefined;
  constructor(readonly element: Element) {}
  get text(): string {
    if (this.xmlText === undefined) this.xmlText = serialize(this.element);
    return this.xmlText;
  }
}

/** A <message/> whose shared <event/> child is written from the cached text. */
export class NotificationMessage extends Element {
  constructor(
    attrs: Record<string, string>,
    private readonly shared: SharedEvent,
    extra: Element[] = [],
  ) {
    super('message', attrs, [], 'jabber:client');
    // Not append(): the shared event keeps its parent pointer at none of the many messages it is in.
    this.children.push(shared.element);
    for (const child of extra) this.append(child);
  }

  override toString(): string {
    let out = '<message';
    for (const key in this.attrs) out += ' ' + key + '="' + escapeAttr(this.attrs[key]) + '"';
    out += '>';
    for (const child of this.children) {
      if (child === this.shared.element) out += this.shared.text;
      else out += typeof child === 'string' ? escapeText(child) : serialize(child);
    }
    return out + '</message>';
  }
}

export function eventElement(...children: Element[]): Element {
  return xml('event', { xmlns: NS_PUBSUB_EVENT }, children);
}

/** §12.7 / XEP-0131 headers: SubIDs of a multiply-subscribed entity, and XEP-0248 §3.3 the collection. */
export function shimHeaders(subids: string[], collection?: string): Element | null {
  if (subids.length < 2 && collection === undefined) return null;
  const headers = xml('headers', { xmlns: NS_SHIM });
  if (collection !== undefined) headers.append(xml('header', { name: 'Collection' }, collection));
  if (subids.length >= 2) for (const subid of subids) headers.append(xml('header', { name: 'SubID' }, subid));
  return headers;
}

/** XEP-0203 delay stamp for a last published item sent later (§6.1.7). */
export function delayElement(from: string, when: number): Element {
  return xml('delay', { xmlns: NS_DELAY, from, stamp: dateTime(when) });
}
