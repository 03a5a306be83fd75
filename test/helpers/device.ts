// One logged-in client (a user's device) that remembers everything it received, in order, for tests that read like
// a conversation across several devices: "Juliet sends …; Romeo's phone receives …, his laptop nothing".
//
// Absence is asserted after settle(): ping round trips. The server handles everything a stanza causes before it reads
// the next one, so once a device's ping is answered, whatever earlier stanzas caused for it is already in its log.
import assert from 'node:assert/strict';
import type { Element as Stanza } from '@xmpp/xml';
import { connectClient, nextStanza, xmppXml as xml, type TestServer, type XmppClient } from './server.js';

export class Device {
  /** Everything received, in order, including the answers to this device's own pings. */
  readonly log: Stanza[] = [];
  private serial = 0;
  private waiters: { from: number; match: (s: Stanza) => boolean; resolve: (s: Stanza) => void }[] = [];

  private constructor(
    readonly user: string,
    readonly client: XmppClient,
  ) {
    client.on('stanza', (stanza) => {
      this.log.push(stanza);
      const index = this.log.length - 1;
      this.waiters = this.waiters.filter((w) => {
        if (index < w.from || !w.match(stanza)) return true;
        w.resolve(stanza);
        return false;
      });
    });
  }

  static async login(server: TestServer, user: string, resource: string): Promise<Device> {
    return new Device(user, await connectClient(server, user, undefined, resource));
  }

  get bare(): string {
    return `${this.user}@localhost`;
  }

  get full(): string {
    return this.client.jid!.toString();
  }

  send(stanza: Stanza): Promise<void> {
    return this.client.send(stanza);
  }

  /** Sends available presence and waits for the server's echo (RFC 6121 §4.2.2). */
  async available(...children: Stanza[]): Promise<void> {
    const echoed = nextStanza(this.client, (s) => s.is('presence') && s.attrs.from === this.full && s.attrs.type === undefined);
    await this.send(xml('presence', {}, ...children));
    await echoed;
  }

  /** Sends an IQ and resolves with the answer (result or error) that carries its id. */
  async iq(type: 'get' | 'set', payload: Stanza, to?: string): Promise<Stanza> {
    const id = this.ownId();
    const answer = nextStanza(this.client, (s) => s.is('iq') && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
    await this.client.send(xml('iq', { type, id, to }, payload));
    return answer;
  }

  async ping(): Promise<void> {
    const answer = await this.iq('get', xml('ping', { xmlns: 'urn:xmpp:ping' }), 'localhost');
    assert.equal(answer.attrs.type, 'result');
  }

  /** Two ping round trips: everything the stanzas this device sent before caused has happened. */
  async settle(): Promise<void> {
    await this.ping();
    await this.ping();
  }

  /** A fresh id for a stanza this device sends; answers to ids made here are left out of heard(). */
  ownId(): string {
    return `${this.user}-${this.client.jid?.resource}-${++this.serial}`;
  }

  mark(): number {
    return this.log.length;
  }

  /** What arrived since mark, apart from the answers to this device's own IQs (the pings of settle()). */
  heard(mark: number): Stanza[] {
    const own = `${this.user}-${this.client.jid?.resource}-`;
    return this.log.slice(mark).filter((s) => !(s.is('iq') && (s.attrs.type === 'result' || s.attrs.type === 'error') && (s.attrs.id ?? '').startsWith(own)));
  }

  /** The first stanza since mark that matches: already received, or the next one to come. */
  next(mark: number, match: (s: Stanza) => boolean): Promise<Stanza> {
    for (let i = mark; i < this.log.length; i++) if (match(this.log[i])) return Promise.resolve(this.log[i]);
    return new Promise((resolve) => this.waiters.push({ from: mark, match, resolve }));
  }

  async stop(): Promise<void> {
    await this.client.stop().catch(() => {});
  }
}
