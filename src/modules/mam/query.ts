// Reading a MAM query: the XEP-0004 filter form of XEP-0313 §4.1 and the XEP-0059 <set/> that pages it.
// Both become plain values here; archive.ts runs them against the store.
import { StanzaError } from '../../core/stanza.js';
import { tryParseJid, type Jid } from '../../core/jid/index.js';
import { xml, type Element } from '../../core/xml/element.js';
import { NS_MAM } from './rules.js';

export const NS_DATA_FORMS = 'jabber:x:data';
export const NS_RSM = 'http://jabber.org/protocol/rsm';
export const NS_XDATA_VALIDATE = 'http://jabber.org/protocol/xdata-validate';
/** XEP-0431 §2.1: full-text search in MAM. */
export const NS_FULLTEXT = 'urn:xmpp:fulltext:0';
/** XEP-0431 §3.1: the search field, named in the XEP-0068 {namespace}name form. */
export const FULLTEXT_FIELD = `{${NS_FULLTEXT}}fulltext`;

export interface MamFilter {
  with?: Jid;
  /** Inclusive bounds in milliseconds since the epoch (§4.1.2). */
  start?: number;
  end?: number;
  /** #extended (§4.1.3): exclusive bounds by archive id, and a list of ids to fetch. */
  afterId?: string;
  beforeId?: string;
  ids?: string[];
  /** XEP-0431: words to search the messages' text for (the storage layer's rules, src/storage/text-search.ts). */
  text?: string;
}

/** What the archive behind a query can do, which decides the fields the form offers and accepts. */
export interface QueryCapabilities {
  /** Ids fetched at once at most (§4.1.3 ids). */
  maxIds: number;
  /** The store searches text (ArchiveStore.textSearch): XEP-0431's field is offered and understood. */
  fullText: boolean;
}

export interface RsmRequest {
  max?: number;
  after?: string;
  /** '' is an empty <before/>: the last page (XEP-0059 §2.5). */
  before?: string;
  index?: number;
}

export interface MamQuery {
  queryId?: string;
  filter: MamFilter;
  rsm: RsmRequest;
  /** §4.3.4: send the page newest first. */
  flip: boolean;
}

// XEP-0082 §3.2 DateTime: CCYY-MM-DDThh:mm:ss[.sss]TZD, TZD being Z or an offset.
const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))$/;

/**
 * A XEP-0082 DateTime in milliseconds since the epoch, or undefined when it is not one. Fractions finer than a
 * millisecond round toward the inside of the range they bound ('start' up, 'end' down), so inclusive bounds stay exact.
 */
export function parseDateTime(text: string, round: 'up' | 'down' = 'down'): number | undefined {
  const m = DATETIME.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined;
  let ms = Date.UTC(year, month - 1, day, hour, minute, second);
  if (m[9]) {
    const offset = (Number(m[10]) * 60 + Number(m[11])) * 60_000;
    ms += m[9] === '+' ? -offset : offset;
  }
  if (m[7]) {
    const fraction = Number(m[7]) * 1000;
    ms += round === 'up' ? Math.ceil(fraction) : Math.floor(fraction);
  }
  return Number.isFinite(ms) ? ms : undefined;
}

/** XEP-0082 DateTime in UTC with milliseconds, so a stamp used as 'start' or 'end' is exact. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString();
}

function badRequest(text: string): StanzaError {
  return new StanzaError('bad-request', text);
}

/** One value of a single-valued field; a field sent with no value counts as absent. */
function single(name: string, values: string[]): string | undefined {
  if (values.length > 1) throw badRequest(`the ${name} field takes one value`);
  return values[0];
}

/** The form fields Quire understands, as §4.1.5 form discovery lists them. */
export function queryForm(fullText: boolean): Element {
  const form = xml(
    'x',
    { xmlns: NS_DATA_FORMS, type: 'form' },
    xml('field', { type: 'hidden', var: 'FORM_TYPE' }, xml('value', {}, NS_MAM)),
    xml('field', { type: 'jid-single', var: 'with' }),
    xml('field', { type: 'text-single', var: 'start' }),
    xml('field', { type: 'text-single', var: 'end' }),
    xml('field', { type: 'text-single', var: 'before-id' }),
    xml('field', { type: 'text-single', var: 'after-id' }),
    // §4.1.5: the ids are open to any value, which XEP-0122 <validate><open/></validate> says.
    xml('field', { type: 'list-multi', var: 'ids' }, xml('validate', { xmlns: NS_XDATA_VALIDATE, datatype: 'xs:string' }, xml('open'))),
    xml('field', { type: 'boolean', var: 'include-groupchat' }),
  );
  // XEP-0431 §3.1: a text input field.
  if (fullText) form.append(xml('field', { type: 'text-single', var: FULLTEXT_FIELD }));
  return form;
}

