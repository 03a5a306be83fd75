// The Storage API's routes under /storage, registered once per server. Bodies: XML types as text (the HTTP stack's
// parser), JSON types as text too (this plugin's own parser: item bodies are stored as the client wrote them, and
// parsed only to be checked). Methods a path does not take get 405 with Allow.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../../http/errors.js';
import type { StorageApi } from '../api.js';
import { JSON_BODY } from '../payloads.js';
import { cors } from './cors.js';
import { eventRoutes } from './events.js';
import { itemRoutes } from './item.js';
import { nodeRoutes } from './node.js';
import { revisionRoutes } from './revisions.js';
import { serviceRoutes } from './service.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'] as const;

type Options = (request: FastifyRequest, reply: FastifyReply, allow: string) => FastifyReply;

/** OPTIONS (and CORS preflight) for a path, and 405 with Allow for the methods it does not take (RFC 9110 §15.5.6). */
function otherMethods(app: FastifyInstance, url: string, allowed: string[], options: Options): void {
  const others = METHODS.filter((m) => !allowed.includes(m));
  const allow = [...allowed, 'OPTIONS'].join(', ');
  app.options(url, async (request, reply) => options(request, reply, allow));
  app.route({
    method: [...others],
    url,
    handler: async () => {
      throw new HttpError(405, 'method-not-allowed', `${url.replace(/:(\w+)/g, '{$1}')} takes ${allow}`, { Allow: allow });
    },
  });
}

export function storageRoutes(app: FastifyInstance, api: StorageApi): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(JSON_BODY, { parseAs: 'string' }, (_request, body, done) => done(null, body));
  const options = cors(app, api.options.cors_origins);
  // Event streams end when the server stops, so that closing the listeners does not wait for readers.
  app.addHook('preClose', (done) => {
    api.feed.closeAll();
    done();
  });
  serviceRoutes(app, api);
  nodeRoutes(app, api);
  itemRoutes(app, api);
  revisionRoutes(app, api);
  eventRoutes(app, api);
  otherMethods(app, '/storage/:jid', ['GET', 'HEAD'], options);
  otherMethods(app, '/storage/:jid/:node', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'], options);
  otherMethods(app, '/storage/:jid/:node/events', ['GET'], options);
  otherMethods(app, '/storage/:jid/:node/:item', ['GET', 'HEAD', 'PUT', 'DELETE'], options);
  otherMethods(app, '/storage/:jid/:node/:item/revisions', ['GET', 'HEAD'], options);
  otherMethods(app, '/storage/:jid/:node/:item/revisions/:rev', ['GET', 'HEAD'], options);
}
