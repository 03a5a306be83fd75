// The running server: hosts, sessions, router, accounts and modules, with storage and logging
// injected (the core never imports a backend or a transport).
import { randomBytes } from 'node:crypto';
import { Accounts } from './accounts.js';
import { AppTokens } from './app-tokens.js';
import { installDefaultDelivery } from './delivery.js';
import { Host } from './host.js';
import type { Logger } from './logger.js';
import { ModuleContext, type ModuleDefinition } from './module-api.js';
import { Router } from './router.js';
import { Rosters } from './roster.js';
import { AuthThrottle } from './sasl/index.js';
import { SessionDirectory, type Session } from './session.js';
import type { StreamErrorCondition } from './stanza.js';
import type { StorageBackend } from './storage-api.js';
import type { Element } from './xml/element.js';

export interface ServerLimits {
  maxStanzaBytes: number;
  maxDepth: number;
  maxAttributes: number;
  /** Seconds a client has to finish stream negotiation (authenticate and bind). */
  connectionTimeout: number;
  maxSessionsPerAccount: number;
  /** Inbound bytes per second per connection, and the burst allowed above it. */
  bytesPerSecond: number;
  burstBytes: number;
  /** Outbound bytes a slow client may have queued before its stream is closed. */
  maxOutboundBuffer: number;
}

export interface ServerOptions {
  hosts: string[];
  limits: ServerLimits;
  /** Require TLS before SASL (RFC 6120 §5.3.1 mandatory-to-negotiate). */
  tlsRequired: boolean;
  /** Allow-list of SASL mechanism names; all supported when absent. */
  saslMechanisms?: string[];
  authThrottle: { maxFailures: number; windowMs: number };
  version: string;
}

/** Anything that can be told to close at shutdown: c2s streams, before and after binding. */
export interface Closable {
  close(condition?: StreamErrorCondition, text?: string): void;
  /** Resolves when the connection has flushed and closed. */
  readonly closed: Promise<void>;
  /** Frees what the connection can rebuild (parser buffers) if it has been quiet since `quietSince` (ms since the epoch). */
  hibernate?(quietSince: number): void;
}

/** Connections quiet for this long give back their parser's memory (StreamParser.hibernate). */
const HIBERNATE_AFTER_MS = 10_000;

export class ConfigurationError extends Error {}

export class Server {
  readonly hosts = new Map<string, Host>();
  /** Service domains run by modules (pubsub.<host>), by domain. */
  readonly components = new Map<string, Host>();
  readonly sessions = new SessionDirectory();
  readonly router = new Router(this);
  readonly accounts: Accounts;
  /** App tokens for the HTTP faces (Storage API, Publishing); an account's go when it is deleted. */
  readonly tokens: AppTokens;
  readonly rosters: Rosters;
  readonly connections = new Set<Closable>();
  readonly ipThrottle: AuthThrottle;
  readonly accountThrottle: AuthThrottle;
  private pendingIqs = new Map<string, { resolve: (stanza: Element) => void; timer: NodeJS.Timeout }>();
  private shuttingDown = false;
  private readonly hibernation: NodeJS.Timeout;

