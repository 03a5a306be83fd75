// Helpers for the XEP-0050 tests: a <command/> request and its answer, the answer's parts (status, actions,
// notes, form), and the §4.4 errors with their commands-namespace conditions.
import assert from 'node:assert/strict';
import { NS_DATA, expectStanzaError, fields, iq, xml, type FieldView, type X } from './pubsub.js';
import type { XmppClient } from './server.js';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';

export interface CommandOptions {
  action?: string;
  sessionid?: string;
  /** A data form to submit (see submitted()). */
  form?: X;
  /** xml:lang on the <command/>. */
  lang?: string;
}

/** Sends <iq type='set'><command/></iq> to the server (or `to`) and resolves with the answer, result or error. */
export function command(client: XmppClient, node: string | undefined, options: CommandOptions = {}, to = 'localhost'): Promise<X> {
  const attrs = { xmlns: NS_COMMANDS, node, action: options.action, sessionid: options.sessionid, 'xml:lang': options.lang };
  return iq(client, 'set', to, xml('command', attrs, ...(options.form ? [options.form] : [])));
}

/** A submitted form (XEP-0004 type submit) without FORM_TYPE: what a generic client sends back. */
export function submitted(values: Record<string, string | string[]>, type = 'submit'): X {
  return xml(
    'x',
    { xmlns: NS_DATA, type },
    ...Object.entries(values).map(([name, value]) => xml('field', { var: name }, ...(Array.isArray(value) ? value : [value]).map((v) => xml('value', {}, v)))),
  );
}

export interface CommandView {
  node: string;
  sessionid: string;
  status: string;
  lang: string | undefined;
  /** The allowed actions in document order, and the default; undefined without <actions/>. */
  actions?: { allowed: string[]; execute: string | undefined };
  notes: { type: string | undefined; text: string }[];
  /** The data form's fields by var, and its type and title; undefined without a form. */
  form?: { type: string; title: string | undefined; fields: Map<string, FieldView>; x: X };
}

/** Asserts a result with a <command/> and reads it. */
export function commandResult(stanza: X): CommandView {
  assert.equal(stanza.attrs.type, 'result', `expected a result, got ${stanza.toString()}`);
  const el = stanza.getChild('command', NS_COMMANDS);
  assert.ok(el, `a <command/> in ${stanza.toString()}`);
  const actions = el.getChild('actions');
  const x = el.getChild('x', NS_DATA);
  return {
    node: el.attrs.node,
    sessionid: el.attrs.sessionid,
    status: el.attrs.status,
    lang: el.attrs['xml:lang'],
    actions: actions ? { allowed: actions.getChildElements().map((a) => a.name), execute: actions.attrs.execute } : undefined,
    notes: el.getChildren('note').map((n) => ({ type: n.attrs.type, text: n.text() })),
    form: x ? { type: x.attrs.type, title: x.getChildText('title') ?? undefined, fields: fields(x), x } : undefined,
  };
}

/** Asserts an error of this type and RFC 6120 condition, with the commands-namespace child `specific` or none. */
export function expectCommandError(stanza: X, type: string, condition: string, specific?: string): void {
  const { error, app } = expectStanzaError(stanza, type, condition, NS_COMMANDS);
  assert.deepEqual(app.map((c) => c.name), specific === undefined ? [] : [specific], `commands condition in ${error.toString()}`);
}
