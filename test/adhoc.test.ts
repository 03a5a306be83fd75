// XEP-0050 Ad-Hoc Commands with @xmpp/client: discovery (§2.1, §2.2), a three-stage command with next, prev and
// complete (§2.4.2), cancel (§2.4.3), the errors of §4.4, and sessions that belong to one client. The commands are
// registered the way a module registers them (m.command), by a test module on the server's host.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandInputError, completed, lastStage, nextStage, type AdHocCommand } from '../src/core/adhoc.js';
import { fieldValues, type DataForm } from '../src/core/data-forms.js';
import { ModuleContext } from '../src/core/module-api.js';
import type { Session } from '../src/core/session.js';
import { NS_COMMANDS, command, commandResult, expectCommandError, submitted } from './helpers/adhoc.js';
import { NS_DISCO_INFO, NS_DISCO_ITEMS, expectError, iq, result, xml } from './helpers/pubsub.js';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';

const WIZARD = 'urn:quire:test:wizard';
const UPTIME = 'urn:quire:test:uptime';

interface WizardState {
  name?: string;
  colour?: string;
  /** Every call, as stage:action: shows which state a stage was given. */
  seen: string[];
}

function firstForm(): DataForm {
  return {
    type: 'form',
    formType: WIZARD,
    title: 'Who are you?',
    fields: [
      { var: 'name', type: 'text-single', label: 'Name', required: true, values: [] },
      { var: 'colour', type: 'list-single', label: 'Colour', options: [{ value: 'red' }, { value: 'green' }, { value: 'blue' }], values: ['red'] },
    ],
  };
}

/** Three stages: who (next), how big (prev or complete), then a result with everything the session kept. */
const wizard: AdHocCommand<WizardState> = {
  node: WIZARD,
  name: 'Wizard',
  access: 'self',
  initialState: () => ({ seen: [] }),
  handle({ stage, action, form, state, requester }) {
    state.seen.push(`${stage}:${action}`);
    if (stage === 0) return nextStage(firstForm());
    if (stage === 1) {
      const name = fieldValues(form!, 'name')[0];
      if (name === 'Tybalt') throw new CommandInputError('Tybalt may not enter');
      state.name = name;
      state.colour = fieldValues(form!, 'colour')[0];
      const size: DataForm = { type: 'form', formType: WIZARD, title: 'How big?', fields: [{ var: 'size', type: 'text-single', label: 'Size', values: ['medium'] }] };
      return lastStage(size, { prev: true, notes: [{ type: 'info', text: `Hello ${name}` }] });
    }
    return completed({
      form: {
        type: 'result',
        formType: WIZARD,
        title: 'Done',
        fields: [
          { var: 'who', type: 'text-single', values: [`${state.name} (${requester.full})`] },
          { var: 'colour', type: 'text-single', values: [state.colour ?? ''] },
          { var: 'size', type: 'text-single', values: fieldValues(form!, 'size') },
          { var: 'seen', type: 'text-multi', values: state.seen },
        ],
      },
      notes: [{ type: 'info', text: 'Done' }],
    });
  },
};

/** An administrators' command that completes at once (§2.4.1). */
const uptime: AdHocCommand = {
  node: UPTIME,
  name: 'Uptime',
  access: 'admin',
  handle: () => completed({ notes: [{ type: 'info', text: 'up' }] }),
};

