// XEP-0442 Pubsub Message Archive Management: a node's items read with XEP-0313 queries (time bounds, publisher,
// RSM paging, counts), and searched with XEP-0431's {urn:xmpp:fulltext:0}fulltext field. Served on the pubsub
// service (pubsub.<host>) and on every account's PEP service (a query with a 'node' attribute to a bare JID; one
// without is the account's own message archive, the mam module's).
//
// Quire's item history is one more field, {urn:quire:history:0}item: the query then reads that item's earlier
// revisions and its current one, oldest first. Every result is named by its item and revision (node-archive.ts).
//
// Results are what a subscriber was notified of (§3): one item per message, in a pubsub#event <items/>, forwarded
// (XEP-0297) with the time it was published (XEP-0203). Only what the asker may read is answered: the node's access
// model decides, as for items retrieval (XEP-0060 §6.5).
import { randomUUID } from 'node:crypto';
import type { Host } from '../../core/host.js';
import { defineModule, type IqRequest, type ModuleContext } from '../../core/module-api.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';
import {
  ITEMS_STORE, NS_DELAY, NS_HISTORY, NS_PUBSUB_EVENT, PubSubError, pubsubError, pubsubErrorReply, type NodeArchive, type PubSubNode, type PubSubService,
} from '../../pubsub/index.js';
import { ArchiveQueryRunner, fin, type Page } from '../mam/archive.js';
import { NS_DATA_FORMS, NS_FULLTEXT, NS_RSM, formatDateTime, parseFilterForm, parseRsm, queryForm, type QueryCapabilities } from '../mam/query.js';
import { NS_FORWARD, NS_MAM } from '../mam/index.js';
import { pepService } from '../pep/index.js';
import { pubsubService } from '../pubsub/index.js';

/** The field that turns a query into one over an item's history (its ItemID). */
export const HISTORY_ITEM_FIELD = `{${NS_HISTORY}}item`;

interface NodeQuery {
  queryId?: string;
  node: string;
  /** The item whose history is read, instead of the node's items. */
  item?: string;
  filter: ReturnType<typeof parseFilterForm>;
  rsm: ReturnType<typeof parseRsm>;
  flip: boolean;
}

/** The node's query form (XEP-0313 §4.1.5): no include-groupchat (a node has no groupchat), the history field. */
function nodeQueryForm(fullText: boolean): Element {
  const form = queryForm(fullText);
  for (const field of form.getChildren('field')) if (field.attrs.var === 'include-groupchat') form.remove(field);
  form.append(xml('field', { type: 'text-single', var: HISTORY_ITEM_FIELD, label: 'ItemID whose revisions to read' }));
  return form;
}

function parseQuery(payload: Element, capabilities: QueryCapabilities): NodeQuery {
  const node = payload.attrs.node;
  if (node === undefined || node === '') throw pubsubError('bad-request', 'nodeid-required', { text: 'XEP-0442: name the node whose archive to query' });
  const forms = payload.getChildren('x', NS_DATA_FORMS);
  if (forms.length > 1) throw new StanzaError('bad-request', 'one query form at most');
  let form = forms[0];
  let item: string | undefined;
  if (form) {
    // The history field is Quire's; the rest is XEP-0313's form, read by the mam module's parser.
    form = form.clone();
    for (const field of form.getChildren('field', NS_DATA_FORMS)) {
      if (field.attrs.var !== HISTORY_ITEM_FIELD) continue;
      const values = field.getChildren('value', NS_DATA_FORMS).map((v) => v.text());
      if (values.length > 1) throw new StanzaError('bad-request', `the ${HISTORY_ITEM_FIELD} field takes one value`);
      if (values[0] !== undefined && values[0] !== '') item = values[0];
      form.remove(field);
    }
  }
  const filter = parseFilterForm(form, capabilities);
  // The archive's `with` is the publisher, a bare JID.
  if (filter.with) filter.with = filter.with.bareJid();
  return { queryId: payload.attrs.queryid, node, item, filter, rsm: parseRsm(payload.getChild('set', NS_RSM)), flip: payload.getChild('flip-page', NS_MAM) !== undefined };
}

