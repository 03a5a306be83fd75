// Node configuration (XEP-0060 §8.2, the pubsub#node_config FORM_TYPE of §16.4.4, XEP-0248 §5.2 for
// collections): the typed model, one table of fields that drives the configuration form, the submitted-form
// parser, the metadata form (§5.4) and the publish-options preconditions (§7.1.5, XEP-0223).
import { parseJid } from '../core/jid/index.js';
import { pubsubError } from './errors.js';
import { parseBoolean, type DataForm, type FieldType, type FormField } from '../core/data-forms.js';

export const NS_NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config';
export const NS_META_DATA = 'http://jabber.org/protocol/pubsub#meta-data';
export const NS_PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';
/**
 * Quire's item history: how many earlier revisions of each item a node keeps. Not a registered field of
 * pubsub#node_config, so it is named in Clark notation with a namespace of Quire's (XEP-0068, field names); the namespace
 * is also the disco feature of services that keep history.
 */
export const NS_HISTORY = 'urn:quire:history:0';
export const MAX_REVISIONS_FIELD = `{${NS_HISTORY}}max_revisions`;

export const ACCESS_MODELS = ['authorize', 'open', 'presence', 'roster', 'whitelist'] as const;
export type AccessModel = (typeof ACCESS_MODELS)[number];
export const PUBLISH_MODELS = ['publishers', 'subscribers', 'open'] as const;
export type PublishModel = (typeof PUBLISH_MODELS)[number];
export type SendLastPublished = 'never' | 'on_sub' | 'on_sub_and_presence';
export type NodeType = 'leaf' | 'collection';
/** 'max' means "no limit other than the service's" (§16.4.4, integer-or-max of §12.20). */
export type IntegerOrMax = number | 'max';

export interface NodeConfig {
  title: string;
  description: string;
  /** Payload semantic type information (§16.4.4, redefined in 1.23). */
  type: string;
  language: string;
  contact: string[];
  access_model: AccessModel;
  roster_groups_allowed: string[];
  publish_model: PublishModel;
  deliver_notifications: boolean;
  deliver_payloads: boolean;
  notify_config: boolean;
  notify_delete: boolean;
  notify_retract: boolean;
  notify_sub: boolean;
  persist_items: boolean;
  max_items: IntegerOrMax;
  /** Seconds after which items are removed. */
  item_expire: IntegerOrMax;
  max_payload_size: number;
  subscribe: boolean;
  send_last_published_item: SendLastPublished;
  presence_based_delivery: boolean;
  notification_type: 'headline' | 'normal';
  /** §12.21: 'publisher' puts the publisher's JID on items. */
  itemreply: 'owner' | 'publisher' | 'none';
  /** §7.1.2.5: what a publish to a full node does. */
  publish_node_full: 'retract-oldest' | 'discard-oldest' | 'reject';
  /** §12.4: every subscription lasts only as long as the subscriber's presence session. */
  tempsub: boolean;
  node_type: NodeType;
  /** Earlier revisions kept per item when an ItemID is published again (Quire's history, MAX_REVISIONS_FIELD). */
  max_revisions: number;
  /** XEP-0248 §5.2: the collections this node is a child of. */
  collection: string[];
  children_max: IntegerOrMax;
}

/** What the service allows, for validating submitted values. */
export interface ConfigLimits {
  /** The most items a node may keep; also what 'max' means (the per-host cap). */
  maxItems: number;
  /** The largest max_payload_size a node may be given, in bytes. */
  maxPayloadSize: number;
  /** Whether collection nodes are offered (XEP-0248). */
  collections: boolean;
  /** The most earlier revisions a node may keep per item (max_revisions). */
  maxRevisions: number;
}