describe('XEP-0050 Ad-Hoc Commands', () => {
  let server: TestServer;
  let romeo: XmppClient;
  let romeoPhone: XmppClient;
  let juliet: XmppClient;
  let prince: XmppClient;

  before(async () => {
    server = await startTestServer({ modules: 'modules:\n  disco:\n  adhoc: { admins: [prince@localhost] }' });
    const tests = new ModuleContext('adhoc-test', server.running.server.hosts.get('localhost')!, {});
    tests.command(wizard);
    tests.command(uptime);
    for (const user of ['romeo', 'juliet', 'prince']) await server.createUser(user);
    romeo = await connectClient(server, 'romeo', undefined, 'orchard');
    romeoPhone = await connectClient(server, 'romeo', undefined, 'phone');
    juliet = await connectClient(server, 'juliet');
    prince = await connectClient(server, 'prince');
  });

  after(async () => {
    for (const client of [romeo, romeoPhone, juliet, prince]) await client?.stop().catch(() => {});
    await server?.stop();
  });

  /** Starts the wizard for a client and returns its sessionid. */
  async function startWizard(client: XmppClient): Promise<string> {
    const first = commandResult(await command(client, WIZARD, { action: 'execute' }));
    assert.equal(first.status, 'executing');
    return first.sessionid;
  }

  test('§2.1, §2.2: the server has the commands feature and lists, per requester, the commands it may run', async () => {
    const info = result(await iq(juliet, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_INFO })))!;
    assert.ok(info.getChildren('feature').some((f) => f.attrs.var === NS_COMMANDS));

    const listFor = async (client: XmppClient) => {
      const items = result(await iq(client, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_ITEMS, node: NS_COMMANDS })))!;
      assert.equal(items.attrs.node, NS_COMMANDS);
      return items.getChildren('item').map((i) => i.attrs);
    };
    assert.deepEqual(await listFor(juliet), [{ jid: 'localhost', node: WIZARD, name: 'Wizard' }]);
    assert.deepEqual(await listFor(prince), [
      { jid: 'localhost', node: WIZARD, name: 'Wizard' },
      { jid: 'localhost', node: UPTIME, name: 'Uptime' },
    ]);

    // §2.2: a command node's identity and features; §7.2: the list node is automation/command-list.
    const node = result(await iq(juliet, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_INFO, node: WIZARD })))!;
    assert.equal(node.attrs.node, WIZARD);
    assert.deepEqual(node.getChildren('identity').map((i) => i.attrs), [{ category: 'automation', type: 'command-node', name: 'Wizard' }]);
    assert.deepEqual(node.getChildren('feature').map((f) => f.attrs.var), [NS_COMMANDS, 'jabber:x:data']);
    const list = result(await iq(juliet, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_INFO, node: NS_COMMANDS })))!;
    assert.deepEqual(list.getChildren('identity').map((i) => i.attrs), [{ category: 'automation', type: 'command-list', name: 'Commands' }]);
    // §2.2: "If the command is not available to the requester, the responder SHOULD respond with a 403 Forbidden error."
    expectError(await iq(juliet, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_INFO, node: UPTIME })), 'auth', 'forbidden');
    expectError(await iq(juliet, 'get', 'localhost', xml('query', { xmlns: NS_DISCO_INFO, node: 'urn:nothing' })), 'cancel', 'item-not-found');
  });

  test('§2.4.2: next, prev (with the values given before and the state as it was), complete', async () => {
    // Stage 1: a form to fill in, with next as the only action and the default.
    const first = commandResult(await command(romeo, WIZARD, { action: 'execute' }));
    assert.equal(first.node, WIZARD);
    assert.match(first.sessionid, /^[A-Za-z0-9_-]{22}$/);
    assert.equal(first.status, 'executing');
    assert.equal(first.lang, 'en', '§3.7: the answer says its language');
    assert.deepEqual(first.actions, { allowed: ['next'], execute: 'next' });
    assert.equal(first.form?.type, 'form');
    assert.equal(first.form?.title, 'Who are you?');
    assert.deepEqual(first.form?.fields.get('FORM_TYPE')?.values, [WIZARD]);
    assert.deepEqual(first.form?.fields.get('colour')?.options, ['red', 'green', 'blue']);
    const { sessionid } = first;

    // Stage 2: prev and complete allowed, complete the default; a note greets.
    const second = commandResult(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Romeo', colour: 'green' }) }));
    assert.equal(second.sessionid, sessionid);
    assert.equal(second.status, 'executing');
    assert.deepEqual(second.actions, { allowed: ['prev', 'complete'], execute: 'complete' });
    assert.deepEqual(second.notes, [{ type: 'info', text: 'Hello Romeo' }]);
    assert.equal(second.form?.title, 'How big?');

    // Back to stage 1: the values submitted to it are shown again (§2.4.2 "MAY present remembered field values").
    const back = commandResult(await command(romeo, WIZARD, { sessionid, action: 'prev' }));
    assert.equal(back.status, 'executing');
    assert.deepEqual(back.actions, { allowed: ['next'], execute: 'next' });
    assert.deepEqual(back.form?.fields.get('name')?.values, ['Romeo']);
    assert.deepEqual(back.form?.fields.get('colour')?.values, ['green']);

    // execute means the stage's default, next; then complete.
    const again = commandResult(await command(romeo, WIZARD, { sessionid, action: 'execute', form: submitted({ name: 'Benvolio', colour: 'blue' }) }));
    assert.deepEqual(again.notes, [{ type: 'info', text: 'Hello Benvolio' }]);
    const done = commandResult(await command(romeo, WIZARD, { sessionid, action: 'complete', form: submitted({ size: 'large' }) }));
    assert.equal(done.sessionid, sessionid);
    assert.equal(done.status, 'completed');
    assert.equal(done.actions, undefined, 'no <actions/> once completed');
    assert.deepEqual(done.notes, [{ type: 'info', text: 'Done' }]);
    assert.equal(done.form?.type, 'result');
    assert.deepEqual(done.form?.fields.get('who')?.values, ['Benvolio (romeo@localhost/orchard)']);
    assert.deepEqual(done.form?.fields.get('colour')?.values, ['blue']);
    assert.deepEqual(done.form?.fields.get('size')?.values, ['large']);
    // The stage abandoned with prev left nothing in the state.
    assert.deepEqual(done.form?.fields.get('seen')?.values, ['0:execute', '1:next', '2:complete']);

    // §4.4: the session has ended.
    expectCommandError(await command(romeo, WIZARD, { sessionid, form: submitted({ size: 'small' }) }), 'cancel', 'not-allowed', 'session-expired');
  });

  test('§2.4.1: a command without forms completes in one request, with a sessionid that cannot be reused', async () => {
    const done = commandResult(await command(prince, UPTIME));
    assert.equal(done.status, 'completed');
    assert.ok(done.sessionid);
    assert.deepEqual(done.notes, [{ type: 'info', text: 'up' }]);
    expectCommandError(await command(prince, UPTIME, { sessionid: done.sessionid, action: 'complete' }), 'cancel', 'not-allowed', 'session-expired');
  });

  test('§2.4.3: cancel ends a session at any stage', async () => {
    const sessionid = await startWizard(romeo);
    commandResult(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Romeo' }) }));
    const canceled = await command(romeo, WIZARD, { sessionid, action: 'cancel' });
    const view = commandResult(canceled);
    assert.equal(view.status, 'canceled');
    assert.equal(view.sessionid, sessionid);
    assert.equal(view.form, undefined);
    assert.deepEqual(canceled.getChild('command', NS_COMMANDS)!.getChildElements(), []);
    expectCommandError(await command(romeo, WIZARD, { sessionid, action: 'cancel' }), 'cancel', 'not-allowed', 'session-expired');
  });

  test('§4.4: unknown and forbidden commands, malformed and unacceptable actions, bad locale', async () => {
    expectCommandError(await command(romeo, 'urn:nothing'), 'cancel', 'item-not-found');
    expectCommandError(await command(romeo, undefined), 'modify', 'bad-request');
    // An administrators' command, run by someone who is not one: forbidden, a cancel-type error in §4.4.
    expectCommandError(await command(juliet, UPTIME), 'cancel', 'forbidden');
    expectCommandError(await command(romeo, WIZARD, { action: 'jump' }), 'modify', 'bad-request', 'malformed-action');
    // A new session starts with execute.
    expectCommandError(await command(romeo, WIZARD, { action: 'next' }), 'modify', 'bad-request', 'bad-action');
    expectCommandError(await command(romeo, WIZARD, { action: 'complete' }), 'modify', 'bad-request', 'bad-action');
    // Stage 1 allows next only (cancel always).
    const sessionid = await startWizard(romeo);
    expectCommandError(await command(romeo, WIZARD, { sessionid, action: 'complete', form: submitted({ name: 'Romeo' }) }), 'modify', 'bad-request', 'bad-action');
    expectCommandError(await command(romeo, WIZARD, { sessionid, action: 'prev' }), 'modify', 'bad-request', 'bad-action');
    expectCommandError(await command(romeo, WIZARD, { sessionid, action: 'dance' }), 'modify', 'bad-request', 'malformed-action');
    // §3.7: commands are in English; another language gets English, a string that is no language tag bad-locale.
    expectCommandError(await command(romeo, WIZARD, { lang: 'not a tag!' }), 'modify', 'bad-request', 'bad-locale');
    const french = await romeo.iqCaller.request(xml('iq', { type: 'set', to: 'localhost', 'xml:lang': 'fr-CA' }, xml('command', { xmlns: NS_COMMANDS, node: WIZARD })));
    assert.equal(commandResult(french).lang, 'en');
    // None of this disturbed the session.
    const next = commandResult(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Romeo' }) }));
    assert.deepEqual(next.notes, [{ type: 'info', text: 'Hello Romeo' }]);
  });

  test('§4.4 bad-payload for a form that does not answer the stage; values the handler refuses come back with a note', async () => {
    const sessionid = await startWizard(romeo);
    // "the data form did not provide one or more required fields"
    expectCommandError(await command(romeo, WIZARD, { sessionid }), 'modify', 'bad-request', 'bad-payload');
    expectCommandError(await command(romeo, WIZARD, { sessionid, form: submitted({ colour: 'red' }) }), 'modify', 'bad-request', 'bad-payload');
    expectCommandError(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Romeo', colour: 'purple' }) }), 'modify', 'bad-request', 'bad-payload');
    expectCommandError(await command(romeo, WIZARD, { sessionid, form: submitted({ name: ['Romeo', 'Montague'] }) }), 'modify', 'bad-request', 'bad-payload');
    expectCommandError(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Romeo' }, 'form') }), 'modify', 'bad-request', 'bad-payload');
    expectCommandError(await command(romeo, WIZARD, { sessionid, form: submitted({ FORM_TYPE: 'urn:other', name: 'Romeo' }) }), 'modify', 'bad-request', 'bad-payload');
    // §3.5.1: a form of type cancel is read as submit.
    // The handler refuses Tybalt: the same stage again, his name kept, an error note (the session goes on).
    const refused = commandResult(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Tybalt' }, 'cancel') }));
    assert.equal(refused.status, 'executing');
    assert.deepEqual(refused.notes, [{ type: 'error', text: 'Tybalt may not enter' }]);
    assert.equal(refused.form?.title, 'Who are you?');
    assert.deepEqual(refused.form?.fields.get('name')?.values, ['Tybalt']);
    assert.deepEqual(refused.actions, { allowed: ['next'], execute: 'next' });
    const accepted = commandResult(await command(romeo, WIZARD, { sessionid, form: submitted({ name: 'Mercutio' }) }));
    assert.deepEqual(accepted.notes, [{ type: 'info', text: 'Hello Mercutio' }]);
  });

  test('§3.3, §4.4: a session belongs to one client: others, and other commands, get bad-sessionid', async () => {
    const sessionid = await startWizard(romeo);
    const form = submitted({ name: 'Romeo' });
    expectCommandError(await command(romeo, WIZARD, { sessionid: 'no-such-session', form }), 'modify', 'bad-request', 'bad-sessionid');
    expectCommandError(await command(romeo, WIZARD, { sessionid: '', form }), 'modify', 'bad-request', 'bad-sessionid');
    expectCommandError(await command(juliet, WIZARD, { sessionid, form }), 'modify', 'bad-request', 'bad-sessionid');
    expectCommandError(await command(juliet, WIZARD, { sessionid, action: 'cancel' }), 'modify', 'bad-request', 'bad-sessionid');
    expectCommandError(await command(romeoPhone, WIZARD, { sessionid, form }), 'modify', 'bad-request', 'bad-sessionid');
    expectCommandError(await command(prince, UPTIME, { sessionid, action: 'complete' }), 'modify', 'bad-request', 'bad-sessionid');
    // Still Romeo's, at stage 1.
    assert.deepEqual(commandResult(await command(romeo, WIZARD, { sessionid, form })).notes, [{ type: 'info', text: 'Hello Romeo' }]);
  });

  test("a client's sessions end with its stream", async () => {
    const client = await connectClient(server, 'juliet', undefined, 'balcony');
    const sessionid = await startWizard(client);
    const host = server.running.server.hosts.get('localhost')!;
    const ended = new Promise<void>((resolve) => {
      const off = host.events.on('session-ended', ({ session }: { session: Session }) => {
        if (session.jid.full !== 'juliet@localhost/balcony') return undefined;
        off();
        resolve();
        return undefined;
      });
    });
    await client.stop();
    await ended;
    const back = await connectClient(server, 'juliet', undefined, 'balcony');
    try {
      expectCommandError(await command(back, WIZARD, { sessionid, form: submitted({ name: 'Juliet' }) }), 'cancel', 'not-allowed', 'session-expired');
    } finally {
      await back.stop();
    }
  });
});

