// The XML element tree that stanzas, stored documents and module payloads share.
// Namespaces are kept as the `xmlns` attribute of the element that declares them,
// exactly as they appear on the wire; `ns` is the resolved namespace of the element.

export type Attrs = Record<string, string>;
export type Node = Element | string;

export class Element {
  readonly name: string;
  attrs: Attrs;
  children: Node[];
  /** Resolved namespace URI of this element (set by the parser, or from attrs.xmlns / the parent). */
  ns: string;
  parent: Element | null = null;

  constructor(name: string, attrs: Attrs = {}, children: Node[] = [], ns?: string) {
    this.name = name;
    this.attrs = attrs;
    this.children = [];
    this.ns = ns ?? attrs.xmlns ?? '';
    for (const child of children) this.append(child);
  }

  /** Local name without a prefix. */
  get localName(): string {
    const colon = this.name.indexOf(':');
    return colon < 0 ? this.name : this.name.slice(colon + 1);
  }

  attr(name: string): string | undefined {
    return this.attrs[name];
  }

  append(child: Node): this {
    if (typeof child !== 'string') {
      child.parent = this;
      if (!child.ns && child.attrs.xmlns === undefined && !child.name.includes(':')) child.ns = this.ns;
    }
    this.children.push(child);
    return this;
  }

  /** Appends a child element and returns it (for building nested payloads). */
  c(name: string, attrs: Attrs = {}): Element {
    const child = new Element(name, attrs);
    this.append(child);
    return child;
  }

  /** Appends text and returns this element. */
  t(text: string): this {
    this.children.push(text);
    return this;
  }

  /** First child element with this local name and, if given, namespace. */
  getChild(localName: string, ns?: string): Element | undefined {
    for (const child of this.children) {
      if (typeof child !== 'string' && child.localName === localName && (ns === undefined || child.ns === ns)) return child;
    }
    return undefined;
  }

  getChildren(localName: string, ns?: string): Element[] {
    const out: Element[] = [];
    for (const child of this.children) {
      if (typeof child !== 'string' && child.localName === localName && (ns === undefined || child.ns === ns)) out.push(child);
    }
    return out;
  }

  /** Child elements in document order. */
  elements(): Element[] {
    const out: Element[] = [];
    for (const child of this.children) if (typeof child !== 'string') out.push(child);
    return out;
  }

  /** First child element in any namespace other than the ones listed (a stanza's payload). */
  firstElement(): Element | undefined {
    for (const child of this.children) if (typeof child !== 'string') return child;
    return undefined;
  }

  /** Concatenated text of the direct text children. */
  text(): string {
    let out = '';
    for (const child of this.children) if (typeof child === 'string') out += child;
    return out;
  }

  getChildText(localName: string, ns?: string): string | undefined {
    return this.getChild(localName, ns)?.text();
  }

  remove(child: Element): void {
    const index = this.children.indexOf(child);
    if (index >= 0) this.children.splice(index, 1);
  }

  /** Deep copy, detached from any parent; declared namespaces are made explicit on the root. */
  clone(): Element {
    const copy = this.copyTree();
    // Prefixes declared on ancestors stay bound in the detached copy.
    if (this.parent) {
      for (const prefix of usedPrefixes(this, new Set())) {
        const declaration = 'xmlns:' + prefix;
        if (copy.attrs[declaration] !== undefined) continue;
        for (let el: Element | null = this.parent; el; el = el.parent) {
          if (el.attrs[declaration] !== undefined) {
            copy.attrs[declaration] = el.attrs[declaration];
            break;
          }
        }
      }
    }
    return copy;
  }

  private copyTree(): Element {
    const copy = new Element(this.name, { ...this.attrs }, [], this.ns);
    if (!copy.attrs.xmlns && !this.name.includes(':') && this.ns && this.parent && this.parent.ns !== this.ns) copy.attrs.xmlns = this.ns;
    for (const child of this.children) copy.append(typeof child === 'string' ? child : child.copyTree());
    return copy;
  }

  toString(): string {
    return serialize(this);
  }
}

/** Prefixes an element and its descendants use in names and attributes (other than xml: and xmlns:). */
function usedPrefixes(element: Element, out: Set<string>): Set<string> {
  const colon = element.name.indexOf(':');
  if (colon > 0) out.add(element.name.slice(0, colon));
  for (const key in element.attrs) {
    const c = key.indexOf(':');
    if (c > 0 && !key.startsWith('xmlns:') && !key.startsWith('xml:')) out.add(key.slice(0, c));
  }
  for (const child of element.children) if (typeof child !== 'string') usedPrefixes(child, out);
  return out;
}

/** Builds an element: xml('message', { to, type: 'chat' }, xml('body', {}, 'hi')). */
export function xml(name: string, attrs: Record<string, string | undefined> | null = {}, ...children: (Node | Node[] | null | undefined | false)[]): Element {
  const clean: Attrs = {};
  if (attrs) for (const key in attrs) if (attrs[key] !== undefined && attrs[key] !== null) clean[key] = attrs[key]!;
  const element = new Element(name, clean);
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) for (const c of child) element.append(c);
    else element.append(child);
  }
  return element;
}

// '\r' too: a literal CR would come back as '\n' (XML 1.0 §2.11 end-of-line handling).
const textEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
const attrEscapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;', '\n': '&#10;', '\r': '&#13;', '\t': '&#9;' };

export function escapeText(text: string): string {
  // Fast path: most text needs no escaping.
  return /[&<>\r]/.test(text) ? text.replace(/[&<>\r]/g, (c) => textEscapes[c]) : text;
}

export function escapeAttr(value: string): string {
  return /[&<>"'\n\r\t]/.test(value) ? value.replace(/[&<>"'\n\r\t]/g, (c) => attrEscapes[c]) : value;
}

export function serialize(element: Element): string {
  let out = '<' + element.name;
  const attrs = element.attrs;
  for (const key in attrs) out += ' ' + key + '="' + escapeAttr(attrs[key]) + '"';
  const children = element.children;
  if (children.length === 0) return out + '/>';
  out += '>';
  for (const child of children) out += typeof child === 'string' ? escapeText(child) : serialize(child);
  return out + '</' + element.name + '>';
}

/** The opening tag alone, for <stream:stream>. */
export function serializeOpenTag(name: string, attrs: Attrs): string {
  let out = '<' + name;
  for (const key in attrs) out += ' ' + key + '="' + escapeAttr(attrs[key]) + '"';
  return out + '>';
}
