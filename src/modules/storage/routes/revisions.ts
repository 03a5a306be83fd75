// An item's history (Quire's item history, {urn:quire:history:0}max_revisions):
//   GET /storage/{jid}/{node}/{item}/revisions        the current revision, then the earlier ones, newest first
//   GET /storage/{jid}/{node}/{item}/revisions/{rev}  one of them, as GET of the item would give it
// Read as the item is read (the node's access model).
import type { FastifyInstance } from 'fastify';
import { xml } from '../../../core/xml/element.js';
import type { StorageApi } from '../api.js';
import { itemJson, itemXml, sendDocument, sendPayload, showsPublisher, viewOf } from '../representation.js';

type Params = { jid: string; node: string; item: string };

export function revisionRoutes(app: FastifyInstance, api: StorageApi): void {
  app.get<{ Params: Params }>('/storage/:jid/:node/:item/revisions', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'read');
    const node = await api.node(caller, target, request.params.node);
    const { item: id } = request.params;
    const { current, earlier } = await api.engine(caller, () => target.service.history(caller.jid, node.name, id));
    const withPublisher = showsPublisher(node, caller.jid?.bare);
    const url = (rev: string) => api.url(request, target.address.bare, node.name, id, 'revisions', rev);
    const all = [{ view: viewOf(current, id, withPublisher), current: true }, ...earlier.map((r) => ({ view: viewOf(r, id, withPublisher), current: false }))];
    reply.header('Cache-Control', caller.principal ? 'private, no-cache' : 'no-cache');
    return sendDocument(
      request,
      reply,
      () => ({
        service: target.address.bare,
        node: node.name,
        item: id,
        max_revisions: node.config.max_revisions,
        revisions: all.map(({ view, current: isCurrent }) => itemJson(view, { rev: view.rev, current: isCurrent, url: url(view.rev) })),
      }),
      () =>
        xml(
          'revisions',
          { service: target.address.bare, node: node.name, item: id, 'max-revisions': String(node.config.max_revisions) },
          all.map(({ view, current: isCurrent }) => itemXml(view, 'revision', { rev: view.rev, current: String(isCurrent), href: url(view.rev) })),
        ),
    );
  });

  app.get<{ Params: Params & { rev: string } }>('/storage/:jid/:node/:item/revisions/:rev', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'read');
    const node = await api.node(caller, target, request.params.node);
    const { item: id, rev } = request.params;
    const revision = await api.engine(caller, () => target.service.revision(caller.jid, node.name, id, rev));
    reply.header('Link', `<${api.url(request, target.address.bare, node.name, id)}>; rel="latest-version"`);
    return sendPayload(request, reply, viewOf(revision, id, showsPublisher(node, caller.jid?.bare)), caller.principal !== null);
  });
}
