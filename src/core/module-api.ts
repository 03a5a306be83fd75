// defineModule() and the context a module gets. A module declares what it is and registers
// handlers; the core collects its disco features, validates its options and tears it down.
import type { AdHocCommand } from './adhoc.js';
import type { Handler, FoldHandler } from './events.js';
import type { Host, StanzaEvent } from './host.js';
import type { Jid } from './jid/index.js';
import type { Logger } from './logger.js';
import type { Session } from './session.js';
import { StanzaError, errorReply, iqResult } from './stanza.js';
import { Element } from './xml/element.js';
import { isTemporaryStorageError, type KeyValStore, type MapStore, type ArchiveStore } from './storage-api.js';
import type { Accounts } from './accounts.js';
import type { Server } from './server.js';

/** Anything with zod's parse(): the core does not import zod, the config layer validates with it. */
export interface OptionsSchema<O> {
  parse(input: unknown): O;
}

export interface ModuleDefinition<O = unknown> {
  /** The name used in the config's `modules` list. */
  name: string;
  /** The specification it implements, for docs and `quire check` ('XEP-0199'). */
  spec?: string;
  description?: string;
  options?: OptionsSchema<O>;
  /** Modules that must be enabled too (loaded first). */
  dependencies?: string[];
  /** Modules loaded first when they are enabled, whose services this one adds to (pubsub_mam after pubsub and pep). */
  after?: string[];
  setup(m: ModuleContext<O>): void | Promise<void>;
}

export function defineModule<O = Record<string, never>>(definition: ModuleDefinition<O>): ModuleDefinition<O> {
  return definition;
}

export interface IqRequest {
  stanza: Element;
  /** The first child element: what the IQ asks about. */
  payload: Element;
  from: Jid;
  /** The addressee; for a request with no 'to' from a client, the client's own bare JID (RFC 6120 §10.3.3). */
  to: Jid;
  origin: Session | null;
}

/** What an IQ handler returns: a payload for the result, nothing for an empty result, or a whole stanza. */
export type IqHandlerResult = Element | null | undefined | void | { reply: Element };
export type IqHandler = (request: IqRequest) => IqHandlerResult | Promise<IqHandlerResult>;

/** Where an IQ handler listens, and for which requests (ModuleContext.iq). */
export interface IqRouting {
  to?: 'host' | 'bare' | 'both';
  /** Takes only the requests whose payload passes; the others go on to handlers of lower priority. */
  accepts?: (payload: Element) => boolean;
  priority?: number;
}

export interface Identity {
  category: string;
  type: string;
  name?: string;
}

export class ModuleContext<O = unknown> {
  private cleanups: (() => void)[] = [];
  readonly log: Logger;

  constructor(
    readonly name: string,
    readonly host: Host,
    readonly options: O,
  ) {
    this.log = host.log.child({ module: name });
  }

  get server(): Server {
    return this.host.server;
  }

  get accounts(): Accounts {
    return this.host.server.accounts;
  }

  /** Advertises a disco feature on the host (XEP-0030). */
  feature(namespace: string): void {
    this.host.features.add(namespace);
    this.cleanups.push(() => this.host.features.delete(namespace));
  }

  /** Advertises a disco feature on every account's bare JID (PEP and the like). */
  accountFeature(namespace: string): void {
    this.host.accountFeatures.add(namespace);
    this.cleanups.push(() => this.host.accountFeatures.delete(namespace));
  }

  identity(category: string, type: string, name?: string): void {
    const identity = { category, type, name };
    this.host.identities.push(identity);
    this.cleanups.push(() => this.host.identities.splice(this.host.identities.indexOf(identity), 1));
  }

  /** Advertises an identity on every account's bare JID (XEP-0163 §6.1: pubsub/pep). */
  accountIdentity(category: string, type: string, name?: string): void {
    const identity = { category, type, name };
    this.host.accountIdentities.push(identity);
    this.cleanups.push(() => this.host.accountIdentities.splice(this.host.accountIdentities.indexOf(identity), 1));
  }

  /** Adds an XEP-0128 extended-info form to the host's disco#info. */
  discoExtension(build: () => Element): void {
    this.host.discoExtensions.push(build);
    this.cleanups.push(() => this.host.discoExtensions.splice(this.host.discoExtensions.indexOf(build), 1));
  }

  /**
   * Runs a service domain (pubsub.<host>) for this module: the returned context registers features and
   * handlers on that domain, is listed in the host's disco#items, and goes away with the module.
   */
  component(domain: string, name?: string): ModuleContext<O> {
    const componentHost = this.host.server.addComponent(domain, this.host);
    const context = new ModuleContext<O>(this.name, componentHost, this.options);
    this.discoItem(domain, name);
    this.cleanups.push(() => {
      context.unload();
      this.host.server.removeComponent(domain);
    });
    return context;
  }

