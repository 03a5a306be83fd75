// The streaming XML parser for XMPP streams: saxes underneath, with RFC 6120 §11 (restricted XML),
// size/depth/attribute limits and stanza-level namespace fix-ups on top.
//
// One parser per connection. Bytes go in through write(); the stream header, each complete top-level
// child of the root (stanza or nonza) and the stream end come out through the handlers, in order.
// The first error is reported once and then the parser is dead until reset().
//
// Size accounting (why it is exact without re-encoding the input): saxes reports its position as an
// index into the concatenation of every string it was given. Each written chunk is remembered with
// the number of UTF-8 bytes before it; an index inside the chunk becomes a byte offset by counting
// UTF-8 lengths from a cursor that only moves forward, and not at all for all-ASCII chunks (the
// common case, detected with buffer.isAscii). A stanza's size is the bytes from its '<' to the end
// of its closing '>', which is the number of input bytes it occupied (the UTF-8 decoder is fatal,
// so decoded text re-encodes to exactly the bytes received). The only approximations: a CR LF
// between a stanza's element name and its first attribute counts as one byte, not two, and a
// leading byte order mark is not counted. Limits are checked when a stanza closes and after each
// slice of input saxes consumes, so an unfinished stanza is cut off within one slice of the limit.
import { isAscii } from 'node:buffer';
import { SaxesParser, type SaxesAttributeNSIncomplete, type SaxesStartTagNS, type SaxesTagNS, type XMLDecl } from 'saxes';
import { Element, type Attrs, type Node } from './element.js';

export type StreamErrorCondition = 'not-well-formed' | 'restricted-xml' | 'policy-violation' | 'invalid-namespace' | 'unsupported-encoding';

export interface ParserLimits {
  /** Largest top-level child of the stream, in bytes from its start tag to its end tag. Also bounds the
   *  stream header and whatever arrives between two top-level children. */
  maxStanzaBytes: number;
  /** Deepest element nesting; the stream root is depth 0, a stanza depth 1. */
  maxDepth: number;
  /** Most attributes (namespace declarations included) on one element. */
  maxAttributes: number;
}

export const defaultParserLimits: Readonly<ParserLimits> = { maxStanzaBytes: 262144, maxDepth: 32, maxAttributes: 64 };

export interface StreamParserHandlers {
  /** The <stream:stream> (or any root) open tag: its qualified name, attributes as written (incl. xmlns declarations), and the resolved namespace of the root element. */
  streamStart(name: string, attrs: Record<string, string>, ns: string): void;
  /** A complete top-level child of the root (a stanza or a nonza like <starttls/>), with ns resolved on every element. */
  stanza(element: Element): void;
  /** </stream:stream> */
  streamEnd(): void;
  /** First error only; no more callbacks after it. */
  error(condition: StreamErrorCondition, text: string): void;
}

type SaxesNSOptions = { xmlns: true; forceXMLVersion: true; defaultXMLVersion: '1.0' };

/** Thrown through saxes to stop it mid-chunk (after an error, reset() or close() from a callback). Never escapes write(). */
const ABORT = { abort: true };
/** saxes gets long chunks in slices of this many UTF-16 units, so limits are checked before it buffers much more than a slice. */
const SLICE = 16384;
const NO_CHILDREN: Node[] = [];
/** saxes' state between markup in element content (its S_TEXT): nothing half-read. */
const SAXES_TEXT_STATE = 13;
/** Checked once, like handlerSlotsWork: a saxes release that numbers its states differently only loses hibernation. */
const textStateKnown = ((): boolean => {
  const probe = new SaxesParser({ xmlns: true });
  probe.write('<a>');
  return (probe as unknown as { state: number }).state === SAXES_TEXT_STATE;
})();

function escapeAttrValue(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/'/g, '&apos;');
}

/** saxes' private handler fields, the ones its on() assigns. */
interface SaxesHandlerSlots {
  xmldeclHandler?: (decl: XMLDecl) => void;
  doctypeHandler?: () => void;
  piHandler?: () => void;
  commentHandler?: () => void;
  openTagStartHandler?: (tag: SaxesStartTagNS) => void;
  attributeHandler?: (attr: SaxesAttributeNSIncomplete) => void;
  openTagHandler?: (tag: SaxesTagNS) => void;
  closeTagHandler?: () => void;
  cdataHandler?: (text: string) => void;
  errorHandler?: (err: Error) => void;
  textHandler?: (text: string) => void;
}

