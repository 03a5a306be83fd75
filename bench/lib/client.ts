// A raw-socket XMPP client for the load generator: stream negotiation (optional STARTTLS, SCRAM-SHA-1, resource
// binding), then stanzas as strings. Writes are batched per event-loop turn across all connections.
import net from 'node:net';
import tls from 'node:tls';
import { StanzaScanner, attr, innerAttr, innerText } from './scanner.js';
import { ScramSha1Client } from './scram.js';

export interface ClientOptions {
  host: string;
  port: number;
  domain: string;
  user: string;
  password: string;
  resource?: string;
  starttls: boolean;
  localAddress?: string;
  /** Ask for the roster before the initial presence (RFC 6121 §2.2, as a client with contacts does). */
  rosterGet?: boolean;
  /** Initial presence to send after binding; null sends none. */
  presence?: string | null;
  /** Features to answer disco#info queries with (XEP-0115 caps verification by the server). */
  discoFeatures?: string[];
  /** Whole-negotiation deadline. */
  timeoutMs: number;
}

const STREAM_HEADER = (domain: string) =>
  `<?xml version='1.0'?><stream:stream to='${domain}' version='1.0' xml:lang='en' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`;

// Output batching: one setImmediate per turn flushes every connection that has something to send.
const dirty = new Set<XmppClient>();
let flushScheduled = false;
function flushAll(): void {
  flushScheduled = false;
  for (const client of dirty) client.flush();
  dirty.clear();
}

type State = 'connecting' | 'features' | 'tls' | 'auth' | 'features2' | 'bind' | 'starting' | 'online' | 'closing' | 'closed';

let idCounter = 0;

export class XmppClient {
  private socket: net.Socket | tls.TLSSocket | null = null;
  private scanner: StanzaScanner;
  private out: string[] = [];
  private state: State = 'connecting';
  private scram: ScramSha1Client;
  private timer: NodeJS.Timeout | null = null;
  private resolveLogin: ((ms: number) => void) | null = null;
  private rejectLogin: ((err: Error) => void) | null = null;
  private startedAt = 0;
  private pingId = '';
  private tlsDone = false;
  /** Stanzas not used by negotiation: set by the scenario. */
  onStanza: ((text: string, client: XmppClient) => void) | null = null;
  onClose: ((client: XmppClient) => void) | null = null;
  /** The full JID the server bound. */
  jid = '';
  /** Free slot for the scenario (account index, etc.). */
  tag = 0;

  constructor(readonly opts: ClientOptions) {
    this.scram = new ScramSha1Client(opts.user, opts.password);
    this.scanner = new StanzaScanner({
      streamStart: () => {},
      stanza: (text) => this.onElement(text),
      streamEnd: () => this.fail(new Error('stream closed by server')),
    });
  }

  get online(): boolean {
    return this.state === 'online';
  }

