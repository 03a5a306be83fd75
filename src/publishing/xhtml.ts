// Between XHTML (in Atom entries, RFC 4287 §3.1.1.3, and in EPUB documents) and HTML (what the sanitizer reads and
// the web pages carry). Both directions produce text a browser or an XML parser reads as the same tree.
import { parseDocument, DomUtils } from 'htmlparser2';
import { Element, escapeText, type Node } from '../core/xml/element.js';
import { NS_XHTML } from './post.js';

type DomDocument = ReturnType<typeof parseDocument>;
type DomNode = DomDocument['children'][number];

/** HTML's void elements: no end tag in HTML, self-closed in XHTML. */
export const VOID_ELEMENTS: ReadonlySet<string> = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'track', 'wbr']);

function escapeHtmlAttr(value: string): string {
  return value.replace(/[&"<>]/g, (c) => (c === '&' ? '&amp;' : c === '"' ? '&quot;' : c === '<' ? '&lt;' : '&gt;'));
}

/** The text of an element and its descendants, in document order. */
export function deepText(node: Node): string {
  if (typeof node === 'string') return node;
  let out = '';
  for (const child of node.children) out += deepText(child);
  return out;
}

/** XHTML nodes (an Atom xhtml div's children) as HTML: every non-void element gets an end tag, so `<p/>` cannot
 *  swallow what follows it when an HTML parser reads the result; `xml:lang` becomes `lang`; namespace declarations
 *  and other prefixed attributes go. Elements outside the XHTML namespace are written by local name too: the
 *  sanitizer's allow-list decides what survives. */
export function xhtmlToHtml(nodes: readonly Node[]): string {
  let out = '';
  for (const node of nodes) {
    if (typeof node === 'string') {
      out += escapeText(node);
      continue;
    }
    const name = node.localName.toLowerCase();
    out += '<' + name;
    for (const key in node.attrs) {
      if (key === 'xmlns' || key.startsWith('xmlns:')) continue;
      const attr = key === 'xml:lang' ? 'lang' : key;
      if (attr.includes(':')) continue;
      out += ` ${attr}="${escapeHtmlAttr(node.attrs[key])}"`;
    }
    out += '>';
    if (VOID_ELEMENTS.has(name)) continue;
    out += xhtmlToHtml(node.children) + `</${name}>`;
  }
  return out;
}

// XML 1.0 §2.2: characters an XML document cannot hold at all.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function stripXmlInvalid(text: string): string {
  return text.replace(XML_INVALID, '');
}

function toXhtml(node: DomNode, out: Node[]): void {
  if (DomUtils.isText(node)) {
    const text = stripXmlInvalid(node.data);
    if (text) out.push(text);
    return;
  }
  if (DomUtils.isTag(node)) {
    const attrs: Record<string, string> = {};
    for (const [key, value] of Object.entries(node.attribs)) {
      // Names an XML parser would refuse (the HTML parser accepts nearly anything) are dropped.
      if (/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) attrs[key === 'lang' ? 'xml:lang' : key] = stripXmlInvalid(value);
    }
    if (attrs['xml:lang'] !== undefined) attrs.lang = attrs['xml:lang'];
    const element = new Element(node.name.toLowerCase(), attrs, [], NS_XHTML);
    if (!VOID_ELEMENTS.has(element.name)) {
      const children: Node[] = [];
      for (const child of node.children) toXhtml(child, children);
      for (const child of children) element.append(child);
    }
    out.push(element);
    return;
  }
  // Comments, CDATA sections and processing instructions carry nothing for a reader.
  if ('children' in node) for (const child of node.children) toXhtml(child as DomNode, out);
}

/** HTML (sanitized already) as XHTML nodes in the XHTML namespace: well-formed, void elements self-closed by the
 *  serializer, characters XML cannot hold removed. Put them inside an element that declares the namespace. */
export function htmlToXhtml(html: string): Node[] {
  const document = parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
  const out: Node[] = [];
  for (const child of document.children) toXhtml(child, out);
  return out;
}

/** An XHTML div (RFC 4287 §3.1.1.3) holding HTML converted to XHTML. */
export function xhtmlDiv(html: string): Element {
  const div = new Element('div', { xmlns: NS_XHTML }, [], NS_XHTML);
  for (const node of htmlToXhtml(html)) div.append(node);
  return div;
}
