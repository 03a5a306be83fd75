// XEP-0050 Ad-Hoc Commands as modules offer them. A command is a node of a host with a name, who may run it, and a
// handler called once per stage of a session. The adhoc module serves them (discovery, sessions, actions, errors);
// a module registers its own with m.command() and declares `dependencies: ['adhoc']`.
import type { Jid } from './jid/index.js';
import type { DataForm } from './data-forms.js';
import { StanzaError } from './stanza.js';
import { xml } from './xml/element.js';

export const NS_COMMANDS = 'http://jabber.org/protocol/commands';

/**
 * Who may see and run a command (XEP-0050 §2.2: the list may differ by requester; §4.4: forbidden otherwise):
 * - 'self': an account of the host the command is addressed to; the command acts on that account;
 * - 'local': an account of any host this server serves;
 * - 'admin': the server administrators named in the adhoc module's `admins` option.
 */
export type CommandAccess = 'self' | 'local' | 'admin';

/** The actions a stage may allow besides cancel, which is always allowed (XEP-0050 §3.4). */
export type StageAction = 'prev' | 'next' | 'complete';

/** XEP-0050 §4.3 <note/>. */
export interface CommandNote {
  type: 'info' | 'warn' | 'error';
  text: string;
}

/** What a handler is called with, once per request that moves a session forward. */
export interface CommandRequest<S> {
  /** The full JID that runs the command; a session belongs to it alone (§3.3). */
  requester: Jid;
  /** The host the command is addressed to. */
  host: string;
  /**
   * 'execute' for the request that starts the session (stage 0); afterwards the action the requester chose, with
   * 'execute' already replaced by the stage's default (§3.4). 'prev' and 'cancel' are handled by the adhoc module.
   */
  action: 'execute' | 'next' | 'complete';
  /** The submitted form (XEP-0004 type submit, §3.5.1), checked against the stage's form; null at stage 0. */
  form: DataForm | null;
  /** How many forms the session has shown: 0 when it starts, 1 when the first form comes back, and so on. */
  stage: number;
  /** The session's state: the handler changes it as it likes. On 'prev' it goes back to what it was at that stage. */
  state: S;
}

/** A stage that waits for the requester: a form to fill in and the actions it allows. */
export interface ExecutingStep {
  status: 'executing';
  form: DataForm;
  actions: StageAction[];
  /** The default action, one of `actions` (§3.4: the `execute` attribute). */
  execute: StageAction;
  notes: CommandNote[];
}

/** The end of a session: results as a form, notes, or both (§3.6: a failure has an error note). */
export interface CompletedStep {
  status: 'completed';
  form?: DataForm;
  notes: CommandNote[];
}

export type CommandStep = ExecutingStep | CompletedStep;

export interface AdHocCommand<S extends object = Record<string, unknown>> {
  /** Unique among the host's commands (§3.2); the disco item's node. */
  node: string;
  /** The disco item's name: the label clients show. */
  name: string;
  access: CommandAccess;
  /** The state a session starts with: plain data, since going back (prev) restores a structuredClone of it. */
  initialState?(): S;
  /** Produces the next stage. Throw CommandInputError to show the same stage again, a StanzaError to fail the request. */
  handle(request: CommandRequest<S>): CommandStep | Promise<CommandStep>;
}

/** A stage with more to come: allows next (the default) and, when asked, prev. */
export function nextStage(form: DataForm, options: { prev?: boolean; notes?: CommandNote[] } = {}): ExecutingStep {
  return { status: 'executing', form, actions: options.prev ? ['prev', 'next'] : ['next'], execute: 'next', notes: options.notes ?? [] };
}

/** The last stage before completion: allows complete (the default) and, when asked, prev. */
export function lastStage(form: DataForm, options: { prev?: boolean; notes?: CommandNote[] } = {}): ExecutingStep {
  return { status: 'executing', form, actions: options.prev ? ['prev', 'complete'] : ['complete'], execute: 'complete', notes: options.notes ?? [] };
}

export function completed(options: { form?: DataForm; notes?: CommandNote[] } = {}): CompletedStep {
  return { status: 'completed', form: options.form, notes: options.notes ?? [] };
}

/**
 * Values the requester can correct (a number out of range, an unknown name): the stage's form is sent again with
 * the submitted values and this message as an error note, and the session stays at that stage.
 */
export class CommandInputError extends Error {}

/** The XEP-0050 §4.4 conditions in the commands namespace. */
export type CommandErrorCondition = 'bad-action' | 'bad-locale' | 'bad-payload' | 'bad-sessionid' | 'malformed-action' | 'session-expired';

/**
 * A §4.4 error: session-expired is a cancel-type <not-allowed/>, the others are modify-type <bad-request/>, each
 * with its specific condition in the commands namespace.
 */
export function commandError(condition: CommandErrorCondition, text?: string): StanzaError {
  const expired = condition === 'session-expired';
  return new StanzaError(expired ? 'not-allowed' : 'bad-request', text, expired ? 'cancel' : 'modify', xml(condition, { xmlns: NS_COMMANDS }));
}
