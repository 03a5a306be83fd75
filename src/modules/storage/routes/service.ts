// GET /storage/{jid}: the service overview. The nodes the requester may see (as disco#items would list them, and
// within an app token's node list), and for the account itself what it stores and may store.
import type { FastifyInstance } from 'fastify';
import { xml } from '../../../core/xml/element.js';
import type { StorageApi } from '../api.js';
import { covers } from '../grants.js';
import { sendDocument } from '../representation.js';

export function serviceRoutes(app: FastifyInstance, api: StorageApi): void {
  app.get<{ Params: { jid: string } }>('/storage/:jid', async (request, reply) => {
    const { caller, target } = await api.begin(request, request.params.jid, 'read');
    const { service } = target;
    const grant = caller.principal?.token;
    const nodes: { node: string; title: string; type: string; kind: string; access_model: string; url: string }[] = [];
    for (const node of service.nodes.values()) {
      if (grant && !covers(grant, target, node.name)) continue;
      if (!(await service.visible(node, caller.jid))) continue;
      nodes.push({
        node: node.name,
        title: node.config.title,
        type: node.config.type,
        kind: node.config.node_type,
        access_model: node.config.access_model,
        url: api.url(request, target.address.bare, node.name),
      });
    }
    nodes.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
    // Usage is the account's business: shown to it (or to a token of its that is not limited to some nodes).
    const own = api.isAccountOf(caller.jid, target) && (!grant || grant.nodes.length === 0);
    const usage = own ? await service.usage() : undefined;
    const limits = own ? await api.quotas.limits(target.address.domain, target.address.local) : undefined;
    reply.header('Cache-Control', caller.principal ? 'private, no-cache' : 'no-cache');
    return sendDocument(
      request,
      reply,
      () => ({ service: target.address.bare, kind: target.kind, nodes, ...(usage && { usage, limits }) }),
      () =>
        xml(
          'service',
          { jid: target.address.bare, kind: target.kind },
          nodes.map((n) => xml('node', { name: n.node, title: n.title || undefined, type: n.type || undefined, kind: n.kind, 'access-model': n.access_model, href: n.url })),
          usage ? xml('usage', { items: String(usage.items), bytes: String(usage.bytes), revisions: String(usage.revisions) }) : null,
          limits ? xml('limits', { items: String(limits.items), bytes: String(limits.bytes) }) : null,
        ),
    );
  });
}