/** The defaults of a generic service; PEP overrides some (XEP-0163 §7). */
export function defaultNodeConfig(limits: ConfigLimits): NodeConfig {
  return {
    title: '',
    description: '',
    type: '',
    language: '',
    contact: [],
    access_model: 'open',
    roster_groups_allowed: [],
    publish_model: 'publishers',
    deliver_notifications: true,
    deliver_payloads: true,
    notify_config: false,
    notify_delete: true,
    notify_retract: true,
    notify_sub: false,
    persist_items: true,
    max_items: 10,
    item_expire: 'max',
    max_payload_size: limits.maxPayloadSize,
    subscribe: true,
    send_last_published_item: 'on_sub_and_presence',
    presence_based_delivery: false,
    notification_type: 'headline',
    itemreply: 'publisher',
    publish_node_full: 'retract-oldest',
    tempsub: false,
    node_type: 'leaf',
    max_revisions: 0,
    collection: [],
    children_max: 'max',
  };
}

/** The effective item limit of a node. */
export function maxItemsOf(config: NodeConfig, limits: ConfigLimits): number {
  return config.max_items === 'max' ? limits.maxItems : Math.min(config.max_items, limits.maxItems);
}

type Key = keyof NodeConfig;

interface FieldSpec {
  key: Key;
  var: string;
  type: FieldType;
  label: string;
  /** list-single/list-multi choices (roster groups come from the owner's roster instead). */
  options?: readonly { value: string; label?: string }[];
  /** Only on leaf nodes, or only on collections (XEP-0248 §5.2: collection-specific options stay off leaves). */
  only?: NodeType;
  /** Left out of the form unless collections are offered. */
  collections?: boolean;
  parse(values: string[], limits: ConfigLimits): NodeConfig[Key];
  format(value: NodeConfig[Key]): string[];
}

function invalid(field: string, why: string) {
  return pubsubError('not-acceptable', undefined, { text: `${field}: ${why}` });
}

const text = (key: Key, label: string): FieldSpec => ({
  key,
  var: 'pubsub#' + key,
  type: 'text-single',
  label,
  parse: (values) => values[0] ?? '',
  format: (value) => (value === '' ? [] : [String(value)]),
});

const bool = (key: Key, label: string, only?: NodeType): FieldSpec => ({
  key,
  var: 'pubsub#' + key,
  type: 'boolean',
  label,
  only,
  parse: (values) => {
    const value = parseBoolean(values[0]);
    if (value === undefined) throw invalid('pubsub#' + key, `"${values[0] ?? ''}" is not a boolean (true, false, 1 or 0)`);
    return value;
  },
  format: (value) => [value ? 'true' : 'false'],
});

function choice<K extends Key>(key: K, label: string, options: readonly { value: string; label?: string }[], only?: NodeType): FieldSpec {
  return {
    key,
    var: 'pubsub#' + key,
    type: 'list-single',
    label,
    options,
    only,
    parse: (values) => {
      const value = values[0]?.trim();
      if (value === undefined || !options.some((o) => o.value === value)) {
        if (key === 'access_model') throw pubsubError('not-acceptable', 'unsupported-access-model', { text: `access model "${value ?? ''}" is not supported` });
        throw invalid('pubsub#' + key, `"${value ?? ''}" is not one of ${options.map((o) => o.value).join(', ')}`);
      }
      return value as NodeConfig[K];
    },
    format: (value) => [String(value)],
  };
}

/** A non-negative integer, or 'max' (XEP-0060 §12.20 integer-or-max); `cap` bounds the integer. */
function integerOrMax(key: Key, label: string, cap: (limits: ConfigLimits) => number, only?: NodeType): FieldSpec {
  return {
    key,
    var: 'pubsub#' + key,
    type: 'text-single',
    label,
    only,
    parse: (values, limits) => {
      const raw = (values[0] ?? '').trim();
      if (raw === 'max') return 'max';
      if (!/^\d+$/.test(raw)) throw invalid('pubsub#' + key, `"${raw}" is neither a non-negative integer nor "max"`);
      const value = Number(raw);
      if (value > cap(limits)) throw invalid('pubsub#' + key, `${value} is above this service's maximum of ${cap(limits)}`);
      return value;
    },
    format: (value) => [String(value)],
  };
}