// saxes' on() stores each handler with a computed key (this[table[name]] = handler). V8 turns an
// object that gains more than a dozen properties that way into a slow dictionary object, and the
// whole parser then runs about 4x slower (measured: 7 vs 30 MB/s with our ten handlers). Assigning
// the same fields by name keeps it fast. The field names are checked once against what on() does,
// so a saxes release that renames them only loses the speed-up.
const handlerSlotsWork = ((): boolean => {
  const probe = new SaxesParser({ xmlns: true });
  const slots = probe as unknown as Record<string, unknown>;
  const pairs: [Parameters<typeof probe.on>[0], keyof SaxesHandlerSlots][] = [
    ['xmldecl', 'xmldeclHandler'], ['doctype', 'doctypeHandler'], ['processinginstruction', 'piHandler'],
    ['comment', 'commentHandler'], ['opentagstart', 'openTagStartHandler'], ['attribute', 'attributeHandler'],
    ['opentag', 'openTagHandler'], ['closetag', 'closeTagHandler'], ['cdata', 'cdataHandler'],
    ['error', 'errorHandler'], ['text', 'textHandler'],
  ];
  return pairs.every(([event, field]) => {
    const handler = (): void => {};
    probe.on(event, handler);
    return slots[field] === handler;
  });
})();

export class StreamParser {
  private readonly handlers: StreamParserHandlers;
  private readonly limits: ParserLimits;
  /** Both null while the parser hibernates (see hibernate()). */
  private saxes: SaxesParser<SaxesNSOptions> | null = null;
  private decoder: TextDecoder | null = null;
  /** The text handler, bound to this parser, while saxes exists. */
  private textHandler: ((text: string) => void) | undefined;
  /** The root's qualified name, to open it again after hibernation. */
  private rootName = '';
  /** True while the root is opened again after hibernation: no streamStart for it. */
  private waking = false;
  /** The last UTF-16 unit written: hibernation waits for a '>' or whitespace. */
  private lastUnit = 0;
  /** Bumped whenever the parser's life changes (error, reset, close): a callback that bumped it aborts the write in progress. */
  private epoch = 0;
  private stopped = false;

  // Tree building.
  /** Elements currently open, the root included. */
  private level = 0;
  /** The open elements of the stanza being built; [0] is the stanza. */
  private stack: Element[] = [];
  private attrs: Attrs = {};
  private attrCount = 0;
  private prefixedAttrs = false;
  /** Namespace declarations made on the stream root (prefix -> URI; '' is the default namespace). */
  private rootDecls: Record<string, string> = {};
  private streamPrefix = '';

  // Byte accounting (see the header comment).
  private chunk = '';
  /** saxes position (UTF-16 index) and byte offset of the start of `chunk` in this stream. */
  private chunkBase = 0;
  private chunkBaseBytes = 0;
  private chunkAscii = true;
  private cursorIdx = 0;
  private cursorBytes = 0;
  /** Byte offset of the end of the last top-level boundary: the stream header or the last stanza. */
  private boundaryBytes = 0;
  /** Byte offset of the '<' of the stanza being parsed, or -1 between stanzas. */
  private stanzaStartBytes = -1;

  // A completed stanza (or the stream end) waits for the next event before it is delivered, because
  // saxes reports a close tag to us before it checks that the name matched ("<a></b>"): an error at
  // the same position means the close was bogus and nothing is delivered. Delivery still happens
  // before write() returns.
  private pendingStanza: Element | null = null;
  private pendingEnd = false;
  private pendingPos = -1;

  constructor(handlers: StreamParserHandlers, limits?: Partial<ParserLimits>) {
    this.handlers = handlers;
    this.limits = { ...defaultParserLimits };
    if (limits) {
      if (limits.maxStanzaBytes !== undefined) this.limits.maxStanzaBytes = limits.maxStanzaBytes;
      if (limits.maxDepth !== undefined) this.limits.maxDepth = limits.maxDepth;
      if (limits.maxAttributes !== undefined) this.limits.maxAttributes = limits.maxAttributes;
    }
    this.reset();
  }

