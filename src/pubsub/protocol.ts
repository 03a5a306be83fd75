// The XEP-0060 wire protocol, shared by the pubsub service and PEP: <pubsub/> requests in the pubsub and
// pubsub#owner namespaces become calls on a PubSubService, and its answers become the replies of §5–§8.
import type { Jid } from '../core/jid/index.js';
import type { IqHandler, IqRequest } from '../core/module-api.js';
import { StanzaError } from '../core/stanza.js';
import { Element, xml } from '../core/xml/element.js';
import type { Affiliation } from './access.js';
import { NS_PUBLISH_OPTIONS } from './config.js';
import { PubSubError, pubsubError, pubsubErrorReply, unsupported } from './errors.js';
import { NS_DATA, buildForm, findForm, parseForm, type DataForm } from '../core/data-forms.js';
import type { ItemsResult, PageRequest, PubSubService, Subscription } from './service.js';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const NS_COMMANDS = 'http://jabber.org/protocol/commands';
export const NODE_GET_PENDING = 'http://jabber.org/protocol/pubsub#get-pending';

/** `http://jabber.org/protocol/pubsub#<name>` (§10, §14.3). */
export const feature = (name: string) => `${NS_PUBSUB}#${name}`;

/** The §10 features both the service and PEP implement. */
export const COMMON_FEATURES = [
  'config-node',
  'config-node-max',
  'create-and-configure',
  'create-nodes',
  'delete-items',
  'delete-nodes',
  'instant-nodes',
  'item-ids',
  'last-published',
  'leased-subscription',
  'manage-subscriptions',
  'member-affiliation',
  'meta-data',
  'modify-affiliations',
  'multi-items',
  'multi-subscribe',
  'outcast-affiliation',
  'persistent-items',
  'presence-notifications',
  'publish',
  'publish-options',
  'publish-only-affiliation',
  'publisher-affiliation',
  'publish-node-full',
  'purge-nodes',
  'retract-items',
  'retrieve-affiliations',
  'retrieve-default',
  'retrieve-default-sub',
  'retrieve-items',
  'retrieve-subscriptions',
  'rsm',
  'subscribe',
  'subscription-options',
  'subscription-notifications',
  'auto-create',
  // XEP-0248 §3.1
  'collections',
  'multi-collections',
];

/** The one form in a wrapper (<configure/>, <options/>, <publish-options/>), or null. */
function formIn(wrapper: Element | undefined): DataForm | null {
  if (!wrapper) return null;
  const x = wrapper.getChild('x', NS_DATA);
  if (!x) return null;
  const form = parseForm(x);
  if (!form) throw pubsubError('bad-request', 'invalid-options', { text: 'not a valid data form' });
  return form;
}

function positiveInteger(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text.trim())) throw pubsubError('bad-request', undefined, { text: `${what} must be a non-negative integer` });
  return Number(text.trim());
}

/** XEP-0059 request in a <pubsub/> (§6.5.4). */
function pageRequest(pubsub: Element): PageRequest | undefined {
  const set = pubsub.getChild('set', NS_RSM);
  if (!set) return undefined;
  const page: PageRequest = {};
  page.max = positiveInteger(set.getChildText('max', NS_RSM), '<max/>');
  const after = set.getChild('after', NS_RSM);
  if (after) page.after = after.text();
  const before = set.getChild('before', NS_RSM);
  if (before) page.before = before.text();
  page.index = positiveInteger(set.getChildText('index', NS_RSM), '<index/>');
  return page;
}

function pageElement(page: NonNullable<ItemsResult['page']>): Element {
  const set = xml('set', { xmlns: NS_RSM });
  if (page.first !== undefined) set.append(xml('first', { index: page.firstIndex === undefined ? undefined : String(page.firstIndex) }, page.first));
  if (page.last !== undefined) set.append(xml('last', {}, page.last));
  set.append(xml('count', {}, String(page.count)));
  return set;
}

function subscriptionElement(sub: Subscription, withNode: boolean, state: string = sub.state): Element {
  return xml('subscription', { node: withNode ? sub.node : undefined, jid: sub.jid.full, subscription: state, subid: sub.subid });
}

/** The one request element of a <pubsub/> (the verbs of §19's schema; create, subscribe and publish take a companion). */
function verb(pubsub: Element): { action: Element; companion?: Element } {
  const children = pubsub.elements().filter((c) => !(c.localName === 'set' && c.ns === NS_RSM));
  if (children.length === 0) throw pubsubError('bad-request', undefined, { text: '<pubsub/> needs a request element' });
  const [action, companion, ...rest] = children;
  if (rest.length) throw pubsubError('bad-request', undefined, { text: 'one request per <pubsub/>' });
  if (companion) {
    const pairs: Record<string, string> = { create: 'configure', subscribe: 'options', publish: 'publish-options' };
    if (pairs[action.localName] !== companion.localName || companion.ns !== action.ns) {
      throw pubsubError('bad-request', undefined, { text: `<${companion.localName}/> cannot follow <${action.localName}/>` });
    }
  }
  return { action, companion };
}