  /** Lists a service in the host's disco#items. */
  discoItem(jid: string, name?: string, node?: string): void {
    const item = { jid, name, node };
    this.host.discoItems.push(item);
    this.cleanups.push(() => this.host.discoItems.splice(this.host.discoItems.indexOf(item), 1));
  }

  /**
   * Offers an XEP-0050 command on the host. The adhoc module serves it, so the calling module must declare
   * `dependencies: ['adhoc']`; the command goes away with the module.
   */
  command<S extends object>(definition: AdHocCommand<S>): void {
    if (!this.host.modules.has('adhoc')) throw new Error(`module "${this.name}" offers ad-hoc commands: add 'adhoc' to its dependencies`);
    if (this.host.commands.has(definition.node)) throw new Error(`the command node "${definition.node}" is taken (XEP-0050 §3.2: nodes are unique)`);
    this.host.commands.set(definition.node, definition);
    this.cleanups.push(() => this.host.commands.delete(definition.node));
  }

  hook<E = StanzaEvent>(event: string, handler: Handler<E>, priority = 0): void {
    this.cleanups.push(this.host.events.on(event, handler, priority));
  }

  fold<V, E>(event: string, handler: FoldHandler<V, E>, priority = 0): void {
    this.cleanups.push(this.host.events.fold(event, handler, priority));
  }

  /**
   * Answers IQs of one type for one payload (namespace + element name), addressed to the host,
   * to accounts' bare JIDs, or both. Thrown StanzaErrors become error replies.
   *
   * Two modules may answer the same payload for different requests (XEP-0313 on an account, XEP-0442 on one of its
   * PEP nodes): the one with `accepts` takes only the requests it accepts, ahead of the others by its `priority`.
   */
  iq(type: 'get' | 'set', namespace: string, element: string, handler: IqHandler, routing: 'host' | 'bare' | 'both' | IqRouting = 'host'): void {
    const { accepts, priority = 0, to: target = 'host' } = typeof routing === 'string' ? { to: routing } : routing;
    const listener = (event: StanzaEvent) => {
      if (accepts && !accepts(event.stanza.firstElement()!)) return undefined;
      this.answerIq(event, handler);
      return true;
    };
    const key = `iq-${type}/%s/${namespace}:${element}`;
    if (target !== 'bare') this.hook(key.replace('%s', 'host'), listener, priority);
    if (target !== 'host') this.hook(key.replace('%s', 'bare'), listener, priority);
  }

  /**
   * A context on a service domain another module of this host runs (pubsub.<host>), to add features and handlers
   * there; they go away with this module. Undefined when no such domain is served by this host.
   */
  attach(domain: string): ModuleContext<O> | undefined {
    const component = this.host.server.components.get(domain);
    if (!component || component.parent !== this.host) return undefined;
    const context = new ModuleContext<O>(this.name, component, this.options);
    this.cleanups.push(() => context.unload());
    return context;
  }

  private answerIq(event: StanzaEvent, handler: IqHandler): void {
    const { stanza } = event;
    const request: IqRequest = { stanza, payload: stanza.firstElement()!, from: event.from, to: event.to, origin: event.origin };
    const reply = (result: IqHandlerResult) => {
      if (result && !(result instanceof Element)) this.host.server.router.route(result.reply);
      else this.host.server.router.route(iqResult(stanza, result ?? null));
    };
    const fail = (err: unknown) => {
      if (!(err instanceof StanzaError)) this.log.error({ err, stanza: stanza.toString() }, 'IQ handler failed');
      // A storage outage is temporary: 'wait' tells the client to retry later (RFC 6120 §8.3.2).
      const error = err instanceof StanzaError ? err
        : new StanzaError('internal-server-error', undefined, isTemporaryStorageError(err) ? 'wait' : 'cancel');
      this.host.server.router.route(errorReply(stanza, error));
    };
    try {
      const result = handler(request);
      if (result instanceof Promise) result.then(reply, fail);
      else reply(result);
    } catch (err) {
      fail(err);
    }
  }

  /** Sends a stanza through the router, as the server would. */
  route(stanza: Element): void {
    this.host.server.router.route(stanza);
  }

  keyval(store: string): KeyValStore {
    return this.host.server.storage.keyval(store);
  }

  map(store: string): MapStore {
    return this.host.server.storage.map(store);
  }

  archive(store: string): ArchiveStore {
    return this.host.server.storage.archive(store);
  }

  /** Repeats fn every ms milliseconds until the module is unloaded. */
  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.cleanups.push(() => clearInterval(timer));
  }

  onUnload(fn: () => void): void {
    this.cleanups.push(fn);
  }

  unload(): void {
    for (const cleanup of this.cleanups.reverse()) cleanup();
    this.cleanups = [];
  }
}
