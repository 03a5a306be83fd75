// Errors of Quire's HTTP APIs, with stable condition names (like XMPP's stanza error conditions), rendered as JSON
// or XML after the request's Accept header.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { xml } from '../core/xml/element.js';

export const NS_HTTP_ERROR = 'urn:quire:http:0';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** A stable name for programs: 'not-authorized', 'quota-exceeded', 'precondition-failed'… */
    readonly condition: string,
    text?: string,
    /** Extra response headers (WWW-Authenticate on 401, Allow on 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(text ?? condition);
  }
}

/** True when the client prefers XML to JSON (an Accept header naming an XML type before, or without, JSON). */
export function prefersXml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  const xmlAt = accept.search(/application\/(?:[\w.+-]+\+)?xml|text\/xml/);
  if (xmlAt === -1) return false;
  const jsonAt = accept.search(/application\/(?:[\w.+-]+\+)?json/);
  return jsonAt === -1 || xmlAt < jsonAt;
}

/** Sends an error: `{"error": condition, "text": …}`, or `<error xmlns='urn:quire:http:0' condition='…'>text</error>`. */
export function sendError(request: FastifyRequest, reply: FastifyReply, error: HttpError): FastifyReply {
  reply.code(error.status).headers(error.headers);
  if (prefersXml(request)) {
    return reply.type('application/xml; charset=utf-8').send(xml('error', { xmlns: NS_HTTP_ERROR, condition: error.condition }, error.message).toString());
  }
  return reply.type('application/json; charset=utf-8').send({ error: error.condition, text: error.message });
}
