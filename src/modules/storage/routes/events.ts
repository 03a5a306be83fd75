// GET /storage/{jid}/{node}/events: the node's changes as Server-Sent Events. Access is checked as for reading the
// node; `Last-Event-ID` (the header EventSource sends when it reconnects, or ?last_event_id= for a first connection)
// replays what was missed from the change log, then live changes follow. Event types: created, published (item,
// etag, published, publisher when the node shows it), retracted (items), purged, configured, deleted (the stream
// then ends), and reload (the log no longer reaches back to the reader's id: fetch the node again).
import type { FastifyInstance } from 'fastify';
import type { StorageApi } from '../api.js';

type Params = { jid: string; node: string };

export function eventRoutes(app: FastifyInstance, api: StorageApi): void {
  app.get<{ Params: Params; Querystring: { last_event_id?: string } }>(
    '/storage/:jid/:node/events',
    // HEAD would run this handler and stream forever.
    { exposeHeadRoute: false },
    async (request, reply) => {
      const { caller, target } = await api.begin(request, request.params.jid, 'read');
      const node = await api.node(caller, target, request.params.node);
      await api.engine(caller, async () => {
        const denied = await target.service.checkAccess(node, caller.jid, 'retrieve');
        if (denied) throw denied;
      });
      const header = request.headers['last-event-id'];
      const lastEventId = (Array.isArray(header) ? header[0] : header)?.trim() || request.query.last_event_id || undefined;
      await api.feed.watch(reply, target, node.name, caller, request.ip, lastEventId);
      return reply;
    },
  );
}