const jids = (key: Key, label: string): FieldSpec => ({
  key,
  var: 'pubsub#' + key,
  type: 'jid-multi',
  label,
  parse: (values) => {
    const out = new Set<string>();
    for (const value of values) {
      if (value.trim() === '') continue;
      try {
        out.add(parseJid(value.trim()).full);
      } catch {
        // XEP-0004 §3.3: jid fields hold valid JIDs only.
        throw invalid('pubsub#' + key, `"${value}" is not a JID`);
      }
    }
    return [...out];
  },
  format: (value) => value as string[],
});

const nodeList = (key: Key, label: string): FieldSpec => ({
  key,
  var: 'pubsub#' + key,
  type: 'text-multi',
  label,
  collections: true,
  // XEP-0248 §5.2: an empty value names the root collection, which every top-level node is in anyway.
  parse: (values) => [...new Set(values.filter((v) => v !== ''))],
  format: (value) => value as string[],
});

/** The configuration fields in form order (that of XEP-0060 §8.2.1 and §8.3.1, then XEP-0248's). */
const FIELDS: readonly FieldSpec[] = [
  text('title', 'A friendly name for the node'),
  text('description', 'A description of the node'),
  text('type', 'The semantic type information of data in the node, usually the namespace of the payload'),
  text('language', 'The default language of the node'),
  jids('contact', 'The JIDs of those to contact with questions'),
  choice('node_type', 'Whether the node is a leaf (default) or a collection', [
    { value: 'leaf', label: 'The node is a leaf node (default)' },
    { value: 'collection', label: 'The node is a collection node' },
  ]),
  bool('deliver_notifications', 'Whether to deliver event notifications'),
  bool('deliver_payloads', 'Whether to deliver payloads with event notifications', 'leaf'),
  bool('notify_config', 'Notify subscribers when the node configuration changes'),
  bool('notify_delete', 'Notify subscribers when the node is deleted'),
  bool('notify_retract', 'Notify subscribers when items are removed from the node', 'leaf'),
  bool('notify_sub', 'Notify owners about new subscribers and unsubscribes'),
  bool('persist_items', 'Persist items to storage', 'leaf'),
  integerOrMax('max_items', 'Max # of items to persist. `max` for no specific limit other than a server imposed maximum.', (l) => l.maxItems, 'leaf'),
  integerOrMax('item_expire', 'Time after which to automatically purge items. `max` for no specific limit other than a server imposed maximum.', () => Number.MAX_SAFE_INTEGER, 'leaf'),
  choice(
    'publish_node_full',
    'Action to be performed by the service when publishing on a full node',
    [
      { value: 'retract-oldest', label: 'Retract the oldest item alongside publishing the new item' },
      { value: 'discard-oldest', label: 'Discard the oldest item alongside publishing the new item' },
      { value: 'reject', label: 'Reject publication of the new item' },
    ],
    'leaf',
  ),
  {
    key: 'max_revisions',
    var: MAX_REVISIONS_FIELD,
    type: 'text-single',
    label: 'Earlier revisions kept of each item when its ItemID is published again (0: none)',
    only: 'leaf',
    parse: (values, limits) => {
      const raw = (values[0] ?? '').trim();
      if (!/^\d+$/.test(raw)) throw invalid(MAX_REVISIONS_FIELD, `"${raw}" is not a non-negative integer`);
      const value = Number(raw);
      if (value > limits.maxRevisions) throw invalid(MAX_REVISIONS_FIELD, `${value} is above this service's maximum of ${limits.maxRevisions}`);
      return value;
    },
    format: (value) => [String(value)],
  },
  bool('subscribe', 'Whether to allow subscriptions'),
  choice('access_model', 'Specify the subscriber model', [
    { value: 'authorize', label: 'Subscription requests must be approved and only subscribers may retrieve items' },
    { value: 'open', label: 'Anyone may subscribe and retrieve items' },
    { value: 'presence', label: 'Anyone with a presence subscription of both or from may subscribe and retrieve items' },
    { value: 'roster', label: 'Anyone in the specified roster group(s) may subscribe and retrieve items' },
    { value: 'whitelist', label: 'Only those on a whitelist may subscribe and retrieve items' },
  ]),
  {
    key: 'roster_groups_allowed',
    var: 'pubsub#roster_groups_allowed',
    type: 'list-multi',
    label: 'Roster groups allowed to subscribe',
    parse: (values) => [...new Set(values.filter((v) => v !== ''))],
    format: (value) => value as string[],
  },
  choice('publish_model', 'Specify the publisher model', [
    { value: 'publishers', label: 'Only publishers may publish' },
    { value: 'subscribers', label: 'Subscribers may publish' },
    { value: 'open', label: 'Anyone may publish' },
  ]),
  integerOrMax('max_payload_size', 'Max payload size in bytes', (l) => l.maxPayloadSize, 'leaf'),
  choice('send_last_published_item', 'When to send the last published item', [
    { value: 'never', label: 'Never' },
    { value: 'on_sub', label: 'When a new subscription is processed' },
    { value: 'on_sub_and_presence', label: 'When a new subscription is processed and whenever a subscriber comes online' },
  ], 'leaf'),
  bool('presence_based_delivery', 'Deliver event notifications only to available users'),
  bool('tempsub', 'Whether to make all subscriptions temporary, based on subscriber presence'),
  choice('notification_type', 'Specify the delivery style for event notifications', [
    { value: 'normal', label: 'Messages of type normal' },
    { value: 'headline', label: 'Messages of type headline' },
  ]),
  choice('itemreply', 'Whether owners or publisher should receive replies to items', [
    { value: 'owner', label: 'Statically specify a replyto of the node owner(s)' },
    { value: 'publisher', label: 'Dynamically specify a replyto of the item publisher' },
    { value: 'none', label: 'Do not name anyone' },
  ], 'leaf'),
  nodeList('collection', 'The collections of which this node is a child'),
  { ...nodeList('children' as Key, 'The nodes of which this node is a parent'), only: 'collection' },
  { ...integerOrMax('children_max', 'The maximum number of children for this collection', () => Number.MAX_SAFE_INTEGER, 'collection'), collections: true },
];

