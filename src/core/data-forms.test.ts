// XEP-0004 data forms: parsing, building, booleans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseStoredXml } from './roster.js';
import { NS_DATA, buildForm, findForm, parseBoolean, parseForm } from './data-forms.js';

test('a submitted form reads into FORM_TYPE and fields, in order', () => {
  const x = parseStoredXml(
    `<x xmlns='${NS_DATA}' type='submit'>` +
      `<field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#node_config</value></field>` +
      `<field var='pubsub#title'><value>Princely Musings (Atom)</value></field>` +
      `<field var='pubsub#roster_groups_allowed'><value>friends</value><value>servants</value></field>` +
      `<field type='fixed'><value>no var, no data</value></field>` +
      `</x>`,
  );
  const form = parseForm(x)!;
  assert.equal(form.type, 'submit');
  assert.equal(form.formType, 'http://jabber.org/protocol/pubsub#node_config');
  assert.deepEqual(
    form.fields.map((f) => [f.var, f.values]),
    [
      ['pubsub#title', ['Princely Musings (Atom)']],
      ['pubsub#roster_groups_allowed', ['friends', 'servants']],
    ],
  );
});

test('a form to fill in is built with FORM_TYPE first, types, labels, values before options (the schema order); parse reads it back', () => {
  const x = buildForm({
    type: 'form',
    formType: 'urn:example',
    title: 'Title',
    fields: [
      { var: 'a', type: 'list-single', label: 'Pick', options: [{ value: 'one', label: 'One' }, { value: 'two' }], values: ['two'] },
      { var: 'b', type: 'boolean', values: ['true'], required: true },
    ],
  });
  assert.equal(
    x.toString(),
    `<x xmlns="${NS_DATA}" type="form"><title>Title</title><field var="FORM_TYPE" type="hidden"><value>urn:example</value></field>` +
      `<field var="a" type="list-single" label="Pick"><value>two</value><option label="One"><value>one</value></option><option><value>two</value></option></field>` +
      `<field var="b" type="boolean"><required/><value>true</value></field></x>`,
  );
  const back = parseForm(parseStoredXml(x.toString()))!;
  assert.equal(back.title, 'Title');
  assert.deepEqual(back.fields[0].options, [{ value: 'one', label: 'One' }, { value: 'two', label: undefined }]);
  assert.equal(back.fields[1].required, true);
});

test('findForm picks the form of a FORM_TYPE among siblings; other elements are not forms', () => {
  const parent = parseStoredXml(
    `<m><x xmlns='${NS_DATA}' type='result'><field var='FORM_TYPE'><value>urn:a</value></field></x>` +
      `<x xmlns='${NS_DATA}' type='result'><field var='FORM_TYPE'><value>urn:b</value></field></x><x xmlns='urn:other'/></m>`,
  );
  assert.equal(findForm(parent, 'urn:b')?.formType, 'urn:b');
  assert.equal(findForm(parent, 'urn:c'), null);
  assert.equal(parseForm(parseStoredXml(`<x xmlns='urn:other'/>`)), null);
  assert.equal(parseForm(parseStoredXml(`<x xmlns='${NS_DATA}' type='bogus'/>`)), null);
});

test('booleans are true, 1, false and 0 (XEP-0004 §3.3)', () => {
  assert.equal(parseBoolean('true'), true);
  assert.equal(parseBoolean('1'), true);
  assert.equal(parseBoolean(' false '), false);
  assert.equal(parseBoolean('0'), false);
  assert.equal(parseBoolean('yes'), undefined);
  assert.equal(parseBoolean(undefined), undefined);
});

test('a result with several items has <reported/> columns and one <item/> per row (XEP-0004 §3.4), and reads back', () => {
  const x = buildForm({
    type: 'result',
    title: 'Tokens',
    fields: [],
    reported: [
      { var: 'id', type: 'text-single', label: 'Id', values: [] },
      { var: 'nodes', type: 'text-multi', label: 'Nodes', values: [] },
    ],
    items: [
      [{ var: 'id', values: ['a1'] }, { var: 'nodes', values: ['news', 'blog'] }],
      [{ var: 'id', values: ['b2'] }, { var: 'nodes', values: [] }],
    ],
  });
  assert.equal(
    x.toString(),
    `<x xmlns="${NS_DATA}" type="result"><title>Tokens</title>` +
      `<reported><field var="id" type="text-single" label="Id"/><field var="nodes" type="text-multi" label="Nodes"/></reported>` +
      `<item><field var="id"><value>a1</value></field><field var="nodes"><value>news</value><value>blog</value></field></item>` +
      `<item><field var="id"><value>b2</value></field><field var="nodes"/></item></x>`,
  );
  const back = parseForm(parseStoredXml(x.toString()))!;
  assert.deepEqual(back.reported?.map((f) => [f.var, f.label]), [['id', 'Id'], ['nodes', 'Nodes']]);
  assert.deepEqual(back.items?.map((item) => item.map((f) => f.values)), [[['a1'], ['news', 'blog']], [['b2'], []]]);
  assert.deepEqual(back.fields, []);
});
