// What the {jid} of a Storage API path names: an account's bare JID (its PEP service, XEP-0163) or a service
// domain of this server (the pubsub service, XEP-0060). Each request finds its service here, so one set of routes
// serves every host, and a server with only one of the pep and pubsub modules serves what it has.
import { tryParseJid, type Jid } from '../../core/jid/index.js';
import type { Server } from '../../core/server.js';
import { HttpError } from '../../http/errors.js';
import type { PubSubService } from '../../pubsub/index.js';
import { pepService } from '../pep/index.js';
import { pubsubService } from '../pubsub/index.js';

export interface Target {
  service: PubSubService;
  kind: 'pep' | 'pubsub';
  /** The service's address: the account's bare JID, or the service domain. */
  address: Jid;
  /** The served host whose settings apply: the account's, or the one the service domain belongs to. */
  host: string;
}

function notFound(text: string): HttpError {
  return new HttpError(404, 'item-not-found', text);
}

/**
 * The service of a path's {jid}. `knownAccount` skips the account lookup when the requester is that account.
 * Unknown accounts are a 404, as they are over XMPP (service-unavailable, XEP-0030 §3.1): an account's existence is
 * no secret in XMPP, unlike the nodes it keeps to itself.
 */
export async function resolveTarget(server: Server, text: string, knownAccount?: string): Promise<Target> {
  const jid = tryParseJid(text);
  if (!jid || jid.resource !== '') throw notFound(`"${text}" is neither an account nor a service of this server`);
  if (jid.local !== '') {
    if (!server.hosts.has(jid.domain)) throw notFound(`${jid.domain} is not served here`);
    const service = pepService(server, jid.domain, jid.local);
    if (!service) throw notFound(`personal storage (PEP) is not enabled on ${jid.domain}`);
    if (knownAccount !== jid.bare && !(await server.accounts.exists(jid.domain, jid.local))) throw notFound(`there is no account ${jid.bare}`);
    return { service: await service, kind: 'pep', address: jid, host: jid.domain };
  }
  const component = server.components.get(jid.domain);
  const service = component ? pubsubService(server, jid.domain) : undefined;
  if (!component || !service) throw notFound(`${jid.domain} is not a storage service of this server`);
  return { service: await service, kind: 'pubsub', address: jid, host: component.parent?.name ?? jid.domain };
}