const pubsubReply = (...children: Element[]) => xml('pubsub', { xmlns: NS_PUBSUB }, children);
const ownerReply = (...children: Element[]) => xml('pubsub', { xmlns: NS_PUBSUB_OWNER }, children);

export interface ProtocolOptions {
  /** §7.1.4: publishing to a missing node creates it. */
  autoCreate: boolean;
}

/** <pubsub xmlns='…pubsub'/> gets (§5.6, §5.7, §6.3, §6.4, §6.5). */
export async function pubsubGet(service: PubSubService, requester: Jid, pubsub: Element): Promise<Element> {
  const { action } = verb(pubsub);
  const node = action.attrs.node;
  switch (action.localName) {
    case 'items': {
      const ids = action.getChildren('item', NS_PUBSUB).map((i) => i.attrs.id).filter((id): id is string => id !== undefined);
      const maxItems = positiveInteger(action.attrs.max_items, 'max_items');
      const results = await service.items(requester, node, { ids: ids.length ? ids : undefined, maxItems, subid: action.attrs.subid, page: pageRequest(pubsub) });
      const reply = pubsubReply();
      for (const result of results) reply.append(xml('items', { node: result.node }, service.itemElements(result)));
      const page = results.length === 1 ? results[0].page : undefined;
      if (page) reply.append(pageElement(page));
      // XEP-0248 §4.2: a collection with no readable leaves answers an empty <items/> for itself.
      if (results.length === 0) reply.append(xml('items', { node }));
      return reply;
    }
    case 'subscriptions': {
      const subs = service.subscriptionsOfEntity(requester, node);
      return pubsubReply(xml('subscriptions', { node }, subs.map((s) => subscriptionElement(s, true))));
    }
    case 'affiliations': {
      const affiliations = service.affiliationsOfEntity(requester, node);
      return pubsubReply(xml('affiliations', { node }, affiliations.map((a) => xml('affiliation', { node: a.node, affiliation: a.affiliation }))));
    }
    case 'options': {
      const form = service.optionsForm(requester, node, action.attrs.jid, action.attrs.subid);
      return pubsubReply(xml('options', { node, jid: action.attrs.jid, subid: action.attrs.subid }, form));
    }
    case 'default':
      return pubsubReply(xml('default', { node }, service.defaultOptionsForm(node)));
    default:
      throw pubsubError('feature-not-implemented', undefined, { text: `<${action.localName}/> is not a pubsub get` });
  }
}