  /** Negotiates and resolves with the login time in milliseconds once the initial presence was processed. */
  login(): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.resolveLogin = resolve;
      this.rejectLogin = reject;
      this.startedAt = performance.now();
      this.timer = setTimeout(() => this.fail(new Error(`login timed out in state ${this.state}`)), this.opts.timeoutMs);
      const socket = net.connect({ host: this.opts.host, port: this.opts.port, localAddress: this.opts.localAddress });
      socket.setNoDelay(true);
      this.attach(socket);
      socket.once('connect', () => {
        this.state = 'features';
        this.send(STREAM_HEADER(this.opts.domain));
      });
    });
  }

  private attach(socket: net.Socket | tls.TLSSocket): void {
    this.socket = socket;
    socket.on('data', (data: Buffer) => this.scanner.write(data.toString('latin1')));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => {
      if (this.state === 'tls' && !this.tlsDone) return; // the plain socket is being handed over to TLS
      const wasClosing = this.state === 'closing';
      this.state = 'closed';
      if (!wasClosing) this.fail(new Error('connection closed'));
      this.onClose?.(this);
    });
  }

  send(text: string): void {
    if (this.state === 'closed') return;
    this.out.push(text);
    dirty.add(this);
    if (!flushScheduled) {
      flushScheduled = true;
      setImmediate(flushAll);
    }
  }

  flush(): void {
    if (!this.out.length || !this.socket || this.socket.destroyed) return;
    const data = this.out.length === 1 ? this.out[0]! : this.out.join('');
    this.out = [];
    this.socket.write(data);
  }

  /** Sends unavailable presence and closes the stream (RFC 6120 §4.4), then the socket. */
  close(): void {
    if (this.state === 'closed' || this.state === 'closing') return;
    const wasOnline = this.state === 'online';
    this.state = 'closing';
    if (this.timer) clearTimeout(this.timer);
    if (wasOnline) this.out.push("<presence type='unavailable'/>");
    this.out.push('</stream:stream>');
    this.flush();
    const socket = this.socket;
    if (socket) {
      socket.end();
      // Bounded: a server that does not answer the closing tag loses the socket after a second.
      setTimeout(() => socket.destroy(), 1000).unref();
    }
  }

  destroy(): void {
    if (this.state === 'closed') return;
    this.state = 'closing';
    if (this.timer) clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private fail(err: Error): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.rejectLogin) {
      const reject = this.rejectLogin;
      this.rejectLogin = this.resolveLogin = null;
      reject(err);
    }
    if (this.state !== 'closed' && this.state !== 'closing') {
      this.state = 'closing';
      this.socket?.destroy();
    }
  }

  private onElement(text: string): void {
    const state = this.state;
    if (state === 'online' || state === 'closing') {
      if (text.startsWith('<iq') && this.answerIq(text)) return;
      this.onStanza?.(text, this);
      return;
    }
    if (text.startsWith('<stream:error') || text.startsWith('<error')) return this.fail(new Error(`stream error: ${text.slice(0, 300)}`));
    switch (state) {
      case 'features': {
        if (!text.startsWith('<stream:features')) return;
        if (this.opts.starttls && !this.tlsDone) {
          if (!text.includes('<starttls')) return this.fail(new Error('server offers no STARTTLS'));
          this.state = 'tls';
          this.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
          return;
        }
        if (!text.includes('>SCRAM-SHA-1<')) return this.fail(new Error(`server offers no SCRAM-SHA-1: ${text.slice(0, 400)}`));
        this.state = 'auth';
        this.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-1'>${this.scram.first()}</auth>`);
        return;
      }
      case 'tls': {
        if (!text.startsWith('<proceed')) return this.fail(new Error(`STARTTLS refused: ${text.slice(0, 200)}`));
        const plain = this.socket as net.Socket;
        plain.removeAllListeners('data');
        this.scanner.reset();
        const secure = tls.connect({ socket: plain, servername: this.opts.domain, rejectUnauthorized: false });
        secure.setNoDelay?.(true);
        this.tlsDone = true;
        plain.removeAllListeners('close');
        plain.removeAllListeners('error');
        plain.on('error', () => {});
        this.attach(secure);
        secure.once('secureConnect', () => {
          this.state = 'features';
          this.send(STREAM_HEADER(this.opts.domain));
        });
        return;
      }
      case 'auth': {
        if (text.startsWith('<challenge')) {
          try {
            this.send(`<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${this.scram.final(elementText(text))}</response>`);
          } catch (err) {
            this.fail(err as Error);
          }
          return;
        }
        if (text.startsWith('<success')) {
          if (!this.scram.verify(elementText(text))) return this.fail(new Error('server signature does not verify'));
          this.scanner.reset();
          this.state = 'features2';
          this.send(STREAM_HEADER(this.opts.domain));
          return;
        }
        return this.fail(new Error(`authentication failed for ${this.opts.user}: ${text.slice(0, 300)}`));
      }
      case 'features2': {
        if (!text.startsWith('<stream:features')) return;
        this.state = 'bind';
        const resource = this.opts.resource ?? 'bench';
        this.send(`<iq type='set' id='bind1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`);
        // RFC 3921 session establishment, only for a server that still requires it (no <optional/>).
        if (text.includes('urn:ietf:params:xml:ns:xmpp-session') && !sessionOptional(text)) this.send("<iq type='set' id='sess1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>");
        return;
      }
      case 'bind': {
        if (!text.startsWith('<iq')) return;
        const id = attr(text, 'id');
        if (id === 'sess1') return;
        if (id !== 'bind1') return;
        if (attr(text, 'type') !== 'result') return this.fail(new Error(`bind failed: ${text.slice(0, 300)}`));
        this.jid = innerText(text, 'jid') ?? '';
        this.state = 'starting';
        if (this.opts.rosterGet) this.send("<iq type='get' id='roster1'><query xmlns='jabber:iq:roster'/></iq>");
        const presence = this.opts.presence === undefined ? '<presence/>' : this.opts.presence;
        if (presence) this.send(presence);
        // The server handles a stream's stanzas in order, so the ping's answer marks the presence as processed.
        this.pingId = 'lp' + (++idCounter).toString(36);
        this.send(`<iq type='get' id='${this.pingId}' to='${this.opts.domain}'><ping xmlns='urn:xmpp:ping'/></iq>`);
        return;
      }
      case 'starting': {
        if (text.startsWith('<iq') && attr(text, 'id') === this.pingId) {
          this.state = 'online';
          if (this.timer) clearTimeout(this.timer);
          this.timer = null;
          const resolve = this.resolveLogin;
          this.resolveLogin = this.rejectLogin = null;
          resolve?.(performance.now() - this.startedAt);
          return;
        }
        if (text.startsWith('<iq') && this.answerIq(text)) return;
        this.onStanza?.(text, this);
        return;
      }
      default:
        return;
    }
  }

  /** Answers IQ requests addressed to this client: disco#info for caps, an error for anything else. */
  private answerIq(text: string): boolean {
    const type = attr(text, 'type');
    if (type !== 'get' && type !== 'set') return false;
    const id = attr(text, 'id') ?? '';
    const from = attr(text, 'from');
    const to = from ? ` to='${from}'` : '';
    if (type === 'get' && text.includes('http://jabber.org/protocol/disco#info')) {
      const node = innerAttr(text, 'query', 'node');
      const features = (this.opts.discoFeatures ?? []).map((f) => `<feature var='${f}'/>`).join('');
      this.send(
        `<iq type='result' id='${id}'${to}><query xmlns='http://jabber.org/protocol/disco#info'${node ? ` node='${node}'` : ''}>` +
          `<identity category='client' type='bot' name='bench'/><feature var='http://jabber.org/protocol/disco#info'/>${features}</query></iq>`,
      );
      return true;
    }
    // RFC 6121 §2.1.6: a roster push is acknowledged with a result.
    if ((type === 'get' && text.includes('urn:xmpp:ping')) || (type === 'set' && text.includes('jabber:iq:roster'))) {
      this.send(`<iq type='result' id='${id}'${to}/>`);
      return true;
    }
    this.send(`<iq type='error' id='${id}'${to}><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>`);
    return true;
  }

  /** Sends an IQ and resolves with the response stanza (bounded by timeoutMs). */
  iq(body: string, attrs: string, timeoutMs = 10_000): Promise<string> {
    const id = 'q' + (++idCounter).toString(36);
    return new Promise((resolve, reject) => {
      const previous = this.onStanza;
      const timer = setTimeout(() => {
        this.onStanza = previous;
        reject(new Error(`iq ${id} timed out`));
      }, timeoutMs);
      this.onStanza = (text, client) => {
        if (text.startsWith('<iq') && attr(text, 'id') === id) {
          clearTimeout(timer);
          this.onStanza = previous;
          resolve(text);
          return;
        }
        previous?.(text, client);
      };
      this.send(`<iq id='${id}' ${attrs}>${body}</iq>`);
    });
  }
}

/** The text content of a simple element such as <challenge>…</challenge>. */
function elementText(text: string): string {
  const gt = text.indexOf('>');
  if (text.charCodeAt(gt - 1) === 47) return '';
  const end = text.lastIndexOf('</');
  return text.slice(gt + 1, end).trim();
}

function sessionOptional(features: string): boolean {
  const at = features.indexOf('urn:ietf:params:xml:ns:xmpp-session');
  const close = features.indexOf('</session>', at);
  return close !== -1 && features.slice(at, close).includes('optional');
}

/** Round-robin source addresses on the loopback range, so that TIME_WAIT never exhausts one address's ports. */
let sourceIndex = 0;
export function nextSourceAddress(): string {
  sourceIndex = (sourceIndex % 8) + 1;
  return `127.0.0.${sourceIndex}`;
}