  /** Feed raw bytes (chunks may split anywhere, even inside a multi-byte UTF-8 character). Also accepts strings. */
  write(chunk: Buffer | string): void {
    if (this.stopped) return;
    try {
      let str: string;
      let ascii: boolean;
      if (this.saxes === null) this.wake();
      if (typeof chunk === 'string') {
        str = chunk;
        ascii = Buffer.byteLength(str) === str.length;
      } else {
        try {
          str = this.decoder!.decode(chunk, { stream: true });
        } catch {
          // XML 1.0 §4.3.3: bytes that are not legal in the entity's encoding are a fatal error.
          this.fail('not-well-formed', 'invalid UTF-8 in the stream (RFC 6120 §11.6)');
        }
        // A pending partial character followed by an ASCII byte fails to decode, so an ASCII chunk
        // that decoded is exactly its bytes.
        ascii = isAscii(chunk);
      }
      const len = str.length;
      if (len === 0) return;
      this.chunk = str;
      this.chunkAscii = ascii;
      this.cursorIdx = 0;
      this.cursorBytes = 0;
      this.lastUnit = str.charCodeAt(len - 1);
      const saxes = this.saxes!;
      if (len <= SLICE) {
        saxes.write(str);
        this.afterSlice(len);
      } else {
        for (let start = 0; start < len; start += SLICE) {
          const end = Math.min(len, start + SLICE);
          saxes.write(str.slice(start, end));
          this.afterSlice(end);
        }
      }
      this.chunkBaseBytes = this.bytesAt(this.chunkBase + len);
      this.chunkBase += len;
      this.chunk = '';
      this.cursorIdx = 0;
      this.cursorBytes = 0;
    } catch (err) {
      if (err === ABORT) return;
      // A handler threw: saxes is mid-event and cannot be trusted any more.
      this.stopped = true;
      this.epoch++;
      throw err;
    }
  }

  /** Start a new stream on the same connection (after STARTTLS or SASL success, RFC 6120 §5.4.3.3/§6.4.6): discard the parser state and expect a new stream header.
   *  Called from a handler, it also discards the rest of the chunk being parsed: RFC 6120 §5.4.3.3 requires
   *  the client to wait for <proceed/>, and bytes that arrived in plaintext must never be read as part of
   *  the TLS-protected stream (STARTTLS command injection). */
  reset(): void {
    this.epoch++;
    this.stopped = false;
    this.saxes = this.createSaxes();
    // ignoreBOM false: a UTF-8 byte order mark at the start of the stream is allowed and skipped.
    this.decoder = new TextDecoder('utf-8', { fatal: true });
    this.level = 0;
    this.stack = [];
    this.attrs = {};
    this.attrCount = 0;
    this.prefixedAttrs = false;
    this.rootDecls = {};
    this.streamPrefix = '';
    this.rootName = '';
    this.waking = false;
    this.chunk = '';
    this.chunkBase = 0;
    this.chunkBaseBytes = 0;
    this.chunkAscii = true;
    this.cursorIdx = 0;
    this.cursorBytes = 0;
    this.boundaryBytes = 0;
    this.stanzaStartBytes = -1;
    this.pendingStanza = null;
    this.pendingEnd = false;
    this.pendingPos = -1;
  }

  /** Stop; ignore further input. */
  close(): void {
    this.epoch++;
    this.stopped = true;
    this.stack = [];
    this.pendingStanza = null;
    this.pendingEnd = false;
    this.chunk = '';
  }

  /**
   * Frees saxes, the decoder and their handlers while the connection is idle between two stanzas (about 3 KiB a
   * connection); the next write() starts a new saxes inside the same stream, as if nothing happened. False when
   * that is not possible now: input stopped inside a stanza, or the stream is not open.
   */
  hibernate(): boolean {
    if (this.saxes === null) return true;
    const unit = this.lastUnit;
    const atBoundary = unit === 0x3e || unit === 0x20 || unit === 0x0a || unit === 0x0d || unit === 0x09;
    if (this.stopped || this.level !== 1 || this.stanzaStartBytes !== -1 || this.pendingStanza !== null || this.pendingEnd || !atBoundary) return false;
    if (!textStateKnown || (this.saxes as unknown as { state: number }).state !== SAXES_TEXT_STATE) return false;
    this.saxes = null;
    this.decoder = null;
    this.textHandler = undefined;
    return true;
  }

