// A client-to-server stream: RFC 6120 §4 (streams), §5 (STARTTLS), §6 (SASL), §7 (resource binding).
// Transport-agnostic: a transport gives it a Connection, feeds it bytes and tells it when the
// connection is gone. Once a resource is bound it becomes a Session the router delivers to.
import { randomBytes } from 'node:crypto';
import type { Host } from '../host.js';
import { makeJid, prepLocalpart, prepResource, tryParseJid, type Jid, type JidError } from '../jid/index.js';
import type { Logger } from '../logger.js';
import { availableMechanisms, createMechanism, decodeSaslPayload, type ChannelBindingType, type SaslContext, type SaslMechanism, type SaslStep } from '../sasl/index.js';
import type { Closable, Server } from '../server.js';
import type { EventBus } from '../events.js';
import { TO_SESSION, type Session, type ToSessionEvent } from '../session.js';
import { NS, StanzaError, errorReply, iqResult, streamErrorElement, type StreamErrorCondition } from '../stanza.js';
import { StreamParser, type StreamErrorCondition as ParserErrorCondition } from '../xml/parser.js';
import { Element, serializeOpenTag, xml } from '../xml/element.js';

/** What a transport provides to a stream. */
export interface Connection {
  readonly remoteAddress: string;
  /** True once TLS is on (direct TLS, or after STARTTLS). */
  readonly secure: boolean;
  /** True when STARTTLS can be offered (plain TCP with a certificate configured). */
  readonly canStartTls: boolean;
  /** Bytes written but not yet handed to the kernel. */
  readonly bufferedBytes: number;
  write(data: string): void;
  /** Upgrades the connection in place (RFC 6120 §5.4.3.3); rejects if the handshake fails. */
  startTls(): Promise<void>;
  /** Flushes and closes; destroys after a grace period if the peer does not close. */
  end(): void;
  channelBinding(type: ChannelBindingType): Buffer | null;
  channelBindingTypes(): ChannelBindingType[];
}

/**
 * A nonza on a stream that has authenticated but not bound a resource, fired as
 * 'stream-element-unbound/<ns>:<name>' (XEP-0198 §5: <resume/> comes instead of resource binding).
 */
export interface UnboundElementEvent {
  stanza: Element;
  host: Host;
  /** The authenticated account (localpart). */
  username: string;
  /** Writes an element (a nonza) to this stream. */
  send(element: Element): void;
  /** Closes this stream, with a stream error when a condition is given. */
  close(condition?: StreamErrorCondition, text?: string): void;
  /**
   * Binds this stream to an existing session of the same account instead of a new resource (XEP-0198 §5). A stream
   * still carrying that session is closed with a 'conflict' stream error; the session itself goes on. False when
   * the session is not a live client session of this account on this host.
   */
  resume(session: Session): boolean;
}

/**
 * XEP-0198 counting, set on a ClientSession by the stream management module. Called on the hot path, so its
 * methods should do little more than count and queue.
 */
export interface StanzaTap {
  /** The client sent a stanza and the server took it (XEP-0198 §4: it counts towards 'h'). */
  inbound(): void;
  /**
   * A stanza for the client, serialized once. The tap takes over writing it (ClientSession.writeRaw), so that it
   * can queue it first and follow it with a request for acknowledgement; while the session hibernates it only queues.
   */
  outbound(data: string): void;
}

/** An IQ from a client that has not authenticated yet; replies go straight back on the stream. */
export interface UnauthenticatedIq {
  stanza: Element;
  host: Host;
  remoteAddress: string;
  secure: boolean;
  reply(stanza: Element): void;
}

type State = 'awaiting-header' | 'negotiating' | 'starting-tls' | 'bound' | 'closed';

/** RFC 6120 §6.4.5: a reasonable number of SASL retries on one stream before giving up: failed password checks… */
const MAX_AUTH_ATTEMPTS = 5;
/**
 * …and exchanges of any kind. Failures that never reached a password check (an unsupported channel binding,
 * the 'y' downgrade flag) count only here: clients without XEP-0440 try each -PLUS mechanism first, and must
 * still reach the mechanisms that work for them.
 */