/** Reads the filter form (§4.1). */
export function parseFilterForm(form: Element | undefined, { maxIds, fullText }: QueryCapabilities): MamFilter {
  const filter: MamFilter = {};
  if (!form) return filter;
  // XEP-0004 §3.1: a client submits a form with type 'submit'.
  if (form.attrs.type !== 'submit') throw badRequest(`the query form must have type 'submit'`);
  const seen = new Set<string>();
  for (const field of form.getChildren('field', NS_DATA_FORMS)) {
    const name = field.attrs.var;
    if (name === undefined) throw badRequest('a field of the query form has no var');
    if (seen.has(name)) throw badRequest(`the ${name} field appears twice`);
    seen.add(name);
    const values = field.getChildren('value', NS_DATA_FORMS).map((v) => v.text());
    switch (name) {
      case 'FORM_TYPE': {
        const value = single(name, values);
        if (value !== undefined && value.trim() !== NS_MAM) throw badRequest(`FORM_TYPE must be ${NS_MAM}`);
        break;
      }
      case 'with': {
        const value = single(name, values);
        if (value === undefined || value.trim() === '') break;
        const jid = tryParseJid(value.trim());
        if (!jid) throw new StanzaError('jid-malformed', `"${value}" in the with field is not a JID`);
        filter.with = jid;
        break;
      }
      case 'start':
      case 'end': {
        const value = single(name, values);
        if (value === undefined || value.trim() === '') break;
        // §4.1.2: both bounds are inclusive; an inexact fraction rounds into the range.
        const ms = parseDateTime(value, name === 'start' ? 'up' : 'down');
        if (ms === undefined) throw badRequest(`"${value}" in the ${name} field is not a XEP-0082 DateTime`);
        filter[name] = ms;
        break;
      }
      case 'after-id':
      case 'before-id': {
        const value = single(name, values);
        if (value === undefined) break;
        if (value === '') throw badRequest(`the ${name} field is empty`);
        if (name === 'after-id') filter.afterId = value;
        else filter.beforeId = value;
        break;
      }
      case 'ids': {
        const ids = [...new Set(values)];
        if (ids.length > maxIds) throw new StanzaError('policy-violation', `at most ${maxIds} ids can be fetched at once`);
        filter.ids = ids;
        break;
      }
      case 'include-groupchat': {
        // §4.1.4: understood (hence #groupchat-field); Quire keeps no groupchat messages, so true and false
        // give the same results.
        const value = single(name, values);
        if (value !== undefined && !['true', 'false', '1', '0'].includes(value.trim())) throw badRequest('include-groupchat is a boolean');
        break;
      }
      case FULLTEXT_FIELD: {
        // A store that cannot search does not know the field (below).
        if (!fullText) throw new StanzaError('feature-not-implemented', `the ${name} field is not supported`);
        // XEP-0431 §2.2: the text is searched for when it is not empty; what it matches is up to the server
        // (§3.2): every word, any case, no accents, a * after a word for a prefix, the rest no syntax.
        const value = single(name, values);
        if (value !== undefined && value.trim() !== '') filter.text = value;
        break;
      }
      default:
        // §4.1.5: a field the server does not recognise.
        throw new StanzaError('feature-not-implemented', `the ${name} field is not supported`);
    }
  }
  return filter;
}

function nonNegativeInteger(text: string, name: string): number {
  const trimmed = text.trim();
  if (!/^\d{1,9}$/.test(trimmed)) throw badRequest(`RSM <${name}/> must be a non-negative integer`);
  return Number(trimmed);
}

/** Reads the XEP-0059 <set/> of a query. */
export function parseRsm(set: Element | undefined): RsmRequest {
  const rsm: RsmRequest = {};
  if (!set) return rsm;
  const max = set.getChild('max', NS_RSM);
  if (max) rsm.max = nonNegativeInteger(max.text(), 'max');
  const after = set.getChild('after', NS_RSM);
  if (after) {
    if (after.text() === '') throw badRequest('RSM <after/> needs the id of an item');
    rsm.after = after.text();
  }
  const before = set.getChild('before', NS_RSM);
  if (before) rsm.before = before.text();
  const index = set.getChild('index', NS_RSM);
  if (index) {
    rsm.index = nonNegativeInteger(index.text(), 'index');
    if (rsm.after !== undefined || rsm.before !== undefined) throw badRequest('RSM <index/> cannot be combined with <after/> or <before/>');
  }
  return rsm;
}

/** Reads a whole <query xmlns='urn:xmpp:mam:2'/>. */
export function parseQuery(query: Element, capabilities: QueryCapabilities): MamQuery {
  // §6.1.3: 'node' is for pubsub archives (XEP-0442); a user archive has no nodes.
  if (query.attrs.node !== undefined) throw new StanzaError('feature-not-implemented', 'a user archive has no nodes');
  const form = query.getChildren('x', NS_DATA_FORMS);
  if (form.length > 1) throw badRequest('one query form at most');
  return {
    queryId: query.attrs.queryid,
    filter: parseFilterForm(form[0], capabilities),
    rsm: parseRsm(query.getChild('set', NS_RSM)),
    flip: query.getChild('flip-page', NS_MAM) !== undefined,
  };
}
