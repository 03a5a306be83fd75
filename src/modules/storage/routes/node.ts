// /storage/{jid}/{node}: a node is a collection of documents.
//   GET     its items, a page at a time (paging.ts); the owners also see its configuration
//   POST    a new item with an id the service makes up: 201 with Location and ETag
//   PUT     create the node (201), or configure it (204), with a JSON or data-form configuration
//   DELETE  delete the node (204): its items, revisions, subscriptions and change log go with it
import type { FastifyInstance } from 'fastify';
import { xml } from '../../../core/xml/element.js';
import { HttpError } from '../../../http/errors.js';
import { MAX_REVISIONS_FIELD, NS_NODE_CONFIG, configForm, type DataForm, type Item } from '../../../pubsub/index.js';
import type { StorageApi } from '../api.js';
import { etagOf } from '../conditions.js';
import { covers } from '../grants.js';
import { configurationJson, configurationOf } from '../node-config.js';
import { listingQuery, nextQuery, pageFor } from '../paging.js';
import { payloadOf } from '../payloads.js';
import { itemJson, itemXml, sendDocument, showsPublisher, viewOf } from '../representation.js';

type Params = { jid: string; node: string };

/** The configuration of a node created over HTTP: the request's, with the module's history default unless it says. */
export function creationForm(api: StorageApi, form: DataForm | null): DataForm {
  const out: DataForm = form ? { ...form, fields: [...form.fields] } : { type: 'submit', formType: NS_NODE_CONFIG, fields: [] };
  if (!out.fields.some((f) => f.var === MAX_REVISIONS_FIELD)) out.fields.push({ var: MAX_REVISIONS_FIELD, values: [String(api.options.default_max_revisions)] });
  return out;
}