const MAX_SASL_EXCHANGES = 15;
/** The stream error text for a client that stopped reading its replies. */
export const UNREAD_LIMIT_TEXT = 'too much unread data queued for this client';
/** Elements that may queue up while an asynchronous step (SASL, bind) is running. */
const MAX_PENDING_ELEMENTS = 64;

export class ClientStream implements Closable {
  private state: State = 'awaiting-header';
  private parser: StreamParser;
  private host: Host | null = null;
  private headerSent = false;
  private streamId = '';
  private username: string | null = null;
  private mechanism: SaslMechanism | null = null;
  private attemptedUser: string | null = null;
  /** When the client last sent anything (ms since the epoch), for keepalive pings. */
  lastReceived = Date.now();
  private authAttempts = 0;
  private saslExchanges = 0;
  private session: ClientSession | null = null;
  private negotiationTimer: NodeJS.Timeout | null;
  private busy = false;
  private pending: Element[] = [];
  private resolveClosed!: () => void;
  readonly closed = new Promise<void>((resolve) => (this.resolveClosed = resolve));

  constructor(
    private server: Server,
    private connection: Connection,
  ) {
    const limits = server.options.limits;
    this.parser = new StreamParser(
      {
        streamStart: (name, attrs, ns) => this.onStreamStart(name, attrs, ns),
        stanza: (element) => this.onElement(element),
        streamEnd: () => this.onStreamEnd(),
        error: (condition, text) => this.onParseError(condition, text),
      },
      { maxStanzaBytes: limits.maxStanzaBytes, maxDepth: limits.maxDepth, maxAttributes: limits.maxAttributes },
    );
    this.negotiationTimer = setTimeout(() => this.close('connection-timeout', 'Stream negotiation took too long'), limits.connectionTimeout * 1000);
    this.negotiationTimer.unref();
    server.connections.add(this);
  }

  /**
   * A logger with this stream's address, account and resource. Made when something is logged rather than kept:
   * three child loggers per connection cost more memory than an idle session needs otherwise.
   */
  private get log(): Logger {
    const bindings: Record<string, string> = { remote: this.connection.remoteAddress };
    if (this.username !== null) bindings.user = `${this.username}@${this.host!.name}`;
    if (this.session) bindings.resource = this.session.jid.resource;
    return this.server.log.child(bindings);
  }

  /** Frees the XML parser's buffers if the client has been quiet since `quietSince` (ms since the epoch). */
  hibernate(quietSince: number): void {
    if (this.lastReceived <= quietSince) this.parser.hibernate();
  }

  /** Bytes from the transport. */
  receive(chunk: Buffer): void {
    if (this.state === 'closed' || this.state === 'starting-tls') return;
    this.lastReceived = Date.now();
    this.parser.write(chunk);
  }

  /** The transport lost the connection. */
  disconnected(): void {
    // XEP-0198 §6: a connection lost without </stream:stream> (and without a stream error from us) is an
    // unfinished stream, whose session a module may keep for resumption.
    const unfinished = this.state !== 'closed';
    if (this.negotiationTimer) clearTimeout(this.negotiationTimer);
    this.negotiationTimer = null;
    this.state = 'closed';
    this.parser.close();
    this.server.connections.delete(this);
    const session = this.session;
    this.session = null;
    if (session) {
      // A handler that returns a value keeps the session in the directory, without a connection ("hibernating"):
      // it then owns its end (session.close()) unless a new stream resumes it.
      const host = this.host!;
      if (unfinished && host.events.fire('session-interrupted', { session, host }) !== undefined) session.detach();
      else this.server.removeSession(session);
    }
    this.resolveClosed();
  }

