// Node configuration over HTTP: the pubsub#node_config form of XEP-0060 §8.2 as a JSON object, or the form itself
// as XML. JSON names are the form's field names without "pubsub#" ("access_model", "max_items"), and
// "max_revisions" for Quire's {urn:quire:history:0}max_revisions; booleans, numbers, strings and lists map to the
// field's values. Unknown names are refused here, not ignored: a typo should not pass silently.
import type { ServerLimits } from '../../core/server.js';
import { HttpError } from '../../http/errors.js';
import { MAX_REVISIONS_FIELD, NS_DATA, NS_NODE_CONFIG, parseForm, type DataForm, type FormField } from '../../pubsub/index.js';
import { JSON_BODY, XML_BODY, parseXmlPayload } from './payloads.js';

function fieldName(key: string): string {
  if (key === 'max_revisions') return MAX_REVISIONS_FIELD;
  return key.startsWith('pubsub#') || key.startsWith('{') ? key : `pubsub#${key}`;
}

function jsonName(field: string): string {
  if (field === MAX_REVISIONS_FIELD) return 'max_revisions';
  return field.startsWith('pubsub#') ? field.slice('pubsub#'.length) : field;
}

function values(key: string, value: unknown): string[] {
  if (value === null) return [];
  if (typeof value === 'boolean') return [value ? 'true' : 'false'];
  if (typeof value === 'number' && Number.isFinite(value)) return [String(value)];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number')) return value.map(String);
  throw new HttpError(400, 'bad-request', `"${key}": give a string, number, boolean or list of strings`);
}

/** A submitted configuration form from a request body (JSON object or XML data form); null when there is no body. */
export function configurationOf(contentType: string | undefined, body: unknown, known: ReadonlySet<string>, limits: ServerLimits): DataForm | null {
  if (body === undefined || body === null || (typeof body === 'string' && body.trim() === '')) return null;
  if (typeof body !== 'string') throw new HttpError(400, 'bad-request', 'send the configuration as JSON or as a data form');
  if (contentType && JSON_BODY.test(contentType)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (err) {
      throw new HttpError(400, 'bad-request', `the body is not JSON: ${(err as Error).message}`);
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new HttpError(400, 'bad-request', 'the configuration is a JSON object of field names and values');
    const fields: FormField[] = [];
    for (const [key, value] of Object.entries(parsed)) {
      const name = fieldName(key);
      if (!known.has(name)) throw new HttpError(400, 'bad-request', `"${key}" is not a node configuration field here`);
      fields.push({ var: name, values: values(key, value) });
    }
    return { type: 'submit', formType: NS_NODE_CONFIG, fields };
  }
  if (contentType && XML_BODY.test(contentType)) {
    const x = parseXmlPayload(body, limits);
    const form = x.localName === 'x' && x.ns === NS_DATA ? parseForm(x) : null;
    if (!form || form.type !== 'submit') throw new HttpError(400, 'bad-request', `the XML configuration is a data form <x xmlns='${NS_DATA}' type='submit'/>`);
    return form;
  }
  throw new HttpError(415, 'unsupported-media-type', 'send the configuration as application/json or as an XML data form');
}

/** A configuration form as a JSON object. */
export function configurationJson(form: DataForm): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of form.fields) {
    const name = jsonName(field.var);
    if (field.type === 'boolean') out[name] = field.values[0] === 'true' || field.values[0] === '1';
    else if (field.type?.endsWith('-multi')) out[name] = field.values;
    else if (field.values.length === 0) out[name] = null;
    else out[name] = /^\d+$/.test(field.values[0]) ? Number(field.values[0]) : field.values[0];
  }
  return out;
}
