// Node configuration: the form, submissions, preconditions, storage round trip, metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PubSubError } from './errors.js';
import {
  applyConfigForm,
  configForm,
  configFromFields,
  configFromPreconditions,
  configToFields,
  defaultNodeConfig,
  maxItemsOf,
  metadataForm,
  unmetPrecondition,
  type ConfigLimits,
} from './config.js';
import type { DataForm } from '../core/data-forms.js';

const limits: ConfigLimits = { maxItems: 10000, maxPayloadSize: 65536, collections: true, maxRevisions: 100 };
const submit = (values: Record<string, string | string[]>): DataForm => ({
  type: 'submit',
  formType: 'http://jabber.org/protocol/pubsub#node_config',
  fields: Object.entries(values).map(([name, v]) => ({ var: name, values: Array.isArray(v) ? v : [v] })),
});

function rejects(fn: () => unknown, condition: string, pubsubCondition?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PubSubError, String(err));
    assert.equal(err.condition, condition);
    assert.equal(err.pubsubCondition, pubsubCondition);
    return true;
  });
}

test('a submission changes only the fields it names (XEP-0004 §3.4) and validates them', () => {
  const base = defaultNodeConfig(limits);
  const { config } = applyConfigForm(base, submit({ 'pubsub#title': 'T', 'pubsub#max_items': 'max', 'pubsub#deliver_payloads': '0', 'x-unknown': 'ignored' }), limits);
  assert.equal(config.title, 'T');
  assert.equal(config.max_items, 'max');
  assert.equal(config.deliver_payloads, false);
  assert.equal(config.access_model, base.access_model);
  assert.equal(maxItemsOf(config, limits), 10000);
  rejects(() => applyConfigForm(base, submit({ 'pubsub#access_model': 'moat' }), limits), 'not-acceptable', 'unsupported-access-model');
  rejects(() => applyConfigForm(base, submit({ 'pubsub#max_items': '-1' }), limits), 'not-acceptable');
  rejects(() => applyConfigForm(base, submit({ 'pubsub#max_items': '10001' }), limits), 'not-acceptable');
  rejects(() => applyConfigForm(base, submit({ 'pubsub#notify_retract': 'maybe' }), limits), 'not-acceptable');
  rejects(() => applyConfigForm(base, submit({ 'pubsub#contact': 'not a jid@' }), limits), 'not-acceptable');
  rejects(() => applyConfigForm(base, { ...submit({}), formType: 'urn:other' }, limits), 'bad-request', 'invalid-options');
});

test('the form shows leaf fields on leaves and collection fields on collections (XEP-0248 §5.2)', () => {
  const leaf = configForm(defaultNodeConfig(limits), limits, 'form');
  const names = leaf.fields.map((f) => f.var);
  assert.ok(names.includes('pubsub#max_items'));
  assert.ok(!names.includes('pubsub#children'));
  const collection = configForm({ ...defaultNodeConfig(limits), node_type: 'collection' }, limits, 'form', { children: ['a', 'b'] });
  const byVar = new Map(collection.fields.map((f) => [f.var, f]));
  assert.deepEqual(byVar.get('pubsub#children')?.values, ['a', 'b']);
  assert.ok(!byVar.has('pubsub#max_items'));
  const noCollections = configForm(defaultNodeConfig(limits), { ...limits, collections: false }, 'form');
  assert.ok(!noCollections.fields.some((f) => f.var === 'pubsub#node_type' || f.var === 'pubsub#collection'));
});

test('preconditions compare by meaning; unknown fields and other values are unmet (XEP-0060 §7.1.5)', () => {
  const config = { ...defaultNodeConfig(limits), access_model: 'open' as const, max_items: 'max' as const, roster_groups_allowed: ['a', 'b'] };
  const options = (values: Record<string, string | string[]>): DataForm => ({ ...submit(values), formType: 'http://jabber.org/protocol/pubsub#publish-options' });
  assert.equal(unmetPrecondition(config, options({ 'pubsub#access_model': 'open', 'pubsub#persist_items': '1', 'pubsub#max_items': 'max' }), limits), null);
  assert.equal(unmetPrecondition(config, options({ 'pubsub#roster_groups_allowed': ['b', 'a'] }), limits), null);
  assert.equal(unmetPrecondition(config, options({ 'pubsub#access_model': 'whitelist' }), limits)?.field, 'pubsub#access_model');
  assert.equal(unmetPrecondition(config, options({ 'pubsub#max_items': '1' }), limits)?.field, 'pubsub#max_items');
  assert.equal(unmetPrecondition(config, options({ 'pubsub#nonsense': 'x' }), limits)?.field, 'pubsub#nonsense');
  const created = configFromPreconditions(defaultNodeConfig(limits), options({ 'pubsub#access_model': 'whitelist', 'pubsub#max_items': '5' }), limits);
  assert.equal(created.access_model, 'whitelist');
  assert.equal(created.max_items, 5);
  rejects(() => configFromPreconditions(defaultNodeConfig(limits), options({ 'pubsub#nonsense': 'x' }), limits), 'conflict', 'precondition-not-met');
});

test('a stored configuration reads back the same, over defaults that may have changed', () => {
  const config = { ...defaultNodeConfig(limits), title: 'kept', max_items: 3, collection: ['parent'], contact: ['a@b'] };
  const back = configFromFields(defaultNodeConfig(limits), configToFields(config), limits);
  assert.deepEqual(back, config);
  // A value above today's cap is kept as stored: lowering the cap does not rewrite nodes.
  const big = configFromFields(defaultNodeConfig(limits), configToFields({ ...config, max_items: 50000 }), limits);
  assert.equal(big.max_items, 50000);
  assert.equal(maxItemsOf(big, limits), 10000);
});

test('metadata shows the effective max_items and the live facts (XEP-0060 §5.4)', () => {
  const form = metadataForm({ ...defaultNodeConfig(limits), max_items: 'max', title: 'T' }, { creator: 'hamlet@denmark.lit', created: Date.UTC(2003, 6, 29, 22, 56, 10), owners: ['hamlet@denmark.lit'], publishers: [], subscribers: 1066 }, limits);
  const byVar = new Map(form.fields.map((f) => [f.var, f.values]));
  assert.equal(form.formType, 'http://jabber.org/protocol/pubsub#meta-data');
  assert.deepEqual(byVar.get('pubsub#max_items'), ['10000']);
  assert.deepEqual(byVar.get('pubsub#creation_date'), ['2003-07-29T22:56:10Z']);
  assert.deepEqual(byVar.get('pubsub#num_subscribers'), ['1066']);
});