  /** Closes the stream, with a stream error (RFC 6120 §4.9) when a condition is given. */
  close(condition?: StreamErrorCondition, text?: string): void {
    if (this.state === 'closed') return;
    if (condition) {
      this.log.debug({ condition, text }, 'closing stream with an error');
      if (!this.headerSent) this.sendHeader(this.host?.name ?? this.server.options.hosts[0], undefined);
      this.connection.write(streamErrorElement(condition, text).toString());
    }
    this.connection.write('</stream:stream>');
    this.state = 'closed';
    this.parser.close();
    const session = this.session;
    this.session = null;
    if (session) this.server.removeSession(session);
    this.connection.end();
  }

  /** XEP-0198 §5: the session was resumed on another stream; this one lets go of it and closes with 'conflict'. */
  release(): void {
    this.session = null;
    this.close('conflict', 'The session was resumed on another stream');
  }

  private onParseError(condition: ParserErrorCondition, text: string): void {
    this.close(condition, text);
  }

  private onStreamEnd(): void {
    // RFC 6120 §4.4: answer the closing tag with ours, then close.
    this.close();
  }

  // RFC 6120 §4.7 and §4.9.1.2: the response header goes out before any stream error.
  private onStreamStart(name: string, attrs: Record<string, string>, ns: string): void {
    const toDomain = attrs.to !== undefined ? tryParseJid(attrs.to) : null;
    // Client streams are for the configured hosts only, not for service domains.
    const host = toDomain && toDomain.local === '' && toDomain.resource === '' ? this.server.hosts.get(toDomain.domain) : undefined;
    const from = attrs.from !== undefined ? tryParseJid(attrs.from) ?? undefined : undefined;
    this.sendHeader(host?.name ?? this.host?.name ?? this.server.options.hosts[0], from?.toString());
    if (ns !== NS.streams || name.slice(name.indexOf(':') + 1) !== 'stream') return this.close('invalid-namespace', `the stream element must be <stream xmlns="${NS.streams}">`);
    if (attrs.xmlns !== NS.client) return this.close('invalid-namespace', `the stream's default namespace must be ${NS.client}`);
    const version = attrs.version;
    if (version === undefined || !/^1\.\d+$/.test(version)) return this.close('unsupported-version', 'Quire speaks XMPP version 1.0 (RFC 6120)');
    if (!host) return this.close('host-unknown', attrs.to === undefined ? 'the stream header has no "to" address' : `${attrs.to} is not served here`);
    if (this.host && this.host !== host) return this.close('host-unknown', 'the host changed on stream restart');
    this.host = host;
    this.state = 'negotiating';
    this.sendFeatures();
  }

  private sendHeader(hostName: string, to: string | undefined): void {
    this.streamId = randomBytes(12).toString('base64url');
    const attrs: Record<string, string> = { xmlns: NS.client, 'xmlns:stream': NS.streams, id: this.streamId, from: hostName, version: '1.0', 'xml:lang': 'en' };
    if (to) attrs.to = to;
    this.connection.write("<?xml version='1.0'?>" + serializeOpenTag('stream:stream', attrs));
    this.headerSent = true;
  }

  private get tlsPending(): boolean {
    return !this.connection.secure && this.connection.canStartTls;
  }

  private sendFeatures(): void {
    const features = xml('stream:features');
    if (this.username === null) {
      const mustTls = this.server.options.tlsRequired && !this.connection.secure;
      if (this.tlsPending) features.append(xml('starttls', { xmlns: NS.tls }, mustTls ? xml('required') : null));
      if (!mustTls) {
        const mechanisms = availableMechanisms(this.saslContext(), this.server.options.saslMechanisms);
        features.append(xml('mechanisms', { xmlns: NS.sasl }, mechanisms.map((m) => xml('mechanism', {}, m))));
        // XEP-0440: which channel-binding types the -PLUS mechanisms can use here.
        const cbTypes = this.connection.channelBindingTypes();
        if (cbTypes.length) features.append(xml('sasl-channel-binding', { xmlns: NS.saslChannelBinding }, cbTypes.map((type) => xml('channel-binding', { type }))));
        this.host!.events.runFold('stream-features/unauthenticated', features, { host: this.host, secure: this.connection.secure });
      }
    } else {
      features.append(xml('bind', { xmlns: NS.bind }));
      // RFC 3921 sessions are obsolete, but old clients wait for the feature; <optional/> tells them to skip it.
      features.append(xml('session', { xmlns: NS.session }, xml('optional')));
      this.host!.events.runFold('stream-features/authenticated', features, { host: this.host, secure: this.connection.secure });
    }
    this.connection.write(features.toString());
  }