const BY_VAR = new Map(FIELDS.map((f) => [f.var, f]));

/** Whether a field var is a node configuration field this service knows (publish-options must name only these). */
export function isConfigField(name: string): boolean {
  return BY_VAR.has(name);
}

/** What a form shows beyond the config itself: the owner's roster groups, a collection's children. */
export interface FormContext {
  rosterGroups?: string[];
  children?: string[];
}

function fieldsFor(nodeType: NodeType, limits: ConfigLimits): FieldSpec[] {
  return FIELDS.filter((f) => (!f.only || f.only === nodeType) && (!f.collections || limits.collections) && (f.key !== 'node_type' || limits.collections));
}

function valueOf(config: NodeConfig, spec: FieldSpec, context: FormContext): string[] {
  if ((spec.key as string) === 'children') return context.children ?? [];
  return spec.format(config[spec.key]);
}

/**
 * The pubsub#node_config form (§8.2.1 'form' with the current values, §8.3.3 defaults, §8.2.5.3 'result' in
 * configuration notifications).
 */
export function configForm(config: NodeConfig, limits: ConfigLimits, type: 'form' | 'result', context: FormContext = {}): DataForm {
  const fields: FormField[] = [];
  for (const spec of fieldsFor(config.node_type, limits)) {
    const field: FormField = { var: spec.var, type: spec.type, label: spec.label, values: valueOf(config, spec, context) };
    if (spec.options) field.options = [...spec.options];
    if (spec.key === 'roster_groups_allowed') {
      const groups = new Set([...(context.rosterGroups ?? []), ...config.roster_groups_allowed]);
      field.options = [...groups].sort().map((value) => ({ value }));
    }
    fields.push(field);
  }
  return { type, formType: NS_NODE_CONFIG, fields };
}

