// XEP-0050 Ad-Hoc Commands on the host: the commands modules register (m.command) are listed on the commands node
// for those who may run them (§2.2), described on their own node, and executed in sessions of one or more stages
// (§2.4) with the actions, notes and errors of §4.
import { z } from 'zod';
import {
  CommandInputError,
  NS_COMMANDS,
  commandError,
  completed,
  type AdHocCommand,
  type CommandStep,
  type ExecutingStep,
  type StageAction,
} from '../../core/adhoc.js';
import { NS_DATA, type DataForm } from '../../core/data-forms.js';
import type { Host } from '../../core/host.js';
import { parseJid, type Jid } from '../../core/jid/index.js';
import { defineModule, type IqRequest, type ModuleContext } from '../../core/module-api.js';
import type { Session } from '../../core/session.js';
import { SerialQueues } from '../../core/serial-queues.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';
import { CommandSessions, type CommandSession } from './sessions.js';
import { canceledReply, checkSubmission, commandReply, readCommand, withSubmittedValues, type CommandRequestElement } from './stanzas.js';

const bareJid = z.string().superRefine((value, ctx) => {
  try {
    const jid = parseJid(value);
    if (jid.local === '' || jid.resource !== '') throw new Error('not a bare JID');
  } catch {
    ctx.addIssue({ code: 'custom', input: value, message: `expected an account's bare JID, got ${JSON.stringify(value)}. Fix: write it as user@example.org.` });
  }
});

const options = z
  .object({
    /** Accounts that may run the commands offered to server administrators. */
    admins: z.array(bareJid).default([]),
    /** Command sessions open at once on a host; beyond that a new one gets resource-constraint. */
    max_sessions: z.number().int().min(1).default(1000),
    /** Open sessions per client (full JID); a new one ends that client's oldest. */
    max_sessions_per_client: z.number().int().min(1).default(10),
    /** Seconds a session waits for the next stage before it expires. */
    session_timeout: z.number().int().min(10).max(86_400).default(600),
  })
  .strict()
  .prefault({});

export type AdHocOptions = z.infer<typeof options>;

/** 'disco-info/host-node' and 'disco-items/host-node', as the disco module fires them. */
interface HostNodeEvent {
  from: Jid;
  node: string;
}

