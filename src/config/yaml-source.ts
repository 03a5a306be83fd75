// Parses the YAML text and keeps the syntax tree so that any key path can be mapped back to file:line:col.
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Document, type ErrorCode } from 'yaml';
import { ConfigError } from './errors.js';

export type KeyPath = readonly (string | number)[];

export interface Position {
  line: number;
  col: number;
}

export interface Locator {
  /** Name used in messages: the file path as the user gave it, or e.g. '(default)'. */
  readonly sourceName: string;
  /**
   * Where the thing at `path` is written. `at: 'key'` points at the key itself (for unknown keys), 'value' at its
   * value. When the path does not exist (a missing key) this is the deepest ancestor that does, so "required" errors
   * point at the enclosing section; undefined when not even that exists.
   */
  position(path: KeyPath, at?: 'key' | 'value'): Position | undefined;
  /** `file:line:col`, or just the file name when the position is unknown. */
  locate(path: KeyPath, at?: 'key' | 'value'): string;
}

/** A locator for configs that were not read from text, e.g. the built-in default. */
export function nullLocator(sourceName: string): Locator {
  return {
    sourceName,
    position: () => undefined,
    locate: () => sourceName,
  };
}

// What to tell someone who hit each YAML syntax error; the parser's own message says what, this says how.
const SYNTAX_HINTS: Partial<Record<ErrorCode, string>> = {
  TAB_AS_INDENT: 'indent with spaces; YAML does not allow tabs for indentation',
  BAD_INDENT: 'indent all keys of one section by the same number of spaces',
  DUPLICATE_KEY: 'each key may appear only once per section; remove or merge the repeated one',
  MISSING_CHAR: 'close the bracket or quote that was opened on this line or before it',
  BLOCK_AS_IMPLICIT_KEY:
    'check the indentation of this line and the next: a line indented deeper than the key above it continues that value',
  MULTILINE_IMPLICIT_KEY: 'a key must fit on one line; check for a missing colon or a missing space after a colon',
  BAD_SCALAR_START: 'quote the value, e.g. "@value" or "%value"',
  BAD_DQ_ESCAPE: 'use single quotes, or write a backslash as \\\\ inside double quotes',
  UNEXPECTED_TOKEN: 'check the punctuation on this line; quote values that contain ": ", " #", "{", "[" or ","',
  MULTIPLE_DOCS: 'keep the whole configuration in a single YAML document (remove the extra "---")',
  BAD_ALIAS: 'define the anchor (&name) before using the alias (*name)',
};

function excerpt(text: string, lineCounter: LineCounter, pos: Position): string {
  const start = lineCounter.lineStarts[pos.line - 1];
  if (start === undefined) return '';
  const end = text.indexOf('\n', start);
  const line = text.slice(start, end === -1 ? undefined : end).replace(/\r$/, '');
  const num = String(pos.line);
  const gutter = ' '.repeat(num.length);
  return `\n  ${num} | ${line}\n  ${gutter} | ${' '.repeat(Math.max(0, pos.col - 1))}^`;
}

/**
 * The parser notices some problems only at the end of the line before them (a badly indented key) or at the end of
 * the file (an unclosed quote). Point at the line that holds the mistake instead: the next non-blank text, or the
 * last non-blank line when nothing follows.
 */
function errorOffset(text: string, offset: number): number {
  const blank = /^[ \t]*(?:#.*)?\r?$/;
  let lineStart = offset;
  while (lineStart < text.length) {
    const nl = text.indexOf('\n', lineStart);
    const lineEnd = nl === -1 ? text.length : nl;
    const line = text.slice(lineStart, lineEnd);
    if (!blank.test(line)) {
      // Only move when the error sat on blank text: an error inside real content is already in the right place.
      return lineStart === offset ? offset : lineStart + line.search(/\S/);
    }
    if (nl === -1) break;
    lineStart = nl + 1;
  }
  // Nothing after it: the mistake is on the last line with content (an unclosed quote or bracket).
  const lines = text.slice(0, offset).split('\n');
  let at = offset;
  for (let i = lines.length - 1; i >= 0; i--) {
    at -= (lines[i] ?? '').length + (i < lines.length - 1 ? 1 : 0);
    const line = lines[i] ?? '';
    if (!blank.test(line)) return at + line.search(/\S/);
  }
  return offset;
}

export interface ParsedYaml {
  /** The plain JS value of the document (null for an empty file). */
  data: unknown;
  locator: Locator;
}

/** Parse YAML text; a syntax error becomes a ConfigError naming the line and column. */
export function parseYaml(text: string, sourceName: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // merge: true lets people share settings between sections with `<<: *anchor`, which YAML 1.2 otherwise treats
  // as an ordinary key.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, merge: true, uniqueKeys: true });
  const toPos = (offset: number): Position => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    const seen = new Set<number>();
    const lines: string[] = [];
    for (const err of doc.errors) {
      const pos = toPos(errorOffset(text, err.pos[0]));
      // One parser slip often yields several errors at the same spot; the first says it best.
      if (seen.has(pos.line) || lines.length >= 5) continue;
      seen.add(pos.line);
      const what = err.message.replace(/\s+/g, ' ').trim().replace(/\.$/, '');
      const fix = /end with an? [\]}]/.test(err.message)
        ? 'close the [ or { that was opened before this line'
        : (SYNTAX_HINTS[err.code] ?? 'check the indentation, colons and quotes on this line and the one before');
      lines.push(`${sourceName}:${pos.line}:${pos.col}: YAML syntax error: ${what}. Fix: ${fix}.${excerpt(text, lineCounter, pos)}`);
    }
    throw new ConfigError(lines.join('\n'));
  }

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`${sourceName}: cannot read the YAML: ${why}. Fix: use fewer aliases (*name).`);
  }

  const position = (path: KeyPath, at: 'key' | 'value' = 'value'): Position | undefined => {
    const node = findNode(doc, path, at);
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : toPos(offset);
  };
  return {
    data,
    locator: {
      sourceName,
      position,
      locate(path, at) {
        const pos = position(path, at);
        return pos === undefined ? sourceName : `${sourceName}:${pos.line}:${pos.col}`;
      },
    },
  };
}

interface RangedNode {
  range?: readonly [number, number, number] | null;
}

function findNode(doc: Document, path: KeyPath, at: 'key' | 'value'): RangedNode | undefined {
  let node: unknown = doc.contents;
  // The closest thing found so far that points at where the path is written: a key, or a list item.
  let anchor: RangedNode | undefined;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) return anchor;
      anchor = isScalar(pair.key) ? pair.key : anchor;
      node = pair.value;
    } else if (isSeq(node)) {
      // A string segment in a list finds the item with that value: `modules: [ping]` answers ['modules','ping'].
      const item =
        typeof seg === 'number' ? node.items[seg] : node.items.find((i) => isScalar(i) && String(i.value) === seg);
      if (item === undefined || item === null) return anchor;
      anchor = item as RangedNode;
      node = item;
    } else {
      return anchor;
    }
  }
  if (at === 'key' && path.length > 0) return anchor;
  // `key:` with nothing after it has a null value node positioned after the colon, and a block section's value
  // starts at its first child on a later line: in both cases the key itself is where a reader looks.
  const blockCollection = (isMap(node) || isSeq(node)) && node.flow !== true;
  if (anchor !== undefined && ((isScalar(node) && node.value === null) || blockCollection)) return anchor;
  return (node as RangedNode | null | undefined) ?? anchor ?? (path.length === 0 ? { range: [0, 0, 0] } : undefined);
}
