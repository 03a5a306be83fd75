// Subscription options (XEP-0060 §6.3, the pubsub#subscribe_options FORM_TYPE of §16.4.2; leases and temporary
// subscriptions of §12.4 and §12.18; XEP-0248 §4.1 subscription type and depth for collections).
import { pubsubError } from './errors.js';
import { parseBoolean, type DataForm, type FormField } from '../core/data-forms.js';
import { dateTime } from './config.js';

export const NS_SUBSCRIBE_OPTIONS = 'http://jabber.org/protocol/pubsub#subscribe_options';

export const SHOW_VALUES = ['away', 'chat', 'dnd', 'online', 'xa'] as const;

export interface SubscriptionOptions {
  /** pubsub#deliver: false pauses notifications without unsubscribing. */
  deliver: boolean;
  /** pubsub#expire: 'presence' (§12.4 temporary), a lease end in ms since the epoch (§12.18), or none. */
  expire: 'presence' | number | null;
  /** pubsub#show-values: the presence shows that receive notifications; null for any. */
  showValues: string[] | null;
  /** XEP-0248 §4.1 pubsub#subscription_type, for subscriptions to collections. */
  subscriptionType: 'items' | 'nodes' | 'all';
  /** XEP-0248 §4.1 pubsub#subscription_depth. */
  depth: number | 'all';
}

/**
 * Defaults. XEP-0248 says the type SHOULD default to "nodes"; Quire delivers both kinds by default so that a
 * plain subscription to a collection gets the items of its leaves, which is what subscribers of a collection want.
 */
export function defaultSubscriptionOptions(): SubscriptionOptions {
  return { deliver: true, expire: null, showValues: null, subscriptionType: 'all', depth: 1 };
}

function invalidOptions(text: string) {
  return pubsubError('bad-request', 'invalid-options', { text });
}

/** The options as a form: 'form' to fill in (§6.3.2), 'result' after subscribe-and-configure (§6.3.7). */
export function subscriptionOptionsForm(options: SubscriptionOptions, type: 'form' | 'result', collection: boolean): DataForm {
  const fields: FormField[] = [
    { var: 'pubsub#deliver', type: 'boolean', label: 'Enable delivery?', values: [options.deliver ? 'true' : 'false'] },
    { var: 'pubsub#digest', type: 'boolean', label: 'Receive digest notifications (approx. one per day)?', values: ['false'] },
    {
      var: 'pubsub#expire',
      type: 'text-single',
      label: 'Requested lease period: a date and time (XEP-0082), or "presence" for the current presence session',
      values: options.expire === null ? [] : [options.expire === 'presence' ? 'presence' : dateTime(options.expire)],
    },
    {
      var: 'pubsub#show-values',
      type: 'list-multi',
      label: 'Select the presence types which are allowed to receive event notifications',
      options: [
        { value: 'chat', label: 'Want to Chat' },
        { value: 'online', label: 'Available' },
        { value: 'away', label: 'Away' },
        { value: 'xa', label: 'Extended Away' },
        { value: 'dnd', label: 'Do Not Disturb' },
      ],
      values: options.showValues ?? [...SHOW_VALUES],
    },
  ];
  if (collection) {
    fields.push(
      {
        var: 'pubsub#subscription_type',
        type: 'list-single',
        label: 'What to be notified about',
        options: [
          { value: 'items', label: 'Receive notification of new items only' },
          { value: 'nodes', label: 'Receive notification of new nodes only' },
          { value: 'all', label: 'Receive notification of both' },
        ],
        values: [options.subscriptionType],
      },
      {
        var: 'pubsub#subscription_depth',
        type: 'list-single',
        label: 'How far down the collection to receive notifications from',
        options: [
          { value: '1', label: 'Receive notification from direct child nodes only' },
          { value: 'all', label: 'Receive notification from all descendent nodes' },
        ],
        values: [String(options.depth)],
      },
    );
  }
  return { type, formType: NS_SUBSCRIBE_OPTIONS, fields };
}

/** XEP-0082 DateTime (with a zone) to ms, or NaN. */
function parseDateTime(text: string): number {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) return Number.NaN;
  return Date.parse(text);
}

