// App tokens from the client: three XEP-0050 commands that let an account create, list and revoke the tokens its
// applications use over HTTP (server.tokens keeps them). The token is shown once, in the completed create command.
import { z } from 'zod';
import { CommandInputError, completed, lastStage, nextStage, type CommandRequest, type CommandStep } from '../../core/adhoc.js';
import { AppTokenError, type AppTokenRecord, type AppTokens, type AppTokenScope, type CreatedAppToken } from '../../core/app-tokens.js';
import { fieldValues, type DataForm, type FormField } from '../../core/data-forms.js';
import { defineModule } from '../../core/module-api.js';

export const NODE_CREATE = 'https://quire.im/commands/app-tokens#create';
export const NODE_LIST = 'https://quire.im/commands/app-tokens#list';
export const NODE_REVOKE = 'https://quire.im/commands/app-tokens#revoke';
/** The FORM_TYPE of the commands' forms (XEP-0068). */
export const FORM_TYPE = 'https://quire.im/commands/app-tokens';

const DAY_MS = 86_400_000;

const options = z
  .object({
    /** The expiry the create form proposes, in days. */
    default_expiry_days: z.number().int().min(1).default(90),
    /** The longest expiry a token may get, in days. */
    max_expiry_days: z.number().int().min(1).max(36_500).default(365),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.default_expiry_days > o.max_expiry_days) {
      ctx.addIssue({ code: 'custom', path: ['default_expiry_days'], input: o.default_expiry_days, message: `is more than max_expiry_days (${o.max_expiry_days}). Fix: write ${o.max_expiry_days} or less, or raise max_expiry_days.` });
    }
  })
  .prefault({});

export type AppTokensOptions = z.infer<typeof options>;

export default defineModule({
  name: 'app_tokens',
  description: 'App tokens for HTTP clients (Storage API, Publishing): create, list and revoke them with ad-hoc commands',
  dependencies: ['adhoc'],
  options,
  setup(m) {
    const tokens = m.server.tokens;
    const expiry = { defaultDays: m.options.default_expiry_days, maxDays: m.options.max_expiry_days };
    m.command({ node: NODE_CREATE, name: 'Create an app token', access: 'self', handle: (request) => createCommand(tokens, expiry, request) });
    m.command({ node: NODE_LIST, name: 'List app tokens', access: 'self', handle: (request) => listCommand(tokens, request) });
    m.command<RevokeState>({ node: NODE_REVOKE, name: 'Revoke an app token', access: 'self', handle: (request) => revokeCommand(tokens, request) });
  },
});

interface ExpiryLimits {
  defaultDays: number;
  maxDays: number;
}

// --- create: one form, then the token ---

async function createCommand(tokens: AppTokens, expiry: ExpiryLimits, request: CommandRequest<object>): Promise<CommandStep> {
  if (request.stage === 0) return lastStage(createForm(expiry));
  const spec = readCreateForm(request.form!, expiry);
  let created: CreatedAppToken;
  try {
    created = await tokens.create(request.host, request.requester.local, spec);
  } catch (err) {
    if (!(err instanceof AppTokenError)) throw err;
    if (err.code === 'invalid') throw new CommandInputError(err.message);
    // XEP-0050 §3.6: a command that completes but fails says why in an error note.
    return completed({ notes: [{ type: 'error', text: err.message }] });
  }
  return completed({
    form: createdForm(created),
    notes: [{ type: 'info', text: 'Copy the token now: it will not be shown again. Give it to the application as its password or bearer token.' }],
  });
}

function createForm(expiry: ExpiryLimits): DataForm {
  return {
    type: 'form',
    formType: FORM_TYPE,
    title: 'Create an app token',
    instructions: ['An app token lets an application read or change your data over HTTP (the Storage API, blog publishing) without your password. You can revoke it at any time.'],
    fields: [
      { var: 'label', type: 'text-single', label: 'Application', desc: 'What the token is for, so that you recognize it later', required: true, values: [] },
      {
        var: 'scope',
        type: 'list-single',
        label: 'Access',
        required: true,
        options: [
          { value: 'read', label: 'Read' },
          { value: 'write', label: 'Read and write' },
        ],
        values: ['read'],
      },
      { var: 'nodes', type: 'text-multi', label: 'Nodes (one per line; none: all your nodes)', desc: 'A node of your own PEP service by name, or service/node such as pubsub.example.org/news', values: [] },
      { var: 'expires', type: 'text-single', label: `Expires after (days, 1 to ${expiry.maxDays})`, required: true, values: [String(expiry.defaultDays)] },
    ],
  };
}

/** The create form's values; what the requester can correct is a CommandInputError. */
function readCreateForm(form: DataForm, expiry: ExpiryLimits): { label: string; scope: AppTokenScope; nodes: string[]; expiresAt: number } {
  const label = fieldValues(form, 'label')[0] ?? '';
  const scope: AppTokenScope = fieldValues(form, 'scope')[0] === 'write' ? 'write' : 'read';
  // XEP-0004 §3.3: text-multi sends a value per line; a client that sends the lines in one value is understood too.
  const nodes = fieldValues(form, 'nodes').flatMap((v) => v.split(/\r?\n/));
  const days = (fieldValues(form, 'expires')[0] ?? '').trim();
  if (!/^\d{1,6}$/.test(days) || Number(days) < 1 || Number(days) > expiry.maxDays) {
    throw new CommandInputError(`Expires after: write a whole number of days from 1 to ${expiry.maxDays}`);
  }
  return { label, scope, nodes, expiresAt: Date.now() + Number(days) * DAY_MS };
}

