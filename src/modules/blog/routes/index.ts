// The blog routes, registered once per server under /blog. One wildcard route per method: a path names an account
// (/blog/{jid}/…) or a service and node (/blog/{service}/{node}/…), which fastify's parameters cannot tell apart,
// so path.ts reads it and this file sends it to the pages, AtomPub or Micropub.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../../http/errors.js';
import type { BlogContext } from '../context.js';
import { collection, createMember, member, serviceDocument } from './atompub.js';
import { micropub } from './micropub.js';
import { servePage } from './pages.js';
import { parseBlogPath } from './path.js';

function notAllowed(allow: string): HttpError {
  return new HttpError(405, 'method-not-allowed', `this address takes ${allow}`, { Allow: allow });
}

async function write(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const { ref, rest } = parseBlogPath(request);
  const [first, second, third, ...more] = rest;
  if (first === 'micropub' && rest.length === 1) return micropub(ctx, request, reply, ref);
  if (first === 'atompub' && second === 'entries' && !more.length) {
    if (third === undefined) {
      if (request.method === 'POST') return createMember(ctx, request, reply, ref);
      throw notAllowed('GET, HEAD, POST');
    }
    if (request.method !== 'POST') return member(ctx, request, reply, ref, third);
    throw notAllowed('GET, HEAD, PUT, DELETE');
  }
  throw notAllowed('GET, HEAD');
}

async function read(ctx: BlogContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  if (request.url.startsWith('/blog/') && request.url.split('?')[0] !== '/blog/style.css') {
    const { ref, rest } = parseBlogPath(request);
    const [first, second, third, ...more] = rest;
    if (first === 'micropub' && rest.length === 1) return micropub(ctx, request, reply, ref);
    if (first === 'atompub' && !more.length) {
      if (second === undefined) return serviceDocument(ctx, request, reply, ref);
      if (second === 'entries' && third === undefined) return collection(ctx, request, reply, ref);
      if (second === 'entries') return member(ctx, request, reply, ref, third!);
    }
  }
  return servePage(ctx, request, reply);
}

export function blogRoutes(app: FastifyInstance, ctx: BlogContext): void {
  // Micropub's form posts; JSON and XML bodies have the HTTP stack's parsers.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, body));
  app.get('/blog/*', (request, reply) => read(ctx, request, reply));
  for (const method of ['POST', 'PUT', 'DELETE'] as const) app.route({ method, url: '/blog/*', handler: (request, reply) => write(ctx, request, reply) });
}
