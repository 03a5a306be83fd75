// The Storage API's routes under /storage, registered once per server. Bodies: XML types as text (the HTTP stack's
// parser), JSON types as text too (this plugin's own parser: item bodies are stored as the client wrote them, and
// parsed only to be checked). Methods a path does not take get 405 with Allow.
import type { FastifyInstance } from 'fastify';
import { HttpError } from '../../../http/errors.js';
import type { StorageApi } from '../api.js';
import { JSON_BODY } from '../payloads.js';
import { eventRoutes } from './events.js';
import { itemRoutes } from './item.js';
import { nodeRoutes } from './node.js';
import { revisionRoutes } from './revisions.js';
import { serviceRoutes } from './service.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** 405 with Allow for the methods a path does not take (RFC 9110 §15.5.6). */
function methodNotAllowed(app: FastifyInstance, url: string, allowed: string[]): void {
  const others = METHODS.filter((m) => !allowed.includes(m));
  const allow = allowed.join(', ');
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
  methodNotAllowed(app, '/storage/:jid', ['GET', 'HEAD']);
  methodNotAllowed(app, '/storage/:jid/:node', ['GET', 'HEAD', 'POST', 'PUT', 'DELETE']);
  methodNotAllowed(app, '/storage/:jid/:node/events', ['GET']);
  methodNotAllowed(app, '/storage/:jid/:node/:item', ['GET', 'HEAD', 'PUT', 'DELETE']);
  methodNotAllowed(app, '/storage/:jid/:node/:item/revisions', ['GET', 'HEAD']);
  methodNotAllowed(app, '/storage/:jid/:node/:item/revisions/:rev', ['GET', 'HEAD']);
}
