// XEP-0004 Data Forms: parse and build 'jabber:x:data' forms, shared by PubSub (node configuration, subscription
// options, publish-options, metadata and subscription authorization, XEP-0060 §16.4) and XEP-0050 ad-hoc commands.
import { Element, xml } from './xml/element.js';

export const NS_DATA = 'jabber:x:data';

/** XEP-0004 §3.3 field types. */
export type FieldType =
  | 'boolean'
  | 'fixed'
  | 'hidden'
  | 'jid-multi'
  | 'jid-single'
  | 'list-multi'
  | 'list-single'
  | 'text-multi'
  | 'text-private'
  | 'text-single';

/** XEP-0004 §3.1 form types. */
export type FormType = 'form' | 'submit' | 'cancel' | 'result';

export interface FieldOption {
  value: string;
  label?: string;
}

export interface FormField {
  var: string;
  type?: FieldType;
  label?: string;
  desc?: string;
  required?: boolean;
  values: string[];
  options?: FieldOption[];
}

export interface DataForm {
  type: FormType;
  /** The value of the hidden FORM_TYPE field (XEP-0068), if any. */
  formType?: string;
  title?: string;
  instructions?: string[];
  /** The fields other than FORM_TYPE, in document order. */
  fields: FormField[];
  /** §3.4 multiple items in a result form: the columns (<reported/>) and one list of fields per <item/>. */
  reported?: FormField[];
  items?: FormField[][];
}

const FORM_TYPES = new Set<string>(['form', 'submit', 'cancel', 'result']);

/** Reads an <x xmlns='jabber:x:data'/> element. Returns null when it is not a form at all. */
export function parseForm(x: Element): DataForm | null {
  if (x.localName !== 'x' || x.ns !== NS_DATA) return null;
  const type = x.attrs.type ?? 'form';
  if (!FORM_TYPES.has(type)) return null;
  const form: DataForm = { type: type as FormType, fields: [] };
  const title = x.getChildText('title', NS_DATA);
  if (title !== undefined) form.title = title;
  const instructions = x.getChildren('instructions', NS_DATA).map((i) => i.text());
  if (instructions.length) form.instructions = instructions;
  for (const field of x.getChildren('field', NS_DATA)) {
    const values = field.getChildren('value', NS_DATA).map((v) => v.text());
    if (field.attrs.var === 'FORM_TYPE') {
      if (form.formType === undefined) form.formType = values[0] ?? '';
      continue;
    }
    const parsed = parseField(field);
    if (parsed) form.fields.push(parsed);
  }
  // §3.4: a result with several items.
  const reported = x.getChild('reported', NS_DATA);
  if (reported) form.reported = fieldsOf(reported);
  const items = x.getChildren('item', NS_DATA);
  if (items.length) form.items = items.map(fieldsOf);
  return form;
}

function fieldsOf(parent: Element): FormField[] {
  const out: FormField[] = [];
  for (const field of parent.getChildren('field', NS_DATA)) {
    const parsed = parseField(field);
    if (parsed) out.push(parsed);
  }
  return out;
}

function parseField(field: Element): FormField | null {
  const name = field.attrs.var;
  // §3.2: every field but 'fixed' has a var; a var-less fixed field carries no data.
  if (name === undefined) return null;
  const parsed: FormField = { var: name, values: field.getChildren('value', NS_DATA).map((v) => v.text()) };
  if (field.attrs.type) parsed.type = field.attrs.type as FieldType;
  if (field.attrs.label) parsed.label = field.attrs.label;
  if (field.getChild('required', NS_DATA)) parsed.required = true;
  const desc = field.getChildText('desc', NS_DATA);
  if (desc !== undefined) parsed.desc = desc;
  const options = field.getChildren('option', NS_DATA);
  if (options.length) parsed.options = options.map((o) => ({ value: o.getChildText('value', NS_DATA) ?? '', label: o.attrs.label }));
  return parsed;
}

/** The first data form among an element's children, optionally of one FORM_TYPE. */
export function findForm(parent: Element, formType?: string): DataForm | null {
  for (const child of parent.getChildren('x', NS_DATA)) {
    const form = parseForm(child);
    if (form && (formType === undefined || form.formType === formType)) return form;
  }
  return null;
}

/** Builds the <x/> element of a form; FORM_TYPE comes first, as a hidden field (XEP-0068 §3). */
export function buildForm(form: DataForm): Element {
  const x = xml('x', { xmlns: NS_DATA, type: form.type });
  if (form.title !== undefined) x.append(xml('title', {}, form.title));
  for (const line of form.instructions ?? []) x.append(xml('instructions', {}, line));
  if (form.formType !== undefined) x.append(xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, form.formType)));
  for (const field of form.fields) x.append(buildField(field, form.type));
  // §3.4: <reported/> names the columns (var, label, type) before the items that fill them.
  if (form.reported) x.append(xml('reported', {}, form.reported.map((f) => xml('field', { var: f.var, type: f.type, label: f.label }))));
  for (const item of form.items ?? []) x.append(xml('item', {}, item.map((f) => buildField(f, form.type))));
  return x;
}

function buildField(field: FormField, formType: FormType): Element {
  // In a submitted or result form the type may be left out (§3.2); Quire writes it in forms to fill in only,
  // but keeps it in results too since clients render them.
  const el = xml('field', { var: field.var, type: field.type, label: formType === 'submit' ? undefined : field.label });
  if (field.desc !== undefined && formType === 'form') el.append(xml('desc', {}, field.desc));
  if (field.required && formType === 'form') el.append(xml('required'));
  // The order of the XML schema (XEP-0004 §10): desc, required, value, option.
  for (const value of field.values) el.append(xml('value', {}, value));
  if (formType === 'form') for (const option of field.options ?? []) el.append(xml('option', { label: option.label }, xml('value', {}, option.value)));
  return el;
}

/** XEP-0004 §3.3 boolean: "true"/"1" and "false"/"0"; anything else is not a boolean. */
export function parseBoolean(value: string | undefined): boolean | undefined {
  switch (value?.trim()) {
    case '1':
    case 'true':
      return true;
    case '0':
    case 'false':
      return false;
    default:
      return undefined;
  }
}

/** The values of one field (FORM_TYPE excluded); an absent field has none. */
export function fieldValues(form: DataForm, name: string): string[] {
  return form.fields.find((f) => f.var === name)?.values ?? [];
}

/** The values of each field of a form by var (FORM_TYPE excluded). */
export function formValues(form: DataForm): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const field of form.fields) out.set(field.var, field.values);
  return out;
}