/** A change to a node's configuration, as submitted; `children` is kept apart since it changes other nodes. */
export interface ConfigChange {
  config: NodeConfig;
  children?: string[];
}

/**
 * Applies a submitted pubsub#node_config form to a configuration (XEP-0004 §3.4 incomplete submission: only the
 * submitted fields change). Unknown fields are ignored (§3.1 'submit'); invalid values are not-acceptable.
 */
export function applyConfigForm(current: NodeConfig, form: DataForm, limits: ConfigLimits): ConfigChange {
  if (form.formType !== undefined && form.formType !== NS_NODE_CONFIG) {
    throw pubsubError('bad-request', 'invalid-options', { text: `the form is a ${form.formType} form, not ${NS_NODE_CONFIG}` });
  }
  const config: NodeConfig = { ...current, contact: [...current.contact], roster_groups_allowed: [...current.roster_groups_allowed], collection: [...current.collection] };
  const change: ConfigChange = { config };
  for (const field of form.fields) {
    const spec = BY_VAR.get(field.var);
    if (!spec) continue;
    if ((spec.collections || spec.key === 'node_type') && !limits.collections) {
      if (spec.key === 'node_type' && field.values[0] === 'collection') throw pubsubError('feature-not-implemented', 'unsupported', { feature: 'collections' });
      continue;
    }
    // The value the node has already is kept as it is, even above the service's cap: a module may give a node more
    // than owners may ask for (XEP-0277 articles get max_payload_size 1 MiB on a PEP service whose cap is 64 KiB),
    // and a client that submits back the form it was given must not fail on a field it did not change.
    if ((spec.key as string) !== 'children' && sameAsCurrent(spec.format(current[spec.key]), field.values)) continue;
    const value = spec.parse(field.values, limits);
    if ((spec.key as string) === 'children') change.children = value as string[];
    else (config as unknown as Record<string, unknown>)[spec.key] = value;
  }
  return change;
}

function sameAsCurrent(current: string[], submitted: string[]): boolean {
  return current.length === submitted.length && current.every((v, i) => v === submitted[i]?.trim());
}

/** Equality of a precondition value with the node's value, by field type (booleans and numbers by meaning). */
function sameValue(wanted: NodeConfig[Key], actual: NodeConfig[Key]): boolean {
  if (Array.isArray(wanted) && Array.isArray(actual)) {
    if (wanted.length !== actual.length) return false;
    const set = new Set(actual);
    return wanted.every((v) => set.has(v));
  }
  return wanted === actual || String(wanted) === String(actual);
}

/**
 * XEP-0060 §7.1.5 / XEP-0223: each field of a publish-options form is a precondition on the node configuration
 * field of the same name. Returns the name of the first field that does not match, or null when all do.
 * Fields this service does not know make the publish fail (§7.1.5: "MUST reject … unknown fields").
 */
export function unmetPrecondition(config: NodeConfig, form: DataForm, limits: ConfigLimits): { field: string; reason: string } | null {
  for (const field of form.fields) {
    const spec = BY_VAR.get(field.var);
    if (!spec || (spec.key as string) === 'children') return { field: field.var, reason: `${field.var} is not a node configuration field here` };
    let wanted: NodeConfig[Key];
    try {
      wanted = spec.parse(field.values, limits);
    } catch {
      return { field: field.var, reason: `${field.var}: "${field.values.join(' ')}" is not a valid value` };
    }
    if (!sameValue(wanted, config[spec.key])) {
      return { field: field.var, reason: `${field.var} is ${JSON.stringify(spec.format(config[spec.key]).join(' '))}, not ${JSON.stringify(field.values.join(' '))}` };
    }
  }
  return null;
}