  constructor(
    readonly options: ServerOptions,
    readonly storage: StorageBackend,
    readonly log: Logger,
  ) {
    this.accounts = new Accounts(storage.accounts);
    this.tokens = new AppTokens(storage, this.accounts);
    this.rosters = new Rosters(storage);
    this.accounts.onDeleted = (host, user) => {
      this.rosters.forget(host, user);
      this.hosts.get(host)?.events.fire('account-deleted', { host: this.hosts.get(host), user });
      for (const session of this.sessions.resources(`${user}@${host}`)) session.close('not-authorized', 'account deleted');
    };
    const throttle = { maxFailures: options.authThrottle.maxFailures, windowMs: options.authThrottle.windowMs };
    this.ipThrottle = new AuthThrottle(throttle);
    this.accountThrottle = new AuthThrottle(throttle);
    this.hibernation = setInterval(() => {
      const quietSince = Date.now() - HIBERNATE_AFTER_MS;
      for (const connection of this.connections) connection.hibernate?.(quietSince);
    }, HIBERNATE_AFTER_MS / 2);
    this.hibernation.unref();
    for (const name of options.hosts) {
      const host = new Host(name, this, log);
      installDefaultDelivery(host);
      this.hosts.set(name, host);
    }
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** The local host or service domain serving a domain, if any. */
  hostFor(domain: string): Host | undefined {
    return this.hosts.get(domain) ?? this.components.get(domain);
  }

  /**
   * Serves a service domain (such as pubsub.example.org) inside this server: stanzas to it fire events on the
   * returned Host, which has no accounts and accepts no client streams. Returns the existing one if present.
   */
  addComponent(domain: string, parent: Host): Host {
    const existing = this.components.get(domain);
    if (existing) return existing;
    if (this.hosts.has(domain)) throw new ConfigurationError(`${domain} is both a host and a service domain`);
    const component = new Host(domain, this, this.log, parent);
    installDefaultDelivery(component);
    this.components.set(domain, component);
    return component;
  }

  removeComponent(domain: string): void {
    this.components.delete(domain);
  }

  /**
   * Loads modules on every host in dependency order. `enabled` maps each module name from the
   * config to its validated options; `available` is every module Quire ships.
   */
  async loadModules(available: Map<string, ModuleDefinition<unknown>>, enabled: Map<string, unknown>): Promise<void> {
    const order: ModuleDefinition<unknown>[] = [];
    const visit = (name: string, neededBy?: string) => {
      const definition = available.get(name);
      if (!definition) throw new ConfigurationError(`unknown module "${name}"`);
      if (!enabled.has(name)) throw new ConfigurationError(`module "${neededBy}" needs module "${name}": add "${name}" to modules`);
      if (order.includes(definition)) return;
      for (const dependency of definition.dependencies ?? []) visit(dependency, name);
      for (const earlier of definition.after ?? []) if (enabled.has(earlier)) visit(earlier, name);
      order.push(definition);
    };
    for (const name of enabled.keys()) visit(name);
    for (const host of this.hosts.values()) {
      for (const definition of order) {
        const context = new ModuleContext(definition.name, host, enabled.get(definition.name));
        await definition.setup(context);
        host.modules.set(definition.name, context as ModuleContext);
      }
    }
  }

  /** Registers a bound session; a session already bound to the same full JID is replaced (RFC 6120 §7.7.2.2). */
  addSession(session: Session): void {
    const replaced = this.sessions.get(session.jid);
    if (replaced) {
      // The old session ends first, as any session ends (unavailable presence, session-ended), then the new one starts.
      replaced.close('conflict', 'Replaced by a new session with the same resource');
      this.removeSession(replaced);
    }
    this.sessions.add(session);
    this.hosts.get(session.host)?.events.fire('session-started', { session, host: this.hosts.get(session.host) });
  }

  removeSession(session: Session): void {
    if (!this.sessions.remove(session)) return;
    const host = this.hosts.get(session.host);
    host?.events.fire('session-ended', { session, host });
  }

  /** Sends an IQ get/set from the server and resolves with the response (or null on timeout). */
  sendIq(stanza: Element, timeoutMs = 30_000): Promise<Element | null> {
    const id = stanza.attrs.id ?? randomBytes(8).toString('base64url');
    stanza.attrs.id = id;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pendingIqs.delete(id);
        resolve(null);
      }, timeoutMs);
      timer.unref();
      this.pendingIqs.set(id, { resolve, timer });
      this.router.route(stanza);
    });
  }

  /** Called for IQ results and errors addressed to the server. */
  resolveIq(response: Element): void {
    const id = response.attrs.id;
    const pending = id === undefined ? undefined : this.pendingIqs.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.pendingIqs.delete(id!);
    pending.resolve(response);
  }

  /** Closes every stream with system-shutdown (RFC 6120 §4.9.3.20), unloads modules, closes storage. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    clearInterval(this.hibernation);
    const closing = [...this.connections].map((c) => {
      c.close('system-shutdown', 'The server is shutting down');
      return c.closed;
    });
    await Promise.race([Promise.all(closing), new Promise((r) => setTimeout(r, 5000).unref())]);
    // Sessions without a connection (XEP-0198 hibernation) end too, while the modules that handle their end are loaded.
    for (const session of [...this.sessions.all()]) session.close('system-shutdown');
    for (const host of this.hosts.values()) for (const m of host.modules.values()) m.unload();
    await this.storage.close();
  }
}
