// CORS (the Fetch standard's CORS protocol) for web applications on other origins: an allowed origin gets
// Access-Control-Allow-Origin on every answer (errors and event streams too), with the headers a client needs exposed,
// and preflight OPTIONS requests are answered with the methods a path takes and the request headers the API reads.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { vary } from '../negotiate.js';

const EXPOSED = 'ETag, Location, Link, Last-Modified, WWW-Authenticate, Retry-After';
const REQUEST_HEADERS = 'Authorization, Content-Type, If-Match, If-None-Match, Last-Event-ID';

export function cors(app: FastifyInstance, origins: string[]): (request: FastifyRequest, reply: FastifyReply, allow: string) => FastifyReply {
  const any = origins.includes('*');
  const allowed = new Set(origins);
  const allowOrigin = (request: FastifyRequest, reply: FastifyReply): boolean => {
    const origin = request.headers.origin;
    if (!origin || (!any && !allowed.has(origin))) return false;
    reply.header('Access-Control-Allow-Origin', any ? '*' : origin);
    if (!any) vary(reply, 'Origin');
    return true;
  };
  app.addHook('onRequest', async (request, reply) => {
    if (allowOrigin(request, reply)) reply.header('Access-Control-Expose-Headers', EXPOSED);
  });
  /** The answer to OPTIONS on a path: a preflight when it is one, else the methods it takes. */
  return (request, reply, allow) => {
    reply.header('Allow', allow);
    if (request.headers['access-control-request-method'] !== undefined && reply.hasHeader('Access-Control-Allow-Origin')) {
      reply.header('Access-Control-Allow-Methods', allow).header('Access-Control-Allow-Headers', REQUEST_HEADERS).header('Access-Control-Max-Age', '600');
    }
    return reply.code(204).send();
  };
}
