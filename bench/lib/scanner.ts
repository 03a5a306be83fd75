// A tiny incremental scanner for an XMPP stream: it finds the boundaries of top-level stanzas (children of
// <stream:stream>) and hands each one over as a string. It is not an XML parser: it trusts the server to send
// well-formed XML (RFC 6120 §11) and only tracks tag depth, so that the load generator spends its time on the
// wire and not on building trees. Text is decoded as latin1 so that byte offsets never split a character.

export interface ScannerSink {
  streamStart(header: string): void;
  stanza(text: string): void;
  streamEnd(): void;
}

export class StanzaScanner {
  private buf = '';
  /** Where the stanza being collected starts in buf, or -1 between stanzas. */
  private start = -1;
  /** Element depth inside the stanza being collected (0 between stanzas). */
  private depth = 0;
  /** How far buf has been scanned. */
  private pos = 0;
  private inStream = false;
  /** Bumped by reset(), so that a write() in progress stops when the sink restarted the stream. */
  private generation = 0;

  constructor(private sink: ScannerSink) {}

  /** Forgets everything: after STARTTLS and SASL success the stream restarts (RFC 6120 §5.4.3.3, §6.4.6). */
  reset(): void {
    this.buf = '';
    this.start = -1;
    this.depth = 0;
    this.pos = 0;
    this.inStream = false;
    this.generation++;
  }

  write(chunk: string): void {
    const buf = this.buf.length === 0 ? chunk : this.buf + chunk;
    this.buf = buf;
    const generation = this.generation;
    let pos = this.pos;
    for (;;) {
      const lt = buf.indexOf('<', pos);
      if (lt === -1) {
        pos = buf.length;
        break;
      }
      const gt = tagEnd(buf, lt);
      if (gt === -1) {
        pos = lt;
        break;
      }
      const c = buf.charCodeAt(lt + 1);
      if (c === 63 /* ? */ || c === 33 /* ! */) {
        // XML declaration, comment or CDATA: servers send only the declaration; skip over it.
        pos = gt + 1;
        continue;
      }
      if (c === 47 /* / */) {
        if (this.depth === 0) {
          // </stream:stream>
          this.sink.streamEnd();
          this.inStream = false;
          pos = gt + 1;
          continue;
        }
        this.depth--;
        pos = gt + 1;
        if (this.depth === 0) this.emit(buf, gt + 1);
        if (this.generation !== generation) return; // reset from inside the sink
        continue;
      }
      const selfClosing = buf.charCodeAt(gt - 1) === 47;
      if (!this.inStream && this.depth === 0 && buf.startsWith('<stream:stream', lt)) {
        this.inStream = true;
        pos = gt + 1;
        this.sink.streamStart(buf.slice(lt, gt + 1));
        if (this.generation !== generation) return;
        continue;
      }
      if (this.depth === 0) this.start = lt;
      pos = gt + 1;
      if (selfClosing) {
        if (this.depth === 0) {
          this.emit(buf, gt + 1);
          if (this.generation !== generation) return;
        }
      } else {
        this.depth++;
      }
    }
    // Keep only what is still needed.
    const keepFrom = this.start !== -1 ? this.start : pos;
    if (keepFrom > 0) {
      this.buf = buf.slice(keepFrom);
      if (this.start !== -1) this.start -= keepFrom;
      this.pos = pos - keepFrom;
    } else {
      this.buf = buf;
      this.pos = pos;
    }
  }

  private emit(buf: string, end: number): void {
    const text = buf.slice(this.start, end);
    this.start = -1;
    this.sink.stanza(text);
  }
}

/** Index of the '>' that closes the tag opened at lt, skipping quoted attribute values; -1 if not yet received. */
function tagEnd(buf: string, lt: number): number {
  // A plain loop over the tag's characters: tags are short, and indexOf for a quote could run far past them.
  const len = buf.length;
  let quote = 0;
  for (let i = lt + 1; i < len; i++) {
    const c = buf.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 62 /* > */) {
      return i;
    } else if (c === 39 /* ' */ || c === 34 /* " */) {
      quote = c;
    }
  }
  return -1;
}

/** The value of an attribute in a stanza's opening tag (raw, not unescaped), or undefined. */
export function attr(stanza: string, name: string): string | undefined {
  const tagClose = stanza.indexOf('>');
  let from = 0;
  for (;;) {
    const at = stanza.indexOf(name, from);
    if (at === -1 || at > tagClose) return undefined;
    const eq = at + name.length;
    const before = stanza.charCodeAt(at - 1);
    if ((before === 32 || before === 9 || before === 10 || before === 13) && stanza.charCodeAt(eq) === 61 /* = */) {
      const quote = stanza[eq + 1]!;
      const end = stanza.indexOf(quote, eq + 2);
      return stanza.slice(eq + 2, end);
    }
    from = eq;
  }
}

/** The value of an attribute on the first element named `element` inside the stanza, or undefined. */
export function innerAttr(stanza: string, element: string, name: string): string | undefined {
  let from = 0;
  for (;;) {
    const at = stanza.indexOf('<' + element, from);
    if (at === -1) return undefined;
    const next = stanza.charCodeAt(at + 1 + element.length);
    if (next === 32 || next === 47 || next === 62 || next === 9 || next === 10) return attr(stanza.slice(at), name);
    from = at + 1;
  }
}

/** The text of the first element named `element` (without namespace prefix handling), or undefined. */
export function innerText(stanza: string, element: string): string | undefined {
  const open = stanza.indexOf('<' + element);
  if (open === -1) return undefined;
  const gt = stanza.indexOf('>', open);
  if (stanza.charCodeAt(gt - 1) === 47) return '';
  const close = stanza.indexOf('</' + element, gt);
  return close === -1 ? undefined : stanza.slice(gt + 1, close);
}
