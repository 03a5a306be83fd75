// Who makes a Storage API request and what it may do there. The account's password (Basic) may do whatever the
// account may do over XMPP; an app token (Bearer) acts as its account within its grant: 'read' allows GET (items, an
// item, its revisions, the event stream, the service overview), 'write' adds PUT, POST and DELETE and node
// management; a grant's node list (names on the account's own PEP service, or `service/node` for any service)
// restricts which nodes, an empty list meaning all. The engine then applies the node's own access rules to the
// account, exactly as it would over XMPP.
import type { FastifyRequest } from 'fastify';
import type { Jid } from '../../core/jid/index.js';
import { grantAllows, type AppTokenGrant } from '../../core/app-tokens.js';
import type { HttpPrincipal } from '../../http/auth.js';
import { HttpError } from '../../http/errors.js';
import type { HttpService } from '../../http/service.js';
import type { Target } from './targets.js';

export type Need = 'read' | 'write';

export interface Caller {
  principal: HttpPrincipal | null;
  /** The requester the engine sees: the account's bare JID, or null for an anonymous reader. */
  jid: Jid | null;
}

const REALM = 'Quire';

/** RFC 6750 §3.1: a token that may not do this. */
function insufficientScope(text: string): HttpError {
  return new HttpError(403, 'insufficient-scope', text, { 'WWW-Authenticate': `Bearer realm="${REALM}", error="insufficient_scope"` });
}

/**
 * The caller of a request. Writes need credentials; a token must be unexpired and, for writes, have write scope.
 * (The token store checks expiry too; checking here again costs nothing and keeps a stale grant from acting.)
 */
export async function callerOf(http: HttpService, request: FastifyRequest, need: Need): Promise<Caller> {
  const principal = need === 'write' ? await http.auth.require(request) : await http.auth.principal(request);
  const grant = principal?.token;
  if (grant) {
    if (grant.expiresAt !== null && grant.expiresAt <= Date.now()) {
      throw new HttpError(401, 'not-authorized', 'this app token has expired', { 'WWW-Authenticate': `Bearer realm="${REALM}", error="invalid_token", error_description="expired"` });
    }
    if (need === 'write' && grant.scope !== 'write') throw insufficientScope(`the app token "${grant.label}" may only read`);
  }
  return { principal, jid: principal?.jid ?? null };
}

/** Whether a grant's node list covers a node of a service (parsed as the token service parses it). */
export function covers(grant: AppTokenGrant, target: Target, node: string): boolean {
  return grantAllows(grant, { service: target.address.bare, node }, 'read');
}

/** Refuses a token that does not cover the node. */
export function checkNode(caller: Caller, target: Target, node: string): void {
  const grant = caller.principal?.token;
  if (grant && !covers(grant, target, node)) throw insufficientScope(`the app token "${grant.label}" does not cover node "${node}" of ${target.address.bare}`);
}