  /** Opens the stream root again in a new saxes, with the root's namespace declarations, without telling anyone. */
  private wake(): void {
    this.saxes = this.createSaxes();
    this.decoder = new TextDecoder('utf-8', { fatal: true });
    let primer = '<' + this.rootName;
    for (const prefix in this.rootDecls) primer += (prefix === '' ? ' xmlns' : ' xmlns:' + prefix) + "='" + escapeAttrValue(this.rootDecls[prefix]!) + "'";
    primer += '>';
    this.level = 0;
    this.waking = true;
    this.saxes.write(primer);
    this.waking = false;
    // saxes positions count the primer; the stream's byte offsets go on from where they were.
    this.chunkBase = primer.length;
  }

  private createSaxes(): SaxesParser<SaxesNSOptions> {
    // XMPP is XML 1.0 (RFC 6120 §11): a declaration saying 1.1 must not switch on XML 1.1 character rules.
    const saxes = new SaxesParser<SaxesNSOptions>({ xmlns: true, forceXMLVersion: true, defaultXMLVersion: '1.0' });
    // Bound here rather than once per parser, so that a hibernating parser holds none of them.
    const onXmlDecl = this.onXmlDecl.bind(this);
    const onDoctype = this.onDoctype.bind(this);
    const onProcessingInstruction = this.onProcessingInstruction.bind(this);
    const onComment = this.onComment.bind(this);
    const onOpenTagStart = this.onOpenTagStart.bind(this);
    const onAttribute = this.onAttribute.bind(this);
    const onOpenTag = this.onOpenTag.bind(this);
    const onCloseTag = this.onCloseTag.bind(this);
    const onCData = this.onCData.bind(this);
    const onError = this.onError.bind(this);
    this.textHandler = this.onText.bind(this);
    if (handlerSlotsWork) {
      // See handlerSlotsWork: named stores keep the parser object in V8's fast mode.
      const slots = saxes as unknown as SaxesHandlerSlots;
      slots.xmldeclHandler = onXmlDecl;
      slots.doctypeHandler = onDoctype;
      slots.piHandler = onProcessingInstruction;
      slots.commentHandler = onComment;
      slots.openTagStartHandler = onOpenTagStart;
      slots.attributeHandler = onAttribute;
      slots.openTagHandler = onOpenTag;
      slots.closeTagHandler = onCloseTag;
      slots.cdataHandler = onCData;
      slots.errorHandler = onError;
      slots.textHandler = undefined;
    } else {
      saxes.on('xmldecl', onXmlDecl);
      saxes.on('doctype', onDoctype);
      saxes.on('processinginstruction', onProcessingInstruction);
      saxes.on('comment', onComment);
      saxes.on('opentagstart', onOpenTagStart);
      saxes.on('attribute', onAttribute);
      saxes.on('opentag', onOpenTag);
      saxes.on('closetag', onCloseTag);
      saxes.on('cdata', onCData);
      saxes.on('error', onError);
    }
    // No 'text' handler between stanzas: saxes then does not accumulate whitespace keepalives at all.
    // It is switched on while a stanza is open.
    return saxes;
  }

  private setTextHandler(handler: ((text: string) => void) | undefined): void {
    if (handlerSlotsWork) (this.saxes as unknown as SaxesHandlerSlots).textHandler = handler;
    else if (handler) this.saxes!.on('text', handler);
    else this.setTextHandler(undefined);
  }

  // --- saxes events -------------------------------------------------------------------------

  // The XML declaration is the one processing-instruction-like construct RFC 6120 §11.1 allows
  // (saxes only accepts it at the very start of the stream).
  private onXmlDecl(decl: XMLDecl): void {
    const encoding = decl.encoding;
    // RFC 6120 §11.6: UTF-8 only. §4.9.3.1 allows bad-format here but RECOMMENDS the specific condition, §4.9.3.22.
    if (encoding !== undefined && encoding.toLowerCase() !== 'utf-8') this.fail('unsupported-encoding', `unsupported encoding ${encoding}: XMPP streams are UTF-8 (RFC 6120 §11.6)`);
  }

  // RFC 6120 §11.1: no DTDs, processing instructions or comments.
  private onDoctype(): void {
    this.fail('restricted-xml', 'a DOCTYPE is not allowed in an XML stream (RFC 6120 §11.1)');
  }

  private onProcessingInstruction(): void {
    this.fail('restricted-xml', 'processing instructions are not allowed in an XML stream (RFC 6120 §11.1)');
  }

  private onComment(): void {
    this.fail('restricted-xml', 'comments are not allowed in an XML stream (RFC 6120 §11.1)');
  }

