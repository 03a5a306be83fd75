// The <command/> element of XEP-0050 both ways: reading a request (node, action, sessionid, language, submitted
// form) and writing the responder's answer (status, <actions/>, <note/>s, the form).
import { NS_COMMANDS, commandError, type CommandNote, type CommandStep, type ExecutingStep, type StageAction } from '../../core/adhoc.js';
import { NS_DATA, buildForm, parseForm, type DataForm, type FormField } from '../../core/data-forms.js';
import { StanzaError } from '../../core/stanza.js';
import { xml, type Element } from '../../core/xml/element.js';

/** §4.1 action values. */
export type RequestAction = 'execute' | 'cancel' | StageAction;
const ACTIONS = new Set<string>(['execute', 'cancel', 'prev', 'next', 'complete']);

/** The language Quire's commands are written in, stated on every answer (§3.7). */
export const COMMAND_LANGUAGE = 'en';

// xml:lang takes a language tag (XML 1.0 §2.12, BCP 47): letters, then subtags of letters and digits.
const LANGUAGE_TAG = /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/;

export interface CommandRequestElement {
  node: string;
  /** Absent means execute (§4.1). */
  action: RequestAction;
  sessionid?: string;
  /** The submitted data form, if any (§3.5.1: type submit, or cancel read as submit). */
  form: DataForm | null;
}

/** Reads an IQ's <command/>; throws the §4.4 error for what it cannot accept. */
export function readCommand(iq: Element, command: Element): CommandRequestElement {
  // §4.1: node MUST be present.
  const node = command.attrs.node;
  if (node === undefined || node === '') throw new StanzaError('bad-request', 'the command has no node');
  const action = command.attrs.action ?? 'execute';
  if (!ACTIONS.has(action)) throw commandError('malformed-action', `"${action}" is not an action of XEP-0050`);
  // §3.7: the language comes on the IQ or the <command/>. Quire's commands are in English: any well-formed tag
  // gets English (said with xml:lang on the answer); one that is not a language tag cannot be accepted.
  const lang = command.attrs['xml:lang'] ?? iq.attrs['xml:lang'];
  if (lang !== undefined && lang !== '' && !LANGUAGE_TAG.test(lang)) throw commandError('bad-locale', `"${lang}" is not a language tag`);
  const sessionid = command.attrs.sessionid;
  return { node, action: action as RequestAction, sessionid, form: submittedForm(command) };
}

function submittedForm(command: Element): DataForm | null {
  const x = command.getChild('x', NS_DATA);
  if (!x) return null;
  const form = parseForm(x);
  // §3.5.1: the requester SHOULD NOT use a type other than submit; cancel is read as submit.
  if (!form || (form.type !== 'submit' && form.type !== 'cancel')) throw commandError('bad-payload', 'submit the form with type="submit"');
  return { ...form, type: 'submit' };
}

/** Builds the answer for one stage (§2.4): status, the allowed actions while executing, notes, then the form. */
export function commandReply(node: string, sessionid: string, step: CommandStep): Element {
  const command = xml('command', { xmlns: NS_COMMANDS, node, sessionid, status: step.status, 'xml:lang': COMMAND_LANGUAGE });
  if (step.status === 'executing') command.append(actionsElement(step));
  for (const note of step.notes) command.append(noteElement(note));
  if (step.form) command.append(buildForm(step.form));
  return command;
}

/** §2.4.3: the answer to cancel. */
export function canceledReply(node: string, sessionid: string): Element {
  return xml('command', { xmlns: NS_COMMANDS, node, sessionid, status: 'canceled', 'xml:lang': COMMAND_LANGUAGE });
}

// The schema's order of the children of <actions/>.
const ACTION_ORDER: StageAction[] = ['prev', 'next', 'complete'];

/** §4.2: the allowed actions, and the default one as `execute` (always one of them, §3.4). */
function actionsElement(step: ExecutingStep): Element {
  return xml('actions', { execute: step.execute }, ACTION_ORDER.filter((a) => step.actions.includes(a)).map((a) => xml(a)));
}

function noteElement(note: CommandNote): Element {
  return xml('note', { type: note.type }, note.text);
}

/** The stage's form again with what the requester submitted to it in place of the values it had. */
export function withSubmittedValues(form: DataForm, submitted: DataForm | undefined): DataForm {
  if (!submitted) return form;
  const fields = form.fields.map((field): FormField => {
    if (field.type === 'fixed' || field.type === 'hidden') return field;
    const given = submitted.fields.find((f) => f.var === field.var);
    return given ? { ...field, values: given.values } : field;
  });
  return { ...form, fields };
}

const SINGLE_VALUE = new Set(['boolean', 'jid-single', 'list-single', 'text-private', 'text-single']);

/**
 * Checks a submitted form against the form it answers (XEP-0004 §3.2, §3.3): the same FORM_TYPE, every required
 * field filled in, one value for single-value fields, values of list fields among their options. A failure is
 * XEP-0050's bad-payload (§4.4: "the data form did not provide one or more required fields").
 */
export function checkSubmission(form: DataForm, submitted: DataForm): void {
  if (form.formType !== undefined && submitted.formType !== undefined && submitted.formType !== form.formType) {
    throw commandError('bad-payload', `the form's FORM_TYPE is ${form.formType}`);
  }
  for (const field of form.fields) {
    if (field.type === 'fixed') continue;
    const values = submitted.fields.find((f) => f.var === field.var)?.values ?? [];
    const name = field.label ?? field.var;
    if (field.required && values.every((v) => v.trim() === '')) throw commandError('bad-payload', `"${name}" is required`);
    if (field.type !== undefined && SINGLE_VALUE.has(field.type) && values.length > 1) throw commandError('bad-payload', `"${name}" takes one value`);
    if ((field.type === 'list-single' || field.type === 'list-multi') && field.options) {
      const allowed = new Set(field.options.map((o) => o.value));
      const wrong = values.find((v) => v !== '' && !allowed.has(v));
      if (wrong !== undefined) throw commandError('bad-payload', `"${wrong}" is not one of the choices of "${name}"`);
    }
  }
}
