// Helpers for the PubSub and PEP tests: IQ round trips that return errors as stanzas, checks of error
// conditions and data forms, and clients that advertise entity capabilities (XEP-0115) for +notify.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Element as XmppElement } from '@xmpp/xml';
import type { Session } from '../../src/core/session.js';
import { connectClient, nextStanza, xmppXml as xml, type TestServer, type XmppClient } from './server.js';

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub';
export const NS_OWNER = 'http://jabber.org/protocol/pubsub#owner';
export const NS_EVENT = 'http://jabber.org/protocol/pubsub#event';
export const NS_ERRORS = 'http://jabber.org/protocol/pubsub#errors';
export const NS_DATA = 'jabber:x:data';
export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info';
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const NS_CAPS = 'http://jabber.org/protocol/caps';
export const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';
export const NS_SHIM = 'http://jabber.org/protocol/shim';
export const NS_DELAY = 'urn:xmpp:delay';
export const NODE_CONFIG = 'http://jabber.org/protocol/pubsub#node_config';
export const PUBLISH_OPTIONS = 'http://jabber.org/protocol/pubsub#publish-options';
export const SUBSCRIBE_OPTIONS = 'http://jabber.org/protocol/pubsub#subscribe_options';
export const META_DATA = 'http://jabber.org/protocol/pubsub#meta-data';

export type X = XmppElement;

/** The PubSub service of the test servers (pubsub.<host>). */
export const PUBSUB = 'pubsub.localhost';
/** <pubsub xmlns='…pubsub'/> and <pubsub xmlns='…pubsub#owner'/> around request children. */
export const pubsub = (...children: X[]): X => xml('pubsub', { xmlns: NS_PUBSUB }, ...children);
export const owner = (...children: X[]): X => xml('pubsub', { xmlns: NS_OWNER }, ...children);
export { xml };

let counter = 0;

/** Sends an IQ and resolves with the answer, result or error. */
export async function iq(client: XmppClient, type: 'get' | 'set', to: string | undefined, payload: X): Promise<X> {
  const id = `ps${++counter}`;
  const answer = nextStanza(client, (s) => s.is('iq') && s.attrs.id === id && (s.attrs.type === 'result' || s.attrs.type === 'error'));
  await client.send(xml('iq', { type, to, id }, payload));
  return answer;
}

/** Asserts an IQ result; returns its payload (or undefined when empty). */
export function result(stanza: X): X | undefined {
  assert.equal(stanza.attrs.type, 'result', `expected a result, got ${stanza.toString()}`);
  return stanza.getChildElements()[0];
}

/**
 * Asserts an error of this type and RFC 6120 condition; returns the <error/> and its children in an application's
 * namespace (pubsub#errors, commands), for the caller to check.
 */
export function expectStanzaError(stanza: X, type: string, condition: string, appNamespace: string): { error: X; app: X[] } {
  assert.equal(stanza.attrs.type, 'error', `expected an error, got ${stanza.toString()}`);
  const error = stanza.getChild('error');
  assert.ok(error, 'an <error/> child');
  assert.equal(error.attrs.type, type, `error type in ${error.toString()}`);
  const conditions = error.getChildElements().filter((c) => c.attrs.xmlns === NS_STANZAS && c.name !== 'text');
  assert.deepEqual(conditions.map((c) => c.name), [condition], `condition in ${error.toString()}`);
  return { error, app: error.getChildElements().filter((c) => c.attrs.xmlns === appNamespace) };
}

/**
 * Asserts an error: its type, RFC 6120 condition, and the pubsub#errors child (with its feature) or none.
 * Returns the <error/>.
 */
export function expectError(stanza: X, type: string, condition: string, pubsubCondition?: string, featureName?: string): X {
  const { error, app } = expectStanzaError(stanza, type, condition, NS_ERRORS);
  if (pubsubCondition === undefined) assert.equal(app.length, 0, `no pubsub#errors child in ${error.toString()}`);
  else {
    assert.equal(app.length, 1, `one pubsub#errors child in ${error.toString()}`);
    assert.equal(app[0].name, pubsubCondition);
    assert.equal(app[0].attrs.feature, featureName);
  }
  return error;
}

/** The <text/> of an error. */
export function errorText(stanza: X): string | undefined {
  return stanza.getChild('error')?.getChildText('text', NS_STANZAS) ?? undefined;
}

export interface FieldView {
  type?: string;
  label?: string;
  values: string[];
  options: string[];
}

/** A data form's fields by var, FORM_TYPE included. */
export function fields(x: X | undefined): Map<string, FieldView> {
  assert.ok(x, 'a data form');
  assert.equal(x.attrs.xmlns, NS_DATA);
  const out = new Map<string, FieldView>();
  for (const field of x.getChildren('field')) {
    out.set(field.attrs.var, {
      type: field.attrs.type,
      label: field.attrs.label,
      values: field.getChildren('value').map((v) => v.text()),
      options: field.getChildren('option').map((o) => o.getChildText('value') ?? ''),
    });
  }
  return out;
}

/** A submitted form (type 'submit' unless told). */
export function form(formType: string, values: Record<string, string | string[]>, type = 'submit'): X {
  return xml(
    'x',
    { xmlns: NS_DATA, type },
    xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, formType)),
    ...Object.entries(values).map(([name, value]) => xml('field', { var: name }, ...(Array.isArray(value) ? value : [value]).map((v) => xml('value', {}, v)))),
  );
}