  private onOpenTagStart(tag: SaxesStartTagNS): void {
    if (this.pendingStanza !== null || this.pendingEnd) this.flush();
    const depth = this.level;
    if (depth > this.limits.maxDepth) this.fail('policy-violation', `elements nested too deep (limit ${this.limits.maxDepth})`);
    this.attrs = {};
    this.attrCount = 0;
    this.prefixedAttrs = false;
    if (depth === 1) {
      // saxes has read '<', the name and one character after it.
      const name = tag.name;
      this.stanzaStartBytes = this.bytesAt(this.saxes!.position) - utf8Length(name, 0, name.length) - 2;
    }
  }

  private onAttribute(attr: SaxesAttributeNSIncomplete): void {
    if (++this.attrCount > this.limits.maxAttributes) this.fail('policy-violation', `too many attributes on one element (limit ${this.limits.maxAttributes})`);
    const name = attr.name;
    // A plain assignment to "__proto__" would set the prototype instead of keeping the attribute.
    if (name === '__proto__') Object.defineProperty(this.attrs, name, { value: attr.value, enumerable: true, writable: true, configurable: true });
    else this.attrs[name] = attr.value;
    const prefix = attr.prefix;
    if (prefix !== '' && prefix !== 'xmlns' && prefix !== 'xml') this.prefixedAttrs = true;
  }

  private onOpenTag(tag: SaxesTagNS): void {
    const depth = this.level++;
    if (depth === 0) {
      if (this.waking) return;
      this.rootDecls = tag.ns;
      this.streamPrefix = tag.prefix;
      this.rootName = tag.name;
      this.boundaryBytes = this.bytesAt(this.saxes!.position);
      const epoch = this.epoch;
      this.handlers.streamStart(tag.name, this.attrs, tag.uri);
      if (epoch !== this.epoch) throw ABORT;
      return;
    }
    const element = new Element(tag.name, this.attrs, NO_CHILDREN, tag.uri);
    const stack = this.stack;
    if (depth === 1) {
      this.setTextHandler(this.textHandler);
    } else {
      const parent = stack[stack.length - 1];
      element.parent = parent;
      parent.children.push(element);
    }
    stack.push(element);
    if (tag.prefix !== '' || this.prefixedAttrs) this.bindRootPrefixes(tag);
  }

  private onText(text: string): void {
    // Only registered while a stanza is open; text between stanzas (keepalives) is never seen.
    const children = this.stack[this.stack.length - 1].children;
    const last = children.length - 1;
    // Merge with a preceding text or CDATA node so the tree does not depend on how the input was split.
    if (last >= 0 && typeof children[last] === 'string') children[last] = (children[last] as string) + text;
    else children.push(text);
  }

  // CDATA sections are not restricted by RFC 6120 §11.1: their content is ordinary text.
  private onCData(text: string): void {
    if (this.pendingStanza !== null || this.pendingEnd) this.flush();
    if (this.level >= 2 && text.length !== 0) this.onText(text);
  }

  private onCloseTag(): void {
    if (this.pendingStanza !== null || this.pendingEnd) this.flush();
    const depth = --this.level;
    const position = this.saxes!.position;
    if (depth === 0) {
      this.pendingEnd = true;
      this.pendingPos = position;
      return;
    }
    const element = this.stack.pop()!;
    if (depth !== 1) return;
    this.setTextHandler(undefined);
    const end = this.bytesAt(position);
    if (end - this.stanzaStartBytes > this.limits.maxStanzaBytes) this.tooLarge();
    this.stanzaStartBytes = -1;
    this.boundaryBytes = end;
    this.pendingStanza = element;
    this.pendingPos = position;
  }

  private onError(err: Error): void {
    // An error at the very position of a pending close tag means that close tag did not match.
    if ((this.pendingStanza !== null || this.pendingEnd) && this.saxes!.position !== this.pendingPos) this.flush();
    this.pendingStanza = null;
    this.pendingEnd = false;
    const message = err.message;
    // RFC 6120 §11.1: a reference to any entity but the five predefined ones (saxes knows no others,
    // as it ignores DTDs), or a DOCTYPE that saxes rejects itself because it comes after the root.
    if (message.endsWith('undefined entity.') || message.endsWith('inappropriately located doctype declaration.')) this.fail('restricted-xml', message);
    this.fail('not-well-formed', message);
  }

  // --- helpers -----------------------------------------------------------------------------

