// The stanza router: RFC 6120 §10 (server rules for processing XML stanzas).
// Every stanza, from a client or from a module, goes through route(): it finds the addressee's
// host and fires the event for the kind of address (host, bare or full JID). What happens then is
// the business of the handlers; the defaults (delivery.ts) implement RFC 6121 §8.
import type { Host, StanzaEvent } from './host.js';
import { tryParseJid, type Jid } from './jid/index.js';
import type { Server } from './server.js';
import type { Session } from './session.js';
import { errorReply, isErrorStanza } from './stanza.js';
import { broadcastOwnPresence } from './delivery.js';
import type { Element } from './xml/element.js';

export type AddressLevel = 'host' | 'bare' | 'full';

export function addressLevel(jid: Jid): AddressLevel {
  return jid.local === '' ? 'host' : jid.resource === '' ? 'bare' : 'full';
}

export class Router {
  constructor(private server: Server) {}

  /**
   * Routes a stanza. `origin` is the local client session it came from; its 'from' has already
   * been stamped with the session's full JID (RFC 6120 §8.1.2.1).
   */
  route(stanza: Element, origin: Session | null = null): void {
    const kind = stanza.name;
    const toAttr = stanza.attrs.to;
    let to: Jid | null;
    if (toAttr === undefined) {
      if (!origin) {
        this.server.log.warn({ stanza: stanza.toString() }, 'dropping a server stanza with no "to"');
        return;
      }
      // RFC 6120 §10.3: no 'to' means the user's own account (RFC 6121 §4.2.2 for presence: a broadcast).
      if (kind === 'presence') {
        broadcastOwnPresence(this.server.hosts.get(origin.host)!, origin, stanza);
        return;
      }
      // Made explicit so that replies come from the account's bare JID, which clients accept.
      to = origin.jid.bareJid();
      stanza.attrs.to = to.bare;
    } else {
      to = tryParseJid(toAttr);
      if (!to) {
        // RFC 6120 §8.3.3.8
        this.bounce(stanza, 'jid-malformed', `"${toAttr}" is not a valid JID`);
        return;
      }
    }

    const from = origin ? origin.jid : tryParseJid(stanza.attrs.from);
    if (!from) {
      this.server.log.warn({ stanza: stanza.toString() }, 'dropping a server stanza with no valid "from"');
      return;
    }
    const level = addressLevel(to);

    // Outbound hooks on the sender's host (Prosody's pre-*): carbons, blocking, privacy lists.
    if (origin) {
      const originHost = this.server.hosts.get(origin.host)!;
      const preName = 'pre-' + kind + '/' + level;
      if (originHost.events.has(preName) && originHost.events.fire(preName, { stanza, origin, from, to, host: originHost }) !== undefined) return;
    }

    const host = this.server.hostFor(to.domain);
    if (!host) {
      // No server-to-server connections yet: RFC 6120 §10.4.3.
      if (kind !== 'presence') this.bounce(stanza, 'remote-server-not-found', `${to.domain} is not served here and federation is not enabled`);
      return;
    }
    this.dispatch(host, { stanza, origin, from, to, host }, kind, level);
  }

  private dispatch(host: Host, event: StanzaEvent, kind: string, level: AddressLevel): void {
    const events = host.events;
    // One filter for everything addressed to a local account (blocking, privacy). A handler returns true to
    // drop the stanza (having answered it if needed), or a promise of that when it must load data first;
    // then the filters run again, and the handler answers from what it loaded.
    if (level !== 'host' && events.has('route/to-account')) {
      const verdict = events.fire('route/to-account', event);
      if (verdict === true) return;
      if (verdict instanceof Promise) {
        verdict.then(
          (drop) => {
            if (drop !== true) this.dispatch(host, event, kind, level);
          },
          (err: unknown) => this.server.log.error({ err }, 'route/to-account filter failed'),
        );
        return;
      }
    }
    this.deliver(host, event, kind, level);
  }

  private deliver(host: Host, event: StanzaEvent, kind: string, level: AddressLevel): void {
    const events = host.events;
    if (kind === 'iq') {
      const type = event.stanza.attrs.type;
      if ((type === 'get' || type === 'set') && level !== 'full') {
        // RFC 6120 §8.2.3: a get or set has exactly one payload element.
        const payload = event.stanza.firstElement();
        if (!payload || event.stanza.elements().length !== 1) {
          this.bounce(event.stanza, 'bad-request', 'an IQ get or set carries exactly one child element');
          return;
        }
        if (events.fire('iq-' + type + '/' + level + '/' + payload.ns + ':' + payload.localName, event) !== undefined) return;
      }
      events.fire('iq/' + level, event);
      return;
    }
    events.fire(kind + '/' + level, event);
  }

  /** Answers a stanza with an error, unless it is an error itself (RFC 6120 §8.3.1). */
  bounce(stanza: Element, ...args: Parameters<typeof errorReply> extends [Element, ...infer R] ? R : never): void {
    if (isErrorStanza(stanza)) return;
    const reply = errorReply(stanza, ...args);
    if (reply.attrs.to === undefined) return;
    // The error comes from the addressee's domain when the addressee is not a valid JID.
    if (reply.attrs.from !== undefined && !tryParseJid(reply.attrs.from)) delete reply.attrs.from;
    if (reply.attrs.from === undefined) {
      const sender = tryParseJid(reply.attrs.to);
      if (!sender) return;
      reply.attrs.from = sender.domain;
    }
    this.route(reply);
  }
}