  private onElement(element: Element): void {
    if (this.busy) {
      if (this.pending.length >= MAX_PENDING_ELEMENTS) return this.close('policy-violation', 'too many stanzas sent before the previous step finished');
      this.pending.push(element);
      return;
    }
    this.handleElement(element);
  }

  /** Runs an asynchronous negotiation step; elements arriving meanwhile are handled after it, in order. */
  private async runExclusive(task: () => Promise<void>): Promise<void> {
    this.busy = true;
    try {
      await task();
    } catch (err) {
      this.log.error({ err }, 'stream negotiation step failed');
      this.close('internal-server-error');
    }
    this.busy = false;
    while (!this.busy && this.pending.length && this.state !== 'closed') this.handleElement(this.pending.shift()!);
  }

  private handleElement(element: Element): void {
    if (this.state === 'bound') return this.handleStanza(element);
    if (this.state !== 'negotiating') return;
    const ns = element.ns;
    const name = element.localName;
    if (ns === NS.tls && name === 'starttls') return this.onStartTls();
    if (this.server.options.tlsRequired && !this.connection.secure) {
      if (ns === NS.sasl && name === 'auth') return this.sendSaslFailure('encryption-required', 'Use STARTTLS first', false);
      return this.close('policy-violation', 'TLS is required: send <starttls/> first');
    }
    if (ns === NS.sasl && this.username === null) {
      if (name === 'auth') return void this.runExclusive(() => this.onAuth(element));
      if (name === 'response') return void this.runExclusive(() => this.onSaslResponse(element));
      if (name === 'abort') {
        this.mechanism = null;
        return this.sendSaslFailure('aborted');
      }
    }
    if (this.username !== null && element.name === 'iq' && element.ns === NS.client) {
      const payload = element.firstElement();
      if (payload?.ns === NS.bind && payload.localName === 'bind' && element.attrs.type === 'set') return void this.runExclusive(() => this.onBind(element, payload));
      if (payload?.ns === NS.session && payload.localName === 'session') return this.connection.write(iqResult(element).toString());
    }
    // Modules may answer a few IQs before authentication (XEP-0077 in-band registration).
    if (this.username === null && element.name === 'iq' && element.ns === NS.client) {
      const payload = element.firstElement();
      const event: UnauthenticatedIq = { stanza: element, host: this.host!, remoteAddress: this.connection.remoteAddress, secure: this.connection.secure, reply: (reply) => this.connection.write(reply.toString()) };
      if (payload && this.host!.events.fire('iq-unauthenticated/' + payload.ns + ':' + payload.localName, event) !== undefined) return;
    }
    // Nonzas after authentication and before binding: XEP-0198 <resume/> (and <enable/> sent too early).
    if (this.username !== null && ns !== NS.client) {
      const event: UnboundElementEvent = {
        stanza: element,
        host: this.host!,
        username: this.username,
        send: (reply) => this.connection.write(reply.toString()),
        close: (condition, text) => this.close(condition, text),
        resume: (session) => this.resumeSession(session),
      };
      if (this.host!.events.fire('stream-element-unbound/' + ns + ':' + name, event) !== undefined) return;
    }
    // RFC 6120 §4.9.3.12: nothing else before authentication and binding.
    this.close('not-authorized', 'authenticate and bind a resource first');
  }

