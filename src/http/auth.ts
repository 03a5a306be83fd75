// Who is making an HTTP request: an account by its password (HTTP Basic, RFC 7617), an application by an app token
// (Bearer, RFC 6750: see src/core/app-tokens.ts), or nobody (anonymous reads of open data).
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { AppTokenGrant } from '../core/app-tokens.js';
import { makeJid, prepLocalpart, tryParseJid, type Jid } from '../core/jid/index.js';
import type { Server } from '../core/server.js';
import { HttpError } from './errors.js';

export interface HttpPrincipal {
  /** The account acting (bare JID). */
  jid: Jid;
  /** The token it acts through, or null for the account's own password. */
  token: AppTokenGrant | null;
}

const REALM = 'Quire';
const CHALLENGE = { 'WWW-Authenticate': `Basic realm="${REALM}", charset="UTF-8", Bearer realm="${REALM}"` };

/** Passwords already checked, so a script making many requests does not pay a PBKDF2 each time. */
const VERIFIED_TTL_MS = 5 * 60_000;
const MAX_VERIFIED = 10_000;

/** Loopback addresses, IPv4-mapped ones included. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || (isIP(a) === 4 && a.startsWith('127.'));
}

/** RFC 7617 §4 (and RFC 6749 §1.6 for tokens): credentials travel over TLS only, except on the machine itself. */
export function isSecure(request: FastifyRequest): boolean {
  return request.protocol === 'https' || isLoopback(request.socket.remoteAddress);
}

export class HttpAuthenticator {
  private verified = new Map<string, number>();

  constructor(private readonly server: Server) {}

  /**
   * The principal of a request, or null when it carries no credentials. Wrong or unusable credentials are a 401
   * (never silently anonymous); credentials over plain HTTP from another machine are a 403.
   */
  async principal(request: FastifyRequest): Promise<HttpPrincipal | null> {
    const header = request.headers.authorization;
    if (!header) return null;
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : header.slice(space + 1).trim();
    if (scheme !== 'basic' && scheme !== 'bearer') throw new HttpError(401, 'not-authorized', 'use Basic (account and password) or Bearer (an app token)', CHALLENGE);
    if (!isSecure(request)) throw new HttpError(403, 'encryption-required', 'credentials are accepted over HTTPS only');
    const remote = request.ip;
    const throttle = this.server.ipThrottle;
    if (throttle.isBlocked(remote)) throw new HttpError(429, 'too-many-attempts', 'too many failed logins; wait a minute', { 'Retry-After': '60' });
    const principal = scheme === 'basic' ? await this.basic(value) : await this.bearer(value);
    if (!principal) {
      throttle.recordFailure(remote);
      throw new HttpError(401, 'not-authorized', scheme === 'basic' ? 'wrong account or password' : 'unknown, revoked or expired token', CHALLENGE);
    }
    return principal;
  }

  /** Like principal(), but a request without credentials is a 401 too. */
  async require(request: FastifyRequest): Promise<HttpPrincipal> {
    const principal = await this.principal(request);
    if (!principal) throw new HttpError(401, 'not-authorized', 'this needs an account (Basic) or an app token (Bearer)', CHALLENGE);
    return principal;
  }

  private async basic(value: string): Promise<HttpPrincipal | null> {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon === -1) return null;
    const jid = this.accountJid(decoded.slice(0, colon));
    if (!jid) return null;
    const password = decoded.slice(colon + 1);
    const accountKey = jid.bare;
    if (this.server.accountThrottle.isBlocked(accountKey)) return null;
    const record = await this.server.accounts.get(jid.domain, jid.local);
    if (!record) return null;
    // Keyed by the stored credentials too: a changed password or a re-created account misses the cache.
    const key = createHash('sha256').update(jid.bare).update('\0').update(password).update('\0').update(JSON.stringify(record.credentials)).digest('base64');
    const until = this.verified.get(key);
    if (until !== undefined && until > Date.now()) return { jid, token: null };
    if (!(await this.server.accounts.checkPassword(jid.domain, jid.local, password))) {
      this.server.accountThrottle.recordFailure(accountKey);
      return null;
    }
    if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
    this.verified.set(key, Date.now() + VERIFIED_TTL_MS);
    return { jid, token: null };
  }

  /** `alice@example.org`, or `alice` when the server has one host. */
  private accountJid(name: string): Jid | null {
    try {
      if (name.includes('@')) {
        const jid = tryParseJid(name);
        return jid && jid.local !== '' && jid.resource === '' && this.server.hosts.has(jid.domain) ? jid : null;
      }
      const hosts = [...this.server.hosts.keys()];
      return hosts.length === 1 ? makeJid(prepLocalpart(name), hosts[0]!) : null;
    } catch {
      return null;
    }
  }

  /** An app token (src/core/app-tokens.ts): unknown, revoked and expired ones verify to nothing. */
  private async bearer(value: string): Promise<HttpPrincipal | null> {
    if (value === '') return null;
    const grant = await this.server.tokens.verify(value);
    if (!grant || !this.server.hosts.has(grant.host)) return null;
    return { jid: makeJid(grant.user, grant.host), token: grant };
  }
}