/** <pubsub xmlns='…pubsub'/> sets (§6.1, §6.2, §6.3, §7.1, §7.2, §8.1). */
export async function pubsubSet(service: PubSubService, requester: Jid, pubsub: Element, options: ProtocolOptions): Promise<Element | null> {
  const { action, companion } = verb(pubsub);
  const node = action.attrs.node;
  switch (action.localName) {
    case 'create': {
      // §8.1.3: <configure/> carries no node of its own.
      if (companion?.attrs.node !== undefined) throw pubsubError('bad-request', undefined, { text: '<configure/> after <create/> takes no node attribute' });
      const created = await service.createNode(requester, node, formIn(companion));
      return pubsubReply(xml('create', { node: created.name }));
    }
    case 'subscribe': {
      // §6.3.7: <options/> after <subscribe/> names neither node nor JID.
      if (companion && (companion.attrs.node !== undefined || companion.attrs.jid !== undefined)) {
        throw pubsubError('bad-request', undefined, { text: '<options/> after <subscribe/> takes no node or jid attribute' });
      }
      const form = formIn(companion);
      const { subscription } = await service.subscribe(requester, node, action.attrs.jid, form);
      const reply = pubsubReply(subscriptionElement(subscription, true));
      if (form) reply.append(xml('options', {}, service.subscriptionOptionsResult(subscription)));
      return reply;
    }
    case 'unsubscribe': {
      const sub = await service.unsubscribe(requester, node, action.attrs.jid, action.attrs.subid);
      return pubsubReply(subscriptionElement(sub, true, 'none'));
    }
    case 'options': {
      const form = formIn(action);
      if (!form) throw pubsubError('bad-request', 'invalid-options', { text: 'submit the options as a data form' });
      await service.setOptions(requester, node, action.attrs.jid, action.attrs.subid, form);
      return null;
    }
    case 'publish': {
      const items = action.getChildren('item', NS_PUBSUB);
      const item = items[0];
      let publishOptions: DataForm | null = null;
      if (companion) {
        publishOptions = formIn(companion);
        // §7.1.5: the form's FORM_TYPE is publish-options.
        if (publishOptions && publishOptions.formType !== NS_PUBLISH_OPTIONS) {
          throw pubsubError('bad-request', 'invalid-options', { text: `the publish-options form needs FORM_TYPE ${NS_PUBLISH_OPTIONS}` });
        }
      }
      const payloads = item ? item.elements() : [];
      // §19 schema: a payload is in a namespace of its own, not the pubsub one.
      if (payloads.some((p) => p.ns === NS_PUBSUB || p.ns === '')) throw pubsubError('bad-request', 'invalid-payload', { text: 'the payload needs a namespace of its own' });
      const result = await service.publish(
        requester,
        node,
        {
          item: item ? { id: item.attrs.id, payload: payloads[0] ?? null, payloadCount: payloads.length } : null,
          items: items.length,
          publishOptions,
        },
        options.autoCreate,
      );
      // §7.1.2: the ItemID, at least when the service made it up.
      const published = xml('publish', { node: result.node });
      const id = result.id ?? item?.attrs.id;
      if (id !== undefined) published.append(xml('item', { id }));
      return pubsubReply(published);
    }
    case 'retract': {
      const ids = action.getChildren('item', NS_PUBSUB).map((i) => i.attrs.id);
      const notifyAttr = action.attrs.notify;
      const notify = notifyAttr === undefined ? undefined : notifyAttr === 'true' || notifyAttr === '1';
      await service.retract(requester, node, ids, notify);
      return null;
    }
    default:
      throw pubsubError('feature-not-implemented', undefined, { text: `<${action.localName}/> is not a pubsub set` });
  }
}

/** <pubsub xmlns='…pubsub#owner'/> gets (§8.2, §8.3, §8.8.1, §8.9.1). */
export async function ownerGet(service: PubSubService, requester: Jid, pubsub: Element): Promise<Element> {
  const { action } = verb(pubsub);
  const node = action.attrs.node;
  switch (action.localName) {
    case 'configure':
      return ownerReply(xml('configure', { node }, await service.configurationForm(requester, node)));
    case 'default': {
      // §8.3: the leaf defaults unless a type is named.
      const type = action.attrs.type === 'collection' ? 'collection' : 'leaf';
      if (action.attrs.type !== undefined && action.attrs.type !== 'leaf' && action.attrs.type !== 'collection') throw pubsubError('bad-request', undefined, { text: `unknown node type "${action.attrs.type}"` });
      return ownerReply(xml('default', {}, service.defaultConfigurationForm(type)));
    }
    case 'subscriptions': {
      const subs = service.ownerSubscriptions(requester, node);
      return ownerReply(xml('subscriptions', { node }, subs.map((s) => subscriptionElement(s, false))));
    }
    case 'affiliations': {
      const list = service.ownerAffiliations(requester, node);
      return ownerReply(xml('affiliations', { node }, list.map((a) => xml('affiliation', { jid: a.jid, affiliation: a.affiliation }))));
    }
    default:
      throw pubsubError('feature-not-implemented', undefined, { text: `<${action.localName}/> is not a pubsub#owner get` });
  }
}