/** Creates a node at a service, optionally configured; asserts success. */
export async function createNode(client: XmppClient, service: string | undefined, node: string, config?: Record<string, string | string[]>): Promise<void> {
  const reply = await iq(
    client,
    'set',
    service,
    xml('pubsub', { xmlns: NS_PUBSUB }, xml('create', { node }), ...(config ? [xml('configure', {}, form(NODE_CONFIG, config))] : [])),
  );
  result(reply);
}

/** Publishes one item; asserts success and returns the item id the service answered. */
export async function publish(client: XmppClient, service: string | undefined, node: string, payload: X | null, id?: string, options?: Record<string, string | string[]>): Promise<string | undefined> {
  const reply = await iq(
    client,
    'set',
    service,
    xml(
      'pubsub',
      { xmlns: NS_PUBSUB },
      xml('publish', { node }, xml('item', { id }, ...(payload ? [payload] : []))),
      ...(options ? [xml('publish-options', {}, form(PUBLISH_OPTIONS, options))] : []),
    ),
  );
  const pubsub = result(reply);
  return pubsub?.getChild('publish')?.getChild('item')?.attrs.id;
}

export async function subscribe(client: XmppClient, service: string, node: string, jid: string): Promise<X> {
  const reply = await iq(client, 'set', service, xml('pubsub', { xmlns: NS_PUBSUB }, xml('subscribe', { node, jid })));
  const subscription = result(reply)?.getChild('subscription');
  assert.ok(subscription, `a <subscription/> in ${reply.toString()}`);
  return subscription;
}

/** A simple payload in its own namespace. */
export function entry(title: string): X {
  return xml('entry', { xmlns: 'http://www.w3.org/2005/Atom' }, xml('title', {}, title));
}

/** The next pubsub event message for a client, optionally about one node. */
export function nextEvent(client: XmppClient, node?: string, from?: string): Promise<X> {
  return nextStanza(client, (s) => {
    if (!s.is('message')) return false;
    const event = s.getChild('event', NS_EVENT);
    if (!event || (from !== undefined && s.attrs.from !== from)) return false;
    if (node === undefined) return true;
    return event.getChildElements().some((c) => c.attrs.node === node);
  });
}

/** A ping to the server and its answer: everything sent to the client before is in by then. */
export async function roundTrip(client: XmppClient): Promise<void> {
  await client.iqCaller.request(xml('iq', { type: 'get', to: 'localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })));
}

/** Collects every stanza a client receives that matches, from now on. */
export function collect(client: XmppClient, match: (s: X) => boolean): X[] {
  const seen: X[] = [];
  client.on('stanza', (s: X) => {
    if (match(s)) seen.push(s);
  });
  return seen;
}

/** XEP-0115 §5.1 ver of a client identity and features (no forms). */
export function capsVer(identity: { category: string; type: string; name?: string }, features: string[]): string {
  const s = `${identity.category}/${identity.type}//${identity.name ?? ''}<` + [...features].sort().map((f) => f + '<').join('');
  return createHash('sha1').update(s, 'utf8').digest('base64');
}

/**
 * Logs in a client that advertises these features in its caps (and answers the server's disco#info query for
 * them), sends available presence, and resolves once the server knows its caps.
 */
export async function capsClient(server: TestServer, user: string, resource: string, features: string[], beforePresence?: (client: XmppClient) => void): Promise<XmppClient> {
  const client = await connectClient(server, user, undefined, resource);
  beforePresence?.(client);
  const identity = { category: 'client', type: 'pc', name: 'Quire test' };
  const all = [NS_DISCO_INFO, NS_CAPS, ...features];
  const ver = capsVer(identity, all);
  const node = 'https://quire.im/test-client';
  const callee = (client as unknown as { iqCallee: { get(ns: string, name: string, handler: (ctx: { element: X }) => X): void } }).iqCallee;
  callee.get(NS_DISCO_INFO, 'query', ({ element }) =>
    xml('query', { xmlns: NS_DISCO_INFO, node: element.attrs.node }, xml('identity', identity), ...all.map((f) => xml('feature', { var: f }))),
  );
  const jid = `${user}@localhost/${resource}`;
  const host = server.running.server.hosts.get('localhost')!;
  const known = new Promise<void>((resolve) => {
    const off = host.events.on('caps/updated', (event: { session: Session }) => {
      if (event.session.jid.full !== jid) return undefined;
      off();
      resolve();
      return undefined;
    });
  });
  await client.send(xml('presence', {}, xml('c', { xmlns: NS_CAPS, hash: 'sha-1', node, ver })));
  await known;
  return client;
}

/** Makes two accounts contacts with a mutual presence subscription (RFC 6121 §3), as the server stores it. */
export async function befriend(server: TestServer, a: string, b: string, groupsOfBInA: string[] = []): Promise<void> {
  const rosters = server.running.server.rosters;
  const ra = await rosters.get('localhost', a);
  const rb = await rosters.get('localhost', b);
  const item = (jid: string, groups: string[]) => ({ jid, subscription: 'both' as const, ask: false, pendingIn: false, approved: false, groups, inRoster: true, ver: 0 });
  await rosters.commit(ra, [item(`${b}@localhost`, groupsOfBInA)]);
  await rosters.commit(rb, [item(`${a}@localhost`, [])]);
}