  /** Delivers the pending stanza or stream end. */
  private flush(): void {
    const epoch = this.epoch;
    if (this.pendingStanza !== null) {
      const element = this.pendingStanza;
      this.pendingStanza = null;
      this.handlers.stanza(element);
    } else if (this.pendingEnd) {
      // RFC 6120 §4.4: the stream is over; whatever follows the closing tag is not read.
      this.pendingEnd = false;
      this.stopped = true;
      this.epoch++;
      this.handlers.streamEnd();
      throw ABORT;
    }
    if (epoch !== this.epoch) throw ABORT;
  }

  /** After saxes has consumed chunk[0, end): deliver what completed and enforce the size limits on what has not. */
  private afterSlice(end: number): void {
    if (this.pendingStanza !== null || this.pendingEnd) this.flush();
    const now = this.bytesAt(this.chunkBase + end);
    const max = this.limits.maxStanzaBytes;
    if (this.stanzaStartBytes >= 0) {
      // A stanza still open: cut off a client trickling an endless one as soon as it crosses the limit.
      if (now - this.stanzaStartBytes > max) this.tooLarge();
    } else if (now - this.boundaryBytes > max) {
      this.fail('policy-violation', this.level === 0 ? `stream header too large (limit ${max} bytes)` : `too much data between stanzas (limit ${max} bytes)`);
    }
  }

  private tooLarge(): never {
    this.fail('policy-violation', `stanza too large (limit ${this.limits.maxStanzaBytes} bytes)`);
  }

  /** Byte offset in this stream of a saxes position inside the current chunk. */
  private bytesAt(position: number): number {
    let index = position - this.chunkBase;
    if (index < 0) index = 0;
    if (this.chunkAscii) return this.chunkBaseBytes + index;
    if (index < this.cursorIdx) {
      this.cursorIdx = 0;
      this.cursorBytes = 0;
    }
    this.cursorBytes += utf8Length(this.chunk, this.cursorIdx, index);
    this.cursorIdx = index;
    return this.chunkBaseBytes + this.cursorBytes;
  }

  /** A stanza using a prefix bound only on the stream root gets that declaration, so it serializes standalone.
   *  The stream prefix itself is left alone (stream:error, stream:features are read in stream context),
   *  and so is the default namespace: stanzas in jabber:client are re-serialized inside other streams. */
  private bindRootPrefixes(tag: SaxesTagNS): void {
    const stanza = this.stack[0];
    if (tag.prefix !== '') this.bindRootPrefix(stanza, tag.prefix, tag.uri);
    if (!this.prefixedAttrs) return;
    const attributes = tag.attributes;
    for (const name in attributes) {
      const attr = attributes[name];
      const prefix = attr.prefix;
      if (prefix !== '' && prefix !== 'xmlns' && prefix !== 'xml') this.bindRootPrefix(stanza, prefix, attr.uri);
    }
  }

  private bindRootPrefix(stanza: Element, prefix: string, uri: string): void {
    if (prefix === 'xml' || prefix === this.streamPrefix) return;
    // Only if the prefix still means what the root said (it was not redeclared inside the stanza).
    if (this.rootDecls[prefix] !== uri) return;
    const key = 'xmlns:' + prefix;
    if (stanza.attrs[key] === undefined) stanza.attrs[key] = uri;
  }

  private fail(condition: StreamErrorCondition, text: string): never {
    this.stopped = true;
    this.epoch++;
    this.pendingStanza = null;
    this.pendingEnd = false;
    this.stack = [];
    this.handlers.error(condition, text);
    throw ABORT;
  }
}

/** UTF-8 length of s[from, to). Each half of a surrogate pair counts 2, so a pair is 4 even when a
 *  chunk boundary splits it. */
function utf8Length(s: string, from: number, to: number): number {
  if (to - from > 64) {
    // Native counting is about twice as fast as the loop on stanza-sized runs.
    let bytes = Buffer.byteLength(s.slice(from, to));
    // It counts a lone surrogate as 3 bytes (U+FFFD): correct a pair split at either end.
    const first = s.charCodeAt(from);
    if (first >= 0xdc00 && first <= 0xdfff) bytes--;
    const last = s.charCodeAt(to - 1);
    if (last >= 0xd800 && last <= 0xdbff) bytes--;
    return bytes;
  }
  let bytes = to - from;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) bytes += c < 0x800 || (c >= 0xd800 && c <= 0xdfff) ? 1 : 2;
  }
  return bytes;
}