  // RFC 6120 §5.4.2 / §5.4.3.3
  private onStartTls(): void {
    if (!this.tlsPending) {
      this.connection.write(xml('failure', { xmlns: NS.tls }).toString());
      return this.close();
    }
    this.connection.write(xml('proceed', { xmlns: NS.tls }).toString());
    this.state = 'starting-tls';
    this.parser.reset();
    this.connection.startTls().then(
      () => {
        if (this.state !== 'starting-tls') return;
        this.headerSent = false;
        this.state = 'awaiting-header';
      },
      (err: unknown) => {
        this.log.debug({ err }, 'TLS handshake failed');
        this.state = 'closed';
        this.connection.end();
      },
    );
  }

  private saslContext(): SaslContext {
    const host = this.host!;
    const accounts = this.server.accounts;
    return {
      getCredential: async (username, hash) => {
        // Remembered so that a failed attempt counts against the account too.
        this.attemptedUser = username;
        return (await accounts.get(host.name, username))?.credentials[hash] ?? null;
      },
      normalizeUsername: (authcid) => {
        try {
          return prepLocalpart(authcid);
        } catch {
          return null;
        }
      },
      secure: this.connection.secure,
      channelBinding: (type) => this.connection.channelBinding(type),
      channelBindingTypes: this.connection.channelBindingTypes(),
    };
  }

  private async onAuth(element: Element): Promise<void> {
    if (this.server.ipThrottle.isBlocked(this.connection.remoteAddress)) {
      return this.sendSaslFailure('temporary-auth-failure', 'Too many failed login attempts from your address; try again later', false);
    }
    const name = element.attrs.mechanism ?? '';
    this.attemptedUser = null;
    const mechanism = createMechanism(name, this.saslContext(), { enabled: this.server.options.saslMechanisms });
    if (!mechanism) return this.sendSaslFailure('invalid-mechanism', `${name || 'no mechanism'} is not offered here`, false);
    this.mechanism = mechanism;
    await this.saslStep(element);
  }

  private async onSaslResponse(element: Element): Promise<void> {
    if (!this.mechanism) return this.sendSaslFailure('malformed-request', 'no authentication exchange is in progress', false);
    await this.saslStep(element);
  }

  private async saslStep(element: Element): Promise<void> {
    // RFC 6120 §6.4.2: "=" is an empty response; no text at all is no initial response.
    let data = decodeSaslPayload(element.text().trim());
    if (data === 'invalid') return this.sendSaslFailure('incorrect-encoding', undefined, false);
    if (data === null && element.name === 'response') data = Buffer.alloc(0);
    const step: SaslStep = await this.mechanism!.step(data);
    if (this.state !== 'negotiating') return;
    if (step.kind === 'challenge') {
      this.connection.write(xml('challenge', { xmlns: NS.sasl }, step.data.toString('base64')).toString());
      return;
    }
    this.mechanism = null;
    if (step.kind === 'failure') {
      const checkedPassword = this.attemptedUser !== null;
      if (checkedPassword) {
        this.server.ipThrottle.recordFailure(this.connection.remoteAddress);
        this.server.accountThrottle.recordFailure(`${this.attemptedUser}@${this.host!.name}`);
      }
      return this.sendSaslFailure(step.condition, step.text, checkedPassword);
    }
    const host = this.host!;
    const accountKey = `${step.username}@${host.name}`;
    if (this.server.accountThrottle.isBlocked(accountKey)) {
      return this.sendSaslFailure('temporary-auth-failure', 'Too many failed login attempts for this account; try again later');
    }
    // RFC 6120 §6.3.8: an authzid other than the account itself is not supported.
    if (step.authzid !== null && step.authzid !== accountKey) return this.sendSaslFailure('invalid-authzid');
    this.server.ipThrottle.recordSuccess(this.connection.remoteAddress);
    this.server.accountThrottle.recordSuccess(accountKey);
    this.username = step.username;
    this.connection.write(xml('success', { xmlns: NS.sasl }, step.data && step.data.length ? step.data.toString('base64') : null).toString());
    // RFC 6120 §6.4.6: both sides restart the stream.
    this.parser.reset();
    this.headerSent = false;
    this.state = 'awaiting-header';
    this.log.info('authenticated');
  }

