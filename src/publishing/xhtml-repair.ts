// Post bodies are sanitized, not validated: imported blogs and hand-written XHTML hold <p><div>, stray <li>,
// <a> inside <a>. Browsers mend that as they parse; EPUB reading systems and epubcheck hold content documents to
// the HTML content models (HTML §3.2.5, §4.4-4.9). This pass makes the tree fit them, keeping every bit of text:
// an element where it may not stand becomes a <span> (where only phrasing content may stand) or a <div>, and the
// children a list or table may not hold directly get the wrapper they need.
import { Element, type Node } from '../core/xml/element.js';
import { NS_XHTML } from './post.js';

/** HTML §3.2.5.2.5 phrasing content, among the elements the sanitizer allows. */
const PHRASING = new Set(['a', 'abbr', 'b', 'bdi', 'bdo', 'br', 'cite', 'code', 'del', 'dfn', 'em', 'i', 'img', 'ins', 'kbd', 'mark', 'q', 'ruby', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var', 'wbr']);
/** Elements whose content model is phrasing content (dt, summary and rt are stricter than that or close to it). */
const PHRASING_PARENTS = new Set([...PHRASING, 'p', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'pre', 'dt', 'summary', 'rt', 'rp']);
/** Transparent elements: their content model is their parent's. */
const TRANSPARENT = new Set(['a', 'del', 'ins']);
/** Elements that may only stand in certain parents. */
const PARENTS: Record<string, string[]> = {
  li: ['ul', 'ol'], dt: ['dl'], dd: ['dl'], tr: ['table', 'thead', 'tbody', 'tfoot'], td: ['tr'], th: ['tr'],
  thead: ['table'], tbody: ['table'], tfoot: ['table'], caption: ['table'], colgroup: ['table'], col: ['colgroup'],
  figcaption: ['figure'], summary: ['details'], rt: ['ruby'], rp: ['ruby'],
};
/** What lists and tables may hold directly, and the wrapper anything else gets. */
const CHILDREN: Record<string, { allowed: string[]; wrap: string[] }> = {
  ul: { allowed: ['li'], wrap: ['li'] },
  ol: { allowed: ['li'], wrap: ['li'] },
  dl: { allowed: ['dt', 'dd', 'div'], wrap: ['dd'] },
  table: { allowed: ['caption', 'colgroup', 'thead', 'tbody', 'tfoot', 'tr'], wrap: ['tr', 'td'] },
  thead: { allowed: ['tr'], wrap: ['tr', 'td'] },
  tbody: { allowed: ['tr'], wrap: ['tr', 'td'] },
  tfoot: { allowed: ['tr'], wrap: ['tr', 'td'] },
  tr: { allowed: ['td', 'th'], wrap: ['td'] },
  colgroup: { allowed: ['col'], wrap: [] },
};
/** Attributes every element may have; an element renamed keeps only these. */
const GLOBAL_ATTRIBUTES = new Set(['lang', 'xml:lang', 'dir', 'title']);

interface Context {
  parent: string;
  phrasing: boolean;
  inLink: boolean;
}

function renamed(el: Element, name: string): Element {
  const attrs: Record<string, string> = {};
  for (const key in el.attrs) if (GLOBAL_ATTRIBUTES.has(key)) attrs[key] = el.attrs[key];
  const copy = new Element(name, attrs, [], NS_XHTML);
  for (const child of el.children) copy.append(child);
  return copy;
}

function wrapped(node: Node, wrappers: string[]): Node {
  let out = node;
  for (const name of [...wrappers].reverse()) out = new Element(name, {}, [out], NS_XHTML);
  return out;
}

/** Gives a list's or table's stray children the wrapper they need (td and th in a table only need a row). */
function fitChildren(parent: string, nodes: Node[]): Node[] {
  const rule = CHILDREN[parent];
  if (!rule) return nodes;
  const out: Node[] = [];
  for (const node of nodes) {
    const isText = typeof node === 'string';
    if (isText && node.trim() === '') {
      out.push(node);
      continue;
    }
    const name = isText ? '' : node.name;
    if (rule.allowed.includes(name)) out.push(node);
    else if (!rule.wrap.length) continue;
    else if ((name === 'td' || name === 'th') && rule.wrap[0] === 'tr') out.push(wrapped(node, ['tr']));
    else out.push(wrapped(node, rule.wrap));
  }
  return out;
}

function repairNodes(nodes: Node[], ctx: Context): Node[] {
  const out: Node[] = [];
  for (const node of fitChildren(ctx.parent, nodes)) {
    if (typeof node === 'string') {
      out.push(node);
      continue;
    }
    let el = node;
    const parents = PARENTS[el.name];
    if (parents && !parents.includes(ctx.parent)) {
      if (el.name === 'col' || el.name === 'colgroup') continue;
      el = renamed(el, ctx.phrasing ? 'span' : 'div');
    }
    if (el.name === 'a' && ctx.inLink) el = renamed(el, 'span');
    if (ctx.phrasing && !PHRASING.has(el.name)) {
      if (el.name === 'hr') continue;
      el = renamed(el, 'span');
    }
    const phrasing = PHRASING_PARENTS.has(el.name) && !(TRANSPARENT.has(el.name) && !ctx.phrasing);
    const children = repairNodes(el.children, { parent: el.name, phrasing, inLink: ctx.inLink || el.name === 'a' });
    el.children = [];
    for (const child of children) el.append(child);
    out.push(el);
  }
  return out;
}

/** XHTML nodes (from htmlToXhtml) fitted to the HTML content models, as children of a flow-content parent. */
export function repairXhtml(nodes: Node[], parent = 'section'): Node[] {
  return repairNodes(nodes, { parent, phrasing: false, inLink: false });
}