export function nodeRoutes(app: FastifyInstance, api: StorageApi): void {
  app.get<{ Params: Params; Querystring: Record<string, string | string[] | undefined> }>('/storage/:jid/:node', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'read');
    const node = await api.node(caller, target, request.params.node);
    const { service } = target;
    const query = listingQuery(request.query, service.env.limits.maxPageSize);
    const requester = caller.jid?.bare;
    const owner = requester !== undefined && node.affiliationOf(requester) === 'owner';
    reply.header('Cache-Control', caller.principal ? 'private, no-cache' : 'no-cache');
    if (node.isCollection) {
      if (query.q !== undefined) throw new HttpError(400, 'bad-request', 'a collection holds no items to search: search its leaves');
      await api.engine(caller, async () => {
        const denied = await service.checkAccess(node, caller.jid, 'retrieve');
        if (denied) throw denied;
      });
      const children: { node: string; url: string }[] = [];
      const grant = caller.principal?.token;
      for (const child of service.childrenOf(node.name)) {
        if ((grant && !covers(grant, target, child.name)) || !(await service.visible(child, caller.jid))) continue;
        children.push({ node: child.name, url: api.url(request, target.address.bare, child.name) });
      }
      return sendDocument(
        request,
        reply,
        () => ({ service: target.address.bare, node: node.name, kind: 'collection', children }),
        () => xml('collection', { service: target.address.bare, node: node.name }, children.map((c) => xml('node', { name: c.node, href: c.url }))),
      );
    }
    // Taken before the items are read: a stream opened with it misses no change made after this read.
    const lastEventId = api.changeLog.now();
    let items: Item[];
    let page: { count?: number; complete: boolean } = { complete: true };
    if (query.q !== undefined && !service.searchable) throw new HttpError(501, 'not-implemented', 'this storage backend cannot search text');
    if (query.ids) {
      const ids = query.ids;
      const [found] = await api.engine(caller, () => service.items(caller.jid, node.name, { ids, text: query.q }));
      items = found?.items ?? [];
    } else {
      const { page: request_, reverse } = pageFor(query);
      const [found] = await api.engine(caller, async () => {
        try {
          // ?q= is a listing of the items whose text holds every word of it, paged the same way.
          return await service.items(caller.jid, node.name, { page: request_, text: query.q });
        } catch (err) {
          // XEP-0059 §2.6: a cursor that names no item; over HTTP, a bad query rather than a missing resource.
          if ((err as { condition?: string }).condition === 'item-not-found') throw new HttpError(400, 'bad-request', `no item "${query.after ?? query.before}" to page from`);
          throw err;
        }
      });
      items = found ? [...found.items] : [];
      if (reverse) items.reverse();
      page = { count: found?.page?.count, complete: found?.page?.complete ?? true };
    }
    const withPublisher = showsPublisher(node, requester);
    const views = items.map((i) => viewOf(i, i.id, withPublisher));
    const next = query.ids ? null : nextQuery(query, views.map((v) => v.id), page.complete);
    const nextUrl = next === null ? null : `${api.url(request, target.address.bare, node.name)}?${next}`;
    if (nextUrl) reply.header('Link', `<${nextUrl}>; rel="next"`);
    const config = owner ? configurationJson(configForm(node.config, service.env.limits, 'form')) : undefined;
    return sendDocument(
      request,
      reply,
      () => ({
        service: target.address.bare,
        node: node.name,
        order: query.order,
        items: views.map((v) => itemJson(v, { url: api.url(request, target.address.bare, node.name, v.id) })),
        count: page.count,
        complete: page.complete,
        next: nextUrl,
        lastEventId,
        ...(config && { config }),
      }),
      () =>
        xml(
          'items',
          { service: target.address.bare, node: node.name, order: query.order, count: page.count?.toString(), complete: String(page.complete), next: nextUrl ?? undefined, 'last-event-id': lastEventId },
          views.map((v) => itemXml(v, 'item', { href: api.url(request, target.address.bare, node.name, v.id) })),
        ),
    );
  });

  app.post<{ Params: Params }>('/storage/:jid/:node', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'write');
    const name = request.params.node;
    await api.node(caller, target, name).catch((err: unknown) => {
      // A first item creates the node, as a publish over XMPP does (§7.1.4).
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    });
    const payload = payloadOf(request.headers['content-type'], request.body, api.server.options.limits);
    const result = await api.engine(caller, () =>
      target.service.publish(caller.jid!, name, { item: { payload, payloadCount: 1 }, items: 1, publishOptions: null, createWith: creationForm(api, null) }, true),
    );
    const item = result.item!;
    const url = api.url(request, target.address.bare, name, item.id);
    reply.code(201).header('Location', url).header('ETag', etagOf(item.rev));
    return { id: item.id, etag: etagOf(item.rev), url };
  });

  app.put<{ Params: Params }>('/storage/:jid/:node', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'write');
    const name = request.params.node;
    const { service } = target;
    await api.node(caller, target, name).catch((err: unknown) => {
      if (!(err instanceof HttpError && err.status === 404)) throw err;
    });
    const form = configurationOf(request.headers['content-type'], request.body, api.knownFields(service), api.server.options.limits);
    const exists = service.nodes.has(name);
    // If-None-Match: * creates only; If-Match: * configures only (RFC 9110 §13.1).
    if (exists && request.headers['if-none-match']?.trim() === '*') throw new HttpError(412, 'precondition-failed', `node "${name}" exists already`);
    if (!exists && request.headers['if-match'] !== undefined) throw new HttpError(412, 'precondition-failed', `there is no node "${name}"`);
    if (!exists) {
      await api.engine(caller, () => service.createNode(caller.jid!, name, creationForm(api, form)));
      const url = api.url(request, target.address.bare, name);
      return reply.code(201).header('Location', url).send({ node: name, url });
    }
    if (form) await api.engine(caller, () => service.configure(caller.jid!, name, form));
    // Nothing to change is still a request only an owner may make (§8.2.3.2).
    else if (service.nodes.get(name)?.affiliationOf(caller.jid!.bare) !== 'owner') throw new HttpError(403, 'forbidden', `only an owner of "${name}" may configure it`);
    return reply.code(204).send();
  });

  app.delete<{ Params: Params }>('/storage/:jid/:node', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'write');
    const node = await api.node(caller, target, request.params.node);
    await api.engine(caller, () => target.service.deleteNode(caller.jid!, node.name));
    return reply.code(204).send();
  });
}