/** <pubsub xmlns='…pubsub#owner'/> sets (§8.2.3, §8.4, §8.5, §8.8.2, §8.9.2, XEP-0248 §5.5). */
export async function ownerSet(service: PubSubService, requester: Jid, pubsub: Element): Promise<Element | null> {
  const { action } = verb(pubsub);
  const node = action.attrs.node;
  switch (action.localName) {
    case 'configure': {
      const form = formIn(action);
      if (!form) throw pubsubError('bad-request', 'invalid-options', { text: 'submit the configuration as a data form' });
      await service.configure(requester, node, form);
      return null;
    }
    case 'delete': {
      const redirect = action.getChild('redirect', NS_PUBSUB_OWNER)?.attrs.uri;
      await service.deleteNode(requester, node, redirect);
      return null;
    }
    case 'purge':
      await service.purge(requester, node);
      return null;
    case 'subscriptions': {
      const changes = action.getChildren('subscription', NS_PUBSUB_OWNER).map((s) => ({ jid: s.attrs.jid ?? '', subscription: s.attrs.subscription, subid: s.attrs.subid }));
      const failed = await service.setSubscriptions(requester, node, changes);
      // §8.8.2.4: the entries that failed, as they still are.
      if (failed.length) throw pubsubError('not-acceptable', undefined, { payload: ownerReply(xml('subscriptions', { node }, failed)) });
      return null;
    }
    case 'affiliations': {
      const changes = action.getChildren('affiliation', NS_PUBSUB_OWNER).map((a) => ({ jid: a.attrs.jid ?? '', affiliation: a.attrs.affiliation ?? '' }));
      for (const change of changes) {
        if (!['owner', 'publisher', 'publish-only', 'member', 'none', 'outcast'].includes(change.affiliation as Affiliation)) {
          throw unsupported(`${change.affiliation}-affiliation`);
        }
      }
      const failed = await service.setAffiliations(requester, node, changes);
      // §8.9.2.4
      if (failed.length) throw pubsubError('not-acceptable', undefined, { payload: ownerReply(xml('affiliations', { node }, failed)) });
      return null;
    }
    case 'collection': {
      const associate = action.getChild('associate', NS_PUBSUB_OWNER);
      const dissociate = action.getChild('dissociate', NS_PUBSUB_OWNER) ?? action.getChild('disassociate', NS_PUBSUB_OWNER);
      const target = associate ?? dissociate;
      if (!target) throw pubsubError('bad-request', undefined, { text: '<collection/> needs <associate/> or <dissociate/>' });
      await service.associate(requester, node, target.attrs.node, target === dissociate);
      return null;
    }
    default:
      throw pubsubError('feature-not-implemented', undefined, { text: `<${action.localName}/> is not a pubsub#owner set` });
  }
}

/**
 * An IQ handler for one of the four (type, namespace) pairs. `resolve` finds the service the request is for
 * (the component's, or the addressed account's PEP service). Errors that carry more than a condition (gone with
 * a URI, failed entries) are answered here; the rest by the module API.
 */
export function pubsubIqHandler(
  type: 'get' | 'set',
  namespace: typeof NS_PUBSUB | typeof NS_PUBSUB_OWNER,
  resolve: (request: IqRequest) => Promise<PubSubService>,
  options: ProtocolOptions,
): IqHandler {
  return async (request) => {
    try {
      const service = await resolve(request);
      const { from, payload } = request;
      if (namespace === NS_PUBSUB) return type === 'get' ? await pubsubGet(service, from, payload) : await pubsubSet(service, from, payload, options);
      return type === 'get' ? await ownerGet(service, from, payload) : await ownerSet(service, from, payload);
    } catch (err) {
      if (err instanceof PubSubError && (err.conditionText !== undefined || err.payload !== undefined)) return { reply: pubsubErrorReply(request.stanza, err) };
      throw err;
    }
  };
}

/** The disco#info features of a pubsub service (XEP-0060 §5.1). */
export function serviceFeatures(extra: string[] = []): string[] {
  return [NS_PUBSUB, ...COMMON_FEATURES.map(feature), ...extra];
}

/**
 * XEP-0050 get-pending (§8.7): the first step lists the owner's nodes; the second, with a node, sends the
 * approval forms of its pending requests again.
 */
export function getPendingCommand(service: PubSubService, requester: Jid, command: Element): Element {
  if (command.attrs.node !== NODE_GET_PENDING) throw new StanzaError('item-not-found', 'no such command');
  if (command.attrs.action === 'cancel') return xml('command', { xmlns: NS_COMMANDS, node: NODE_GET_PENDING, sessionid: command.attrs.sessionid, status: 'canceled' });
  const submitted = findForm(command);
  const sessionid = command.attrs.sessionid ?? `pubsub-get-pending:${Date.now().toString(36)}`;
  if (!submitted) {
    const owned = service.pendingFor(requester);
    if (owned.length === 0) throw pubsubError('forbidden', undefined, { text: 'you own no nodes here' });
    const form = buildForm({
      type: 'form',
      formType: 'http://jabber.org/protocol/pubsub#subscribe_authorization',
      fields: [{ var: 'pubsub#node', type: 'list-single', values: [], options: owned.map((o) => ({ value: o.node.name })) }],
    });
    return xml('command', { xmlns: NS_COMMANDS, sessionid, node: NODE_GET_PENDING, status: 'executing', action: 'execute' }, form);
  }
  const node = submitted.fields.find((f) => f.var === 'pubsub#node')?.values[0];
  if (node === undefined) throw pubsubError('bad-request', 'nodeid-required');
  service.resendApprovals(requester, node);
  return xml('command', { xmlns: NS_COMMANDS, sessionid, node: NODE_GET_PENDING, status: 'completed' });
}