export default defineModule({
  name: 'adhoc',
  spec: 'XEP-0050',
  description: 'Ad-hoc commands: forms other modules offer, run in sessions of one or more stages',
  options,
  setup(m) {
    const host = m.host;
    const admins = new Set(m.options.admins.map((j) => parseJid(j).bare));
    const sessions = new CommandSessions({
      maxSessions: m.options.max_sessions,
      maxPerRequester: m.options.max_sessions_per_client,
      idleMs: m.options.session_timeout * 1000,
    });
    // Requests of one session are handled one at a time, in order (a double-clicked "next" must not run twice at once).
    const queues = new SerialQueues();

    const mayRun = (command: AdHocCommand<object>, requester: Jid): boolean => {
      if (command.access === 'admin') return admins.has(requester.bare);
      if (requester.local === '') return false;
      return command.access === 'self' ? requester.domain === host.name : m.server.hosts.has(requester.domain);
    };

    // §2.1
    m.feature(NS_COMMANDS);
    answerDisco(m, mayRun);

    m.iq('set', NS_COMMANDS, 'command', async (request) => {
      const command = readCommand(request.stanza, request.payload);
      const definition = host.commands.get(command.node);
      if (!definition) throw new StanzaError('item-not-found', `no command "${command.node}" here`);
      // §4.4: forbidden is a cancel-type error here.
      if (!mayRun(definition, request.from)) throw new StanzaError('forbidden', 'you may not run this command', 'cancel');
      if (command.sessionid === undefined) return start(definition, command, request);
      const sessionid = command.sessionid;
      return queues.run(sessionid, () => advance(definition, sessions.find(sessionid, request.from, command.node), command, request));
    });

    /** §2.4: a request without a sessionid starts a session; its action can only be execute. */
    async function start(definition: AdHocCommand<object>, command: CommandRequestElement, request: IqRequest): Promise<Element> {
      if (command.action !== 'execute') throw commandError('bad-action', `a new session starts with execute, not ${command.action}`);
      const session = sessions.open(definition.node, request.from);
      const state = definition.initialState?.() ?? {};
      let step: CommandStep;
      try {
        step = await definition.handle({ requester: request.from, host: host.name, action: 'execute', form: null, stage: 0, state });
      } catch (err) {
        sessions.end(session);
        // Nothing was submitted at stage 0 that the requester could correct: the command completes with the reason.
        if (!(err instanceof CommandInputError)) throw err;
        step = completed({ notes: [{ type: 'error', text: err.message }] });
      }
      return stepReply(definition, session, state, step);
    }

    /** §2.4.2, §2.4.3: the next request of a session. */
    async function advance(definition: AdHocCommand<object>, session: CommandSession, command: CommandRequestElement, request: IqRequest): Promise<Element> {
      session.lastActive = Date.now();
      if (command.action === 'cancel') {
        sessions.end(session);
        return canceledReply(definition.node, session.id);
      }
      const current = session.stages.at(-1)!;
      // §3.4: execute stands for the stage's default action; any action must be one the stage allows.
      const action: StageAction = command.action === 'execute' ? current.step.execute : command.action;
      if (!current.step.actions.includes(action)) throw commandError('bad-action', `this stage allows ${[...current.step.actions, 'cancel'].join(', ')}`);
      if (action === 'prev') return goBack(definition, session);
      const form: DataForm = command.form ?? { type: 'submit', fields: [] };
      checkSubmission(current.step.form, form);
      // Each stage works on a copy of the state the current stage was shown with, so that going back restores it.
      const state = structuredClone(current.state);
      let step: CommandStep;
      try {
        step = await definition.handle({ requester: request.from, host: host.name, action, form, stage: session.stages.length, state });
      } catch (err) {
        if (!(err instanceof CommandInputError)) throw err;
        current.submitted = form;
        return commandReply(definition.node, session.id, again(current.step, form, err.message));
      }
      current.submitted = form;
      return stepReply(definition, session, state, step);
    }

    /** §2.4.2: back to the previous stage, with the values submitted to it and the state it had. */
    function goBack(definition: AdHocCommand<object>, session: CommandSession): Element {
      if (session.stages.length < 2) throw commandError('bad-action', 'there is no previous stage');
      session.stages.pop();
      const previous = session.stages.at(-1)!;
      return commandReply(definition.node, session.id, { ...previous.step, form: withSubmittedValues(previous.step.form, previous.submitted) });
    }

    /** Records the stage a handler produced (or ends the session) and builds the answer. */
    function stepReply(definition: AdHocCommand<object>, session: CommandSession, state: object, step: CommandStep): Element {
      if (step.status === 'completed') {
        sessions.end(session);
        m.log.debug({ node: definition.node, requester: session.requester }, 'command completed');
      } else {
        session.stages.push({ step, state: structuredClone(state) });
      }
      return commandReply(definition.node, session.id, step);
    }

    // A client's sessions end with its stream: nobody else may continue them. Its host may be any host of the server.
    for (const h of m.server.hosts.values()) {
      const off = h.events.on('session-ended', ({ session }: { session: Session }) => {
        sessions.endAllOf(session.jid.full);
        return undefined;
      });
      m.onUnload(off);
    }
    m.every(60_000, () => sessions.sweep());
    m.onUnload(() => sessions.clear());
  },
});

/** The current stage's form again with the submitted values and an error note; the session stays where it was. */
function again(step: ExecutingStep, submitted: DataForm, message: string): ExecutingStep {
  return { ...step, form: withSubmittedValues(step.form, submitted), notes: [{ type: 'error', text: message }] };
}

/** §2.2: the command list and each command's node in the host's disco, as the requester may see them. */
function answerDisco(m: ModuleContext<AdHocOptions>, mayRun: (command: AdHocCommand<object>, requester: Jid) => boolean): void {
  const host: Host = m.host;
  m.hook('disco-items/host-node', ({ from, node }: HostNodeEvent) => {
    if (node !== NS_COMMANDS) return undefined;
    const items: Element[] = [];
    for (const command of host.commands.values()) {
      if (mayRun(command, from)) items.push(xml('item', { jid: host.name, node: command.node, name: command.name }));
    }
    return items;
  });
  m.hook('disco-info/host-node', ({ from, node }: HostNodeEvent) => {
    // XEP-0050 §7.2 (registrar): the command list node is automation/command-list.
    if (node === NS_COMMANDS) return [xml('identity', { category: 'automation', type: 'command-list', name: 'Commands' })];
    const command = host.commands.get(node);
    if (!command) return undefined;
    // §2.2: a command the requester may not run is forbidden.
    if (!mayRun(command, from)) throw new StanzaError('forbidden', 'you may not run this command');
    return [
      xml('identity', { category: 'automation', type: 'command-node', name: command.name }),
      xml('feature', { var: NS_COMMANDS }),
      xml('feature', { var: NS_DATA }),
    ];
  });
}
