// The Storage API of one server: what its routes share (the HTTP stack, the change log and feed, quotas, options),
// made once per server whatever the number of hosts, and the steps every route takes: who asks, which service, which
// node, and the engine's errors as HTTP errors.
import type { FastifyRequest } from 'fastify';
import type { Jid } from '../../core/jid/index.js';
import type { Logger } from '../../core/logger.js';
import type { Server } from '../../core/server.js';
import type { HttpService } from '../../http/service.js';
import { configForm, type PubSubNode, type PubSubService } from '../../pubsub/index.js';
import type { ChangeLog } from './change-log.js';
import type { ChangeFeed } from './feed.js';
import { callerOf, checkNode, type Caller, type Need } from './grants.js';
import { signInRequired, toHttpError } from './http-errors.js';
import type { StorageOptions } from './options.js';
import type { Quotas } from './quota.js';
import { resolveTarget, type Target } from './targets.js';

/** Path segments keep '@' and ':' as they are (RFC 3986 pchar), so JIDs and namespaced node names stay readable. */
export function segment(text: string): string {
  return encodeURIComponent(text).replace(/%40/g, '@').replace(/%3A/gi, ':');
}

export class StorageApi {
  private configFields = new WeakMap<PubSubService, ReadonlySet<string>>();

  constructor(
    readonly server: Server,
    readonly http: HttpService,
    readonly options: StorageOptions,
    readonly changeLog: ChangeLog,
    readonly feed: ChangeFeed,
    readonly quotas: Quotas,
    readonly log: Logger,
  ) {}

  /** Who asks (401/403 for bad or insufficient credentials) and which service the path names (404). */
  async begin(request: FastifyRequest, jid: string, need: Need): Promise<{ caller: Caller; target: Target }> {
    const caller = await callerOf(this.http, request, need);
    const target = await resolveTarget(this.server, jid, caller.jid?.bare);
    return { caller, target };
  }

  /**
   * The node a request is about, after the token's node list. An anonymous reader learns nothing of a node it may
   * not read, not even whether it exists (401 either way); others get what XMPP would say.
   */
  async node(caller: Caller, target: Target, name: string): Promise<PubSubNode> {
    checkNode(caller, target, name);
    const node = target.service.nodes.get(name);
    if (caller.jid === null && (!node || (await target.service.checkAccess(node, null, 'retrieve')) !== null)) throw signInRequired();
    try {
      return target.service.requireNode(name);
    } catch (err) {
      throw toHttpError(err, caller.jid === null);
    }
  }

  /** Runs an engine operation, its errors as HTTP errors. */
  async engine<T>(caller: Caller, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (err) {
      throw toHttpError(err, caller.jid === null);
    }
  }

  /** The absolute URL of a path under /storage. */
  url(request: FastifyRequest, ...segments: string[]): string {
    return `${this.http.baseUrl(request)}/storage/${segments.map(segment).join('/')}`;
  }

  /** The node configuration fields a service knows (JSON bodies may name only these). */
  knownFields(service: PubSubService): ReadonlySet<string> {
    let known = this.configFields.get(service);
    if (!known) {
      const { limits } = service.env;
      const names = [...configForm(service.env.defaults('leaf'), limits, 'form').fields, ...configForm(service.env.defaults('collection'), limits, 'form').fields].map((f) => f.var);
      this.configFields.set(service, (known = new Set(names)));
    }
    return known;
  }

  /** Whether the requester is the account whose PEP service this is (it sees its usage and limits). */
  isAccountOf(jid: Jid | null, target: Target): boolean {
    return jid !== null && target.kind === 'pep' && jid.bare === target.address.bare;
  }
}