  private sendSaslFailure(condition: string, text?: string, checkedPassword = true): void {
    this.connection.write(xml('failure', { xmlns: NS.sasl }, xml(condition), text ? xml('text', { 'xml:lang': 'en' }, text) : null).toString());
    if (condition === 'aborted') return;
    if ((checkedPassword && ++this.authAttempts >= MAX_AUTH_ATTEMPTS) || ++this.saslExchanges >= MAX_SASL_EXCHANGES) this.close('policy-violation', 'Too many failed authentication attempts');
  }

  // RFC 6120 §7
  private async onBind(iq: Element, bind: Element): Promise<void> {
    const host = this.host!;
    const bare = `${this.username}@${host.name}`;
    const requested = bind.getChildText('resource', NS.bind)?.trim();
    let resource: string;
    if (requested) {
      try {
        resource = prepResource(requested);
      } catch (err) {
        // RFC 6120 §7.7.2.1: a resource that cannot be prepared is a bad-request.
        this.connection.write(errorReply(iq, 'bad-request', (err as JidError).message).toString());
        return;
      }
    } else {
      resource = 'quire-' + randomBytes(6).toString('base64url');
    }
    const existing = [...this.server.sessions.resources(bare)];
    const replacing = existing.some((s) => s.jid.resource === resource);
    if (!replacing && existing.length >= this.server.options.limits.maxSessionsPerAccount) {
      // RFC 6120 §7.6.2.1
      this.connection.write(errorReply(iq, new StanzaError('resource-constraint', `at most ${this.server.options.limits.maxSessionsPerAccount} sessions per account`)).toString());
      return;
    }
    const jid = makeJid(this.username!, host.name, resource);
    this.session = new ClientSession(this.server, this, jid, host.name, this.connection);
    this.state = 'bound';
    if (this.negotiationTimer) clearTimeout(this.negotiationTimer);
    this.negotiationTimer = null;
    this.connection.write(iqResult(iq, xml('bind', { xmlns: NS.bind }, xml('jid', {}, jid.full))).toString());
    this.server.addSession(this.session);
  }

  /** XEP-0198 §5: binds this authenticated stream to a session of the same account that a module kept. */
  private resumeSession(session: Session): boolean {
    if (!(session instanceof ClientSession) || this.state !== 'negotiating' || this.session) return false;
    if (session.host !== this.host!.name || session.jid.local !== this.username) return false;
    // An ended session is gone for good.
    if (this.server.sessions.get(session.jid) !== session) return false;
    session.attach(this, this.connection);
    this.session = session;
    this.state = 'bound';
    if (this.negotiationTimer) clearTimeout(this.negotiationTimer);
    this.negotiationTimer = null;
    this.log.info('session resumed');
    return true;
  }

  /** A stanza from a bound client (RFC 6120 §8). */
  private handleStanza(stanza: Element): void {
    const session = this.session!;
    const name = stanza.name;
    if (stanza.ns !== NS.client || (name !== 'message' && name !== 'presence' && name !== 'iq')) {
      const handled = this.host!.events.fire('stream-element/' + stanza.ns + ':' + stanza.localName, { stanza, session });
      if (handled === undefined) this.close('unsupported-stanza-type', `<${stanza.name}/> in ${stanza.ns || 'no namespace'} is not a stanza this server knows`);
      return;
    }
    session.tap?.inbound();
    // RFC 6120 §8.1.2.1: a 'from' must be the client's own JID, else invalid-from; then it is stamped.
    const from = stanza.attrs.from;
    if (from !== undefined && from !== session.jid.full) {
      const parsed = tryParseJid(from);
      if (!parsed || (!parsed.equals(session.jid) && !parsed.equals(session.jid.bareJid()))) return this.close('invalid-from', `"${from}" is not your address`);
    }
    stanza.attrs.from = session.jid.full;
    if (name === 'iq') {
      const type = stanza.attrs.type;
      // RFC 6120 §8.2.3: an IQ needs an id and one of four types.
      if (stanza.attrs.id === undefined || (type !== 'get' && type !== 'set' && type !== 'result' && type !== 'error')) {
        stanza.attrs.id ??= '';
        session.send(errorReply(stanza, 'bad-request', 'an IQ needs an id and a type of get, set, result or error'));
        return;
      }
    }
    this.server.router.route(stanza, session);
  }

