// How every blog answer goes out: the security headers (a strict CSP, nosniff, referrer policy) on everything, a
// Content-Type with its charset, a strong ETag from the bytes and Last-Modified from the newest post shown, and
// 304 Not Modified for a client whose copy is current (RFC 9110 §13.2.2).
import type { FastifyReply, FastifyRequest } from 'fastify';
import { etagOf, isNotModified } from '../../publishing/http-cache.js';
import { securityHeaders } from '../../publishing/pages/csp.js';

export function withSecurityHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers(securityHeaders());
}

export interface Representation {
  body: string | Buffer;
  type: string;
  lastModified?: string;
  /** Extra headers (Content-Disposition for books). */
  headers?: Record<string, string>;
}

export function sendRepresentation(request: FastifyRequest, reply: FastifyReply, r: Representation): FastifyReply {
  const etag = etagOf(r.body);
  withSecurityHeaders(reply);
  // Readers revalidate each time: a post may change at any moment, and a 304 costs little.
  reply.header('Cache-Control', 'no-cache');
  reply.header('ETag', etag);
  if (r.lastModified) reply.header('Last-Modified', r.lastModified);
  if (r.headers) reply.headers(r.headers);
  if (isNotModified(request.headers, etag, r.lastModified)) return reply.code(304).send();
  return reply.code(200).type(r.type).send(r.body);
}