function createdForm({ id, token, record }: CreatedAppToken): DataForm {
  return {
    type: 'result',
    formType: FORM_TYPE,
    title: 'App token created',
    fields: [
      { var: 'token', type: 'text-single', label: 'Token (shown once)', values: [token] },
      { var: 'id', type: 'text-single', label: 'Id', values: [id] },
      ...describe(record),
    ],
  };
}

// --- list: a result table ---

async function listCommand(tokens: AppTokens, request: CommandRequest<object>): Promise<CommandStep> {
  const records = await tokens.list(request.host, request.requester.local);
  if (records.length === 0) return completed({ notes: [{ type: 'info', text: 'You have no app tokens.' }] });
  return completed({
    form: {
      type: 'result',
      formType: FORM_TYPE,
      title: 'Your app tokens',
      // XEP-0004 §3.4: the columns, then one item per token.
      reported: [
        { var: 'id', type: 'text-single', label: 'Id', values: [] },
        { var: 'label', type: 'text-single', label: 'Application', values: [] },
        { var: 'scope', type: 'text-single', label: 'Access', values: [] },
        { var: 'nodes', type: 'text-multi', label: 'Nodes', values: [] },
        { var: 'created', type: 'text-single', label: 'Created', values: [] },
        { var: 'expires', type: 'text-single', label: 'Expires', values: [] },
        { var: 'last-used', type: 'text-single', label: 'Last used', values: [] },
      ],
      items: records.map((r) => [
        { var: 'id', values: [r.id] },
        { var: 'label', values: [r.label] },
        { var: 'scope', values: [r.scope] },
        { var: 'nodes', values: nodesText(r) },
        { var: 'created', values: [dateTime(r.createdAt)] },
        { var: 'expires', values: [expiresText(r)] },
        { var: 'last-used', values: [r.lastUsed === null ? 'never' : dateTime(r.lastUsed)] },
      ]),
      fields: [],
    },
  });
}

// --- revoke: choose a token, confirm, revoke ---

interface RevokeState {
  id?: string;
  label?: string;
}

async function revokeCommand(tokens: AppTokens, request: CommandRequest<RevokeState>): Promise<CommandStep> {
  const { host, requester, stage, state } = request;
  if (stage === 0) {
    const records = await tokens.list(host, requester.local);
    if (records.length === 0) return completed({ notes: [{ type: 'info', text: 'You have no app tokens to revoke.' }] });
    return nextStage(chooseForm(records));
  }
  if (stage === 1) {
    const id = fieldValues(request.form!, 'token')[0];
    const record = (await tokens.list(host, requester.local)).find((r) => r.id === id);
    if (!record) throw new CommandInputError('That token is no longer there: choose another one');
    state.id = record.id;
    state.label = record.label;
    return lastStage(confirmForm(record), { prev: true });
  }
  if (!(await tokens.revoke(host, requester.local, state.id!))) {
    return completed({ notes: [{ type: 'error', text: `The token "${state.label}" (${state.id}) was revoked already.` }] });
  }
  return completed({ notes: [{ type: 'info', text: `Revoked the token "${state.label}" (${state.id}): applications that use it are refused from now on.` }] });
}

function chooseForm(records: AppTokenRecord[]): DataForm {
  return {
    type: 'form',
    formType: FORM_TYPE,
    title: 'Revoke an app token',
    instructions: ['Choose the token to revoke. Applications that use it are refused from then on.'],
    fields: [
      {
        var: 'token',
        type: 'list-single',
        label: 'Token',
        required: true,
        options: records.map((r) => ({ value: r.id, label: `${r.label} (${r.id}, ${r.scope}, ${expiresText(r)})` })),
        values: [],
      },
    ],
  };
}

function confirmForm(record: AppTokenRecord): DataForm {
  return {
    type: 'form',
    formType: FORM_TYPE,
    title: 'Revoke an app token',
    instructions: [`Revoke "${record.label}" (${record.id})? This cannot be undone.`],
    fields: describe(record).map((f) => ({ ...f, type: 'fixed' as const, values: [`${f.label}: ${f.values.join(', ')}`] })),
  };
}

// --- shared ---

/** A token's properties as read-only fields. */
function describe(record: AppTokenRecord): FormField[] {
  return [
    { var: 'label', type: 'text-single', label: 'Application', values: [record.label] },
    { var: 'scope', type: 'text-single', label: 'Access', values: [record.scope] },
    { var: 'nodes', type: 'text-multi', label: 'Nodes', values: nodesText(record) },
    { var: 'expires', type: 'text-single', label: 'Expires', values: [expiresText(record)] },
  ];
}

function nodesText(record: AppTokenRecord): string[] {
  return record.nodes.length ? record.nodes : ['(all your nodes)'];
}

function expiresText(record: AppTokenRecord): string {
  if (record.expiresAt === null) return 'never';
  return record.expiresAt <= Date.now() ? `${dateTime(record.expiresAt)} (expired)` : dateTime(record.expiresAt);
}

/** XEP-0082 DateTime, to the second. */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