  /** Writes serialized stanzas (or nonzas) to the client, unless the stream is closed or hopelessly behind. */
  write(data: string): void {
    if (this.state !== 'bound') return;
    if (this.connection.bufferedBytes > this.server.options.limits.maxOutboundBuffer) {
      return this.close('policy-violation', UNREAD_LIMIT_TEXT);
    }
    this.connection.write(data);
  }
}

/**
 * A bound resource: what the router and modules see. It normally lives as long as its stream; with XEP-0198 it can
 * outlive a lost connection (detach(): "hibernating", still in the session directory, stanzas only queued by its
 * tap) and move to a new stream (attach()).
 */
export class ClientSession implements Session {
  readonly id: string;
  priority = 0;
  presence: Element | null = null;
  readonly data = new Map<string, unknown>();
  /** XEP-0198: counts and queues the stanzas of this session; set by the stream management module. */
  tap: StanzaTap | null = null;
  /** True while the session has no connection (kept by a 'session-interrupted' handler). */
  hibernating = false;
  /** The host's events, for the 'stanza/to-session' fold, and the fold's event (made once, not per stanza). */
  private readonly events: EventBus;
  private readonly toSession: ToSessionEvent = { session: this };

  constructor(
    private server: Server,
    /** The stream carrying the session; while hibernating, the dead one (it drops writes). */
    private stream: ClientStream,
    readonly jid: Jid,
    readonly host: string,
    private connection: Connection,
  ) {
    this.id = randomBytes(9).toString('base64url');
    this.events = server.hosts.get(host)!.events;
  }

  get secure(): boolean {
    return this.connection.secure;
  }

  get remoteAddress(): string {
    return this.connection.remoteAddress;
  }

  get lastReceived(): number {
    return this.stream.lastReceived;
  }

  send(stanza: Element): void {
    // XEP-0352 CSI and the like may hold a stanza back; without a handler this costs one lookup.
    if (this.events.hasFold(TO_SESSION)) {
      const out = this.events.runFold<Element, ToSessionEvent>(TO_SESSION, stanza, this.toSession);
      if (out === null) return;
      stanza = out;
    }
    this.sendDirect(stanza);
  }

  sendDirect(stanza: Element): void {
    if (this.tap) this.tap.outbound(stanza.toString());
    else this.stream.write(stanza.toString());
  }

  /** Writes to the client as is, past the tap: nonzas, retransmitted stanzas. Dropped while hibernating. */
  writeRaw(data: string): void {
    if (!this.hibernating) this.stream.write(data);
  }

  close(condition?: StreamErrorCondition, text?: string): void {
    // Without a connection there is no stream to close: closing ends the session (unavailable presence and all).
    if (this.hibernating) this.server.removeSession(this);
    else this.stream.close(condition, text);
  }

  /** The connection is gone but the session stays (XEP-0198 §6). */
  detach(): void {
    this.hibernating = true;
  }

  /** Moves the session to a new stream; the stream that still carried it, if any, is closed (XEP-0198 §5). */
  attach(stream: ClientStream, connection: Connection): void {
    const previous = this.hibernating ? null : this.stream;
    this.stream = stream;
    this.connection = connection;
    this.hibernating = false;
    previous?.release();
  }
}