export default defineModule({
  name: 'pubsub_mam',
  spec: 'XEP-0442',
  description: 'Pubsub Message Archive Management: the items of PubSub and PEP nodes (and their history) queried, paged and searched with MAM (XEP-0313, XEP-0431)',
  after: ['pubsub', 'pep'],
  setup(m) {
    const host: Host = m.host;
    const server = m.server;
    const fullText = m.archive(ITEMS_STORE).textSearch;

    /** §4: the query; the results go out as messages before the IQ result that ends them. */
    async function answer(request: IqRequest, service: PubSubService): Promise<Element | { reply: Element }> {
      try {
        const { maxPageSize } = service.env.limits;
        const query = parseQuery(request.payload, { maxIds: maxPageSize, fullText });
        const { node, archive } = query.item === undefined
          ? await service.nodeArchive(request.from, query.node)
          : await service.itemHistoryArchive(request.from, query.node, query.item);
        // A node that does not show its items' publishers (itemreply) does not let them be tested one by one either.
        if (query.filter.with && node.config.itemreply !== 'publisher') throw new StanzaError('not-allowed', `node "${node.name}" does not show who published its items`);
        const page = await new ArchiveQueryRunner(archive, service.env.host, service.env.user).run(query.filter, query.rsm, maxPageSize);
        const send = request.origin ? (s: Element) => request.origin!.send(s) : (s: Element) => m.route(s);
        // §4.3.4 flip-page changes the order of sending only.
        for (const entry of query.flip ? [...page.items].reverse() : page.items) {
          send(resultMessage(request, service, node, archive, query.queryId, entry));
        }
        return fin(page, query.queryId);
      } catch (err) {
        if (err instanceof PubSubError) return { reply: pubsubErrorReply(request.stanza, err) };
        throw err;
      }
    }

    function offer(context: ModuleContext, to: 'host' | 'bare', resolve: (request: IqRequest) => Promise<PubSubService>): void {
      // A query to a bare JID without 'node' is the account's own archive (the mam module).
      const routing = to === 'bare' ? { to, priority: 10, accepts: (payload: Element) => payload.attrs.node !== undefined } : { to };
      context.iq('get', NS_MAM, 'query', async (request) => {
        await resolve(request);
        return xml('query', { xmlns: NS_MAM, node: request.payload.attrs.node }, nodeQueryForm(fullText));
      }, routing);
      context.iq('set', NS_MAM, 'query', async (request) => answer(request, await resolve(request)), routing);
    }

    // The pubsub service of this host, when the pubsub module runs one.
    for (const [domain, component] of server.components) {
      if (component.parent !== host) continue;
      const service = pubsubService(server, domain);
      const context = service && m.attach(domain);
      if (!context) continue;
      context.feature(NS_MAM);
      // after-id, before-id, ids and flip-page (XEP-0313 §7).
      context.feature(`${NS_MAM}#extended`);
      if (fullText) context.feature(NS_FULLTEXT);
      offer(context, 'host', () => pubsubService(server, domain)!);
    }

    // Every account's PEP service, when the pep module runs.
    if (host.modules.has('pep')) {
      m.accountFeature(NS_MAM);
      if (fullText) m.accountFeature(NS_FULLTEXT);
      offer(m, 'bare', async ({ from, to }) => {
        // XEP-0030 §3.1: an account that does not exist has no services.
        if (from.bare !== to.bare && !(await m.accounts.exists(host.name, to.local))) throw new StanzaError('service-unavailable');
        return pepService(server, host.name, to.local)!;
      });
    }
  },
});

/** §3: one item as its notification, forwarded with the time it was published. */
function resultMessage(request: IqRequest, service: PubSubService, node: PubSubNode, archive: NodeArchive, queryId: string | undefined, entry: Page['items'][number]): Element {
  const item = archive.itemOf(entry);
  const [itemElement] = service.itemElements({ node: node.name, items: [item] });
  const notification = xml(
    'message',
    { xmlns: 'jabber:client', from: request.to.bare },
    xml('event', { xmlns: NS_PUBSUB_EVENT }, xml('items', { node: node.name }, itemElement)),
  );
  const forwarded = xml('forwarded', { xmlns: NS_FORWARD }, xml('delay', { xmlns: NS_DELAY, stamp: formatDateTime(entry.when) }), notification);
  return xml('message', { to: request.from.full, from: request.to.bare, id: randomUUID() }, xml('result', { xmlns: NS_MAM, queryid: queryId, id: entry.id }, forwarded));
}