/** The publish-options form applied to the defaults, for a node auto-created by that publish (§7.1.5 rule 3). */
export function configFromPreconditions(defaults: NodeConfig, form: DataForm, limits: ConfigLimits): NodeConfig {
  for (const field of form.fields) {
    const spec = BY_VAR.get(field.var);
    if (!spec || (spec.key as string) === 'children') {
      throw pubsubError('conflict', 'precondition-not-met', { text: `${field.var} is not a node configuration field here` });
    }
  }
  return applyConfigForm(defaults, { ...form, formType: NS_NODE_CONFIG }, limits).config;
}

/** Stored form of a configuration: the form's values, so that fields added later keep their defaults. */
export function configToFields(config: NodeConfig): FormField[] {
  const out: FormField[] = [];
  for (const spec of FIELDS) {
    if ((spec.key as string) === 'children') continue;
    out.push({ var: spec.var, values: spec.format(config[spec.key]) });
  }
  return out;
}

/** Reads a stored configuration over the defaults; a stored value that no longer validates keeps the default. */
export function configFromFields(defaults: NodeConfig, fields: FormField[], limits: ConfigLimits): NodeConfig {
  const config: NodeConfig = { ...defaults };
  for (const field of fields) {
    const spec = BY_VAR.get(field.var);
    if (!spec || (spec.key as string) === 'children') continue;
    try {
      (config as unknown as Record<string, unknown>)[spec.key] = spec.parse(field.values, { ...limits, maxItems: Number.MAX_SAFE_INTEGER, maxPayloadSize: Number.MAX_SAFE_INTEGER, maxRevisions: Number.MAX_SAFE_INTEGER });
    } catch {
      // keep the default
    }
  }
  return config;
}

export interface NodeMetadata {
  creator: string;
  created: number;
  owners: string[];
  publishers: string[];
  subscribers: number;
}

/** XEP-0082 DateTime in UTC, whole seconds. */
export function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** §5.4: the pubsub#meta-data form of a node's disco#info (values of the configuration, and live facts). */
export function metadataForm(config: NodeConfig, meta: NodeMetadata, limits: ConfigLimits): DataForm {
  const fields: FormField[] = [];
  const add = (name: string, type: FieldType, label: string, values: string[]) => fields.push({ var: 'pubsub#' + name, type, label, values });
  if (config.type) add('type', 'text-single', 'Payload semantic type information', [config.type]);
  add('creator', 'jid-single', 'Node creator', meta.creator ? [meta.creator] : []);
  add('creation_date', 'text-single', 'Creation date', [dateTime(meta.created)]);
  add('title', 'text-single', 'A short name for the node', config.title ? [config.title] : []);
  add('description', 'text-single', 'A description of the node', config.description ? [config.description] : []);
  if (config.language) add('language', 'list-single', 'Default language', [config.language]);
  add('contact', 'jid-multi', 'People to contact with questions', config.contact);
  add('access_model', 'list-single', 'Access model', [config.access_model]);
  add('publish_model', 'list-single', 'Publish model', [config.publish_model]);
  if (config.node_type === 'leaf') {
    // The effective limit: 'max' stands for the service's cap, which is what a client can count on.
    add('max_items', 'text-single', 'Max # of items to persist. `max` for no specific limit other than a server imposed maximum.', [String(maxItemsOf(config, limits))]);
  }
  add('owner', 'jid-multi', 'Node owners', meta.owners);
  add('publisher', 'jid-multi', 'Publishers to this node', meta.publishers);
  add('num_subscribers', 'text-single', 'Number of subscribers to this node', [String(meta.subscribers)]);
  if (limits.collections) {
    add('node_type', 'list-single', 'Whether the node is a leaf or a collection', [config.node_type]);
    if (config.collection.length) add('collection', 'text-multi', 'The collections of which this node is a child', config.collection);
  }
  return { type: 'result', formType: NS_META_DATA, fields };
}
