// /storage/{jid}/{node}/{item}: an item is a document.
//   GET     its payload (JSON for a XEP-0335 container, else XML), ETag = its revision; If-None-Match gets 304
//   PUT     publish it under this id: 201 when new, 204 when it replaced one (the replaced revision goes to the
//           node's history); If-Match and If-None-Match: * make it conditional (412 when they do not hold)
//   DELETE  retract it (204), with its history; If-Match makes it conditional
// The same operations as XMPP publish and retract, as the authenticated account: notifications, access and publish
// models, max_items, max_payload_size and quotas apply alike.
import type { FastifyInstance } from 'fastify';
import type { StorageApi } from '../api.js';
import { etagOf, writeCondition } from '../conditions.js';
import { payloadOf } from '../payloads.js';
import { sendPayload, showsPublisher, viewOf } from '../representation.js';
import { HttpError } from '../../../http/errors.js';
import { creationForm } from './node.js';

type Params = { jid: string; node: string; item: string };

export function itemRoutes(app: FastifyInstance, api: StorageApi): void {
  app.get<{ Params: Params }>('/storage/:jid/:node/:item', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'read');
    const node = await api.node(caller, target, request.params.node);
    const { item: id } = request.params;
    const [found] = await api.engine(caller, () => target.service.items(caller.jid, node.name, { ids: [id] }));
    const item = found?.items[0];
    if (!item) throw new HttpError(404, 'item-not-found', `there is no item "${id}" in "${node.name}"`);
    reply.header('Link', `<${api.url(request, target.address.bare, node.name, id, 'revisions')}>; rel="version-history"`);
    return sendPayload(request, reply, viewOf(item, id, showsPublisher(node, caller.jid?.bare)), caller.principal !== null);
  });

  app.put<{ Params: Params }>('/storage/:jid/:node/:item', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'write');
    const { node: name, item: id } = request.params;
    await api.node(caller, target, name).catch((err: unknown) => {
      // A first item creates the node, as a publish over XMPP does (§7.1.4).
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    });
    const payload = payloadOf(request.headers['content-type'], request.body, api.server.options.limits);
    const condition = writeCondition(request);
    const result = await api.engine(caller, () =>
      target.service.publish(caller.jid!, name, { item: { id, payload, payloadCount: 1 }, items: 1, publishOptions: null, condition, createWith: creationForm(api, null) }, true),
    );
    const rev = result.item!.rev;
    reply.header('ETag', etagOf(rev));
    if (result.replaced) return reply.code(204).send();
    return reply.code(201).header('Location', api.url(request, target.address.bare, name, id)).send();
  });

  app.delete<{ Params: Params }>('/storage/:jid/:node/:item', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'write');
    const node = await api.node(caller, target, request.params.node);
    const condition = writeCondition(request);
    await api.engine(caller, () => target.service.retract(caller.jid!, node.name, [request.params.item], undefined, condition));
    return reply.code(204).send();
  });
}
