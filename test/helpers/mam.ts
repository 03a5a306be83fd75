// XEP-0313 queries from a test client: the query element (form, RSM set, flip-page, and for XEP-0442 a node), the
// results collected by queryid until the IQ answer, and what <fin/> says.
import assert from 'node:assert/strict';
import type { Element as XElement } from '@xmpp/xml';
import type { StorageBackend } from '../../src/core/storage-api.js';
import { nextStanza, xmppXml as xml, type XmppClient } from './server.js';

export const NS_MAM = 'urn:xmpp:mam:2';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const NS_FORWARD = 'urn:xmpp:forward:0';
export const NS_DATA = 'jabber:x:data';
const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

let counter = 0;
export const nextId = (prefix: string) => `${prefix}${++counter}`;

/** Sends an IQ and resolves with the response (result or error) by its id. */
export async function iq(client: XmppClient, type: 'get' | 'set', payload: XElement, to?: string): Promise<XElement> {
  const id = nextId('iq');
  const response = nextStanza(client, (s) => s.is('iq') && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
  await client.send(xml('iq', { type, id, to }, payload));
  return response;
}

/** The type and defined condition of an error response. */
export function errorOf(stanza: XElement): { type: string; condition: string } | undefined {
  const error = stanza.getChild('error');
  if (!error) return undefined;
  return { type: error.attrs.type, condition: error.getChildElements().find((c) => c.attrs.xmlns === NS_STANZAS)!.name };
}

export interface QueryOptions {
  fields?: Record<string, string | string[]>;
  max?: number;
  after?: string;
  before?: string;
  index?: number;
  flip?: boolean;
  to?: string;
  /** XEP-0442: the pubsub node whose archive is queried. */
  node?: string;
  /** The form's type, 'submit' unless a test says otherwise. */
  formType?: string;
  formTypeValue?: string;
}

export interface QueryOutcome {
  /** The <result/> elements, in the order they arrived. */
  results: XElement[];
  /** The result messages themselves. */
  messages: XElement[];
  reply: XElement;
  fin: XElement | undefined;
}

export function queryElement(queryid: string | undefined, options: QueryOptions): XElement {
  const children: XElement[] = [];
  if (options.fields) {
    const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, options.formTypeValue ?? NS_MAM))];
    for (const [name, value] of Object.entries(options.fields)) {
      fields.push(xml('field', { var: name }, ...(Array.isArray(value) ? value : [value]).map((v) => xml('value', {}, v))));
    }
    children.push(xml('x', { xmlns: NS_DATA, type: options.formType ?? 'submit' }, ...fields));
  }
  if (options.max !== undefined || options.after !== undefined || options.before !== undefined || options.index !== undefined) {
    const rsm: XElement[] = [];
    if (options.max !== undefined) rsm.push(xml('max', {}, String(options.max)));
    if (options.after !== undefined) rsm.push(xml('after', {}, options.after));
    if (options.before !== undefined) rsm.push(options.before === '' ? xml('before') : xml('before', {}, options.before));
    if (options.index !== undefined) rsm.push(xml('index', {}, String(options.index)));
    children.push(xml('set', { xmlns: NS_RSM }, ...rsm));
  }
  if (options.flip) children.push(xml('flip-page'));
  return xml('query', { xmlns: NS_MAM, queryid, node: options.node }, ...children);
}

/** Runs a MAM query: collects the result messages for its queryid until the IQ response. */
export async function mam(client: XmppClient, options: QueryOptions = {}): Promise<QueryOutcome> {
  const queryid = nextId('q');
  const results: XElement[] = [];
  const messages: XElement[] = [];
  const listener = (stanza: XElement) => {
    const result = stanza.is('message') ? stanza.getChild('result', NS_MAM) : undefined;
    if (result && result.attrs.queryid === queryid) {
      results.push(result);
      messages.push(stanza);
    }
  };
  client.on('stanza', listener);
  try {
    const reply = await iq(client, 'set', queryElement(queryid, options), options.to);
    const fin = reply.getChild('fin', NS_MAM);
    return { results, messages, reply, fin };
  } finally {
    client.removeListener('stanza', listener);
  }
}

/** The forwarded message inside a result. */
export const forwardedOf = (result: XElement) => result.getChild('forwarded', NS_FORWARD)!.getChild('message')!;
export const bodiesOf = (outcome: QueryOutcome) => outcome.results.map((r) => forwardedOf(r).getChildText('body'));
export const idsOf = (outcome: QueryOutcome) => outcome.results.map((r) => r.attrs.id);

/** What <fin/> says: complete, first (with index), last, count. */
export function finOf(outcome: QueryOutcome): { complete: boolean; first?: string; index?: string; last?: string; count?: number } {
  assert.equal(outcome.reply.attrs.type, 'result', outcome.reply.toString());
  const fin = outcome.fin;
  assert.ok(fin, 'the IQ result carries <fin/>');
  const set = fin.getChild('set', NS_RSM);
  assert.ok(set, '<fin/> carries an RSM <set/>');
  const first = set.getChild('first');
  const count = set.getChildText('count');
  return {
    complete: fin.attrs.complete === 'true',
    first: first?.text(),
    index: first?.attrs.index,
    last: set.getChildText('last') ?? undefined,
    count: count === null || count === undefined ? undefined : Number(count),
  };
}

/** The backend as it is, but its archives say they cannot search. */
export function withoutTextSearch(backend: StorageBackend): StorageBackend {
  return new Proxy(backend, {
    get: (target, key) => {
      if (key === 'archive') return (store: string) => ({ ...target.archive(store), textSearch: false });
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