/**
 * Applies a submitted subscribe_options form (§6.3.5): only the fields sent change; unknown fields are ignored
 * (XEP-0004 §3.1); a value Quire cannot honour is bad-request + invalid-options (§6.3.6.2). A lease longer than
 * `maxLeaseMs` is cut to it (§12.18).
 */
export function applySubscriptionOptionsForm(current: SubscriptionOptions, form: DataForm, maxLeaseMs: number, now = Date.now()): SubscriptionOptions {
  if (form.formType !== undefined && form.formType !== NS_SUBSCRIBE_OPTIONS) throw invalidOptions(`the form is a ${form.formType} form, not ${NS_SUBSCRIBE_OPTIONS}`);
  const options: SubscriptionOptions = { ...current };
  for (const field of form.fields) {
    const value = field.values[0]?.trim() ?? '';
    switch (field.var) {
      case 'pubsub#deliver': {
        const deliver = parseBoolean(value);
        if (deliver === undefined) throw invalidOptions(`pubsub#deliver: "${value}" is not a boolean`);
        options.deliver = deliver;
        break;
      }
      case 'pubsub#digest':
        if (parseBoolean(value) === true) throw invalidOptions('pubsub#digest: digests are not offered; every notification is sent as it happens');
        if (parseBoolean(value) === undefined) throw invalidOptions(`pubsub#digest: "${value}" is not a boolean`);
        break;
      case 'pubsub#include_body':
        // §12.8: no body can be made from arbitrary payloads, so the option is not offered; asking for it fails.
        if (parseBoolean(value) === true) throw invalidOptions('pubsub#include_body: message bodies are not generated from payloads');
        break;
      case 'pubsub#expire':
        if (value === '') options.expire = null;
        else if (value === 'presence') options.expire = 'presence';
        else {
          const when = parseDateTime(value);
          if (Number.isNaN(when)) throw invalidOptions(`pubsub#expire: "${value}" is neither a date and time nor "presence"`);
          options.expire = Math.min(when, now + maxLeaseMs);
        }
        break;
      case 'pubsub#show-values': {
        const shows = field.values.map((v) => v.trim()).filter((v) => v !== '');
        for (const show of shows) if (!(SHOW_VALUES as readonly string[]).includes(show)) throw invalidOptions(`pubsub#show-values: "${show}" is not a presence show`);
        options.showValues = shows.length === SHOW_VALUES.length ? null : shows;
        break;
      }
      case 'pubsub#subscription_type':
        if (value !== 'items' && value !== 'nodes' && value !== 'all') throw invalidOptions(`pubsub#subscription_type: "${value}" is not items, nodes or all`);
        options.subscriptionType = value;
        break;
      case 'pubsub#subscription_depth':
        if (value === 'all') options.depth = 'all';
        else if (/^\d+$/.test(value)) options.depth = Number(value);
        else throw invalidOptions(`pubsub#subscription_depth: "${value}" is neither a number nor "all"`);
        break;
      default:
        break;
    }
  }
  return options;
}

/** Stored form of options. */
export function optionsToFields(options: SubscriptionOptions): FormField[] {
  const fields: FormField[] = [{ var: 'pubsub#deliver', values: [options.deliver ? 'true' : 'false'] }];
  if (options.expire !== null) fields.push({ var: 'pubsub#expire', values: [options.expire === 'presence' ? 'presence' : dateTime(options.expire)] });
  if (options.showValues !== null) fields.push({ var: 'pubsub#show-values', values: options.showValues });
  fields.push({ var: 'pubsub#subscription_type', values: [options.subscriptionType] });
  fields.push({ var: 'pubsub#subscription_depth', values: [String(options.depth)] });
  return fields;
}

export function optionsFromFields(fields: FormField[]): SubscriptionOptions {
  try {
    // A stored lease stays as stored: no cap applies to what was accepted before.
    return applySubscriptionOptionsForm(defaultSubscriptionOptions(), { type: 'submit', fields }, Number.MAX_SAFE_INTEGER, 0);
  } catch {
    return defaultSubscriptionOptions();
  }
}
