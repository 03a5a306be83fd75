// Turns zod issues into the lines a server admin reads: where, which key, what is wrong, how to fix it.
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { suggest } from './suggest.js';
import type { KeyPath, Locator } from './yaml-source.js';

type RawIssue = z.core.$ZodRawIssue;

/** How a value reads in a message: strings quoted, so `got "52x2"` is unambiguous. */
export function describeValue(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'an empty value';
  if (typeof input === 'string') {
    const shown = input.length > 60 ? `${input.slice(0, 57)}...` : input;
    return JSON.stringify(shown);
  }
  if (typeof input === 'number' || typeof input === 'boolean' || typeof input === 'bigint') return String(input);
  if (Array.isArray(input)) return 'a list';
  if (input instanceof Date) return `a date (${input.toISOString()})`;
  if (typeof input === 'object') return 'a mapping';
  return typeof input;
}

/** `listeners.c2s.port`, `hosts[1]`. */
export function pathText(path: KeyPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out === '' ? '(top level)' : out;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping (key: value pairs)',
  record: 'a mapping (key: value pairs)',
  null: 'an empty value',
};

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

function typeFix(expected: string, input: unknown, key: string): string {
  switch (expected) {
    case 'number':
    case 'int':
      if (typeof input === 'string' && input.trim() !== '' && !Number.isNaN(Number(input))) {
        return `remove the quotes: ${key}: ${input.trim()}`;
      }
      return expected === 'int' ? 'write a whole number' : 'write a number';
    case 'string':
      if (typeof input === 'number' || typeof input === 'boolean') return `quote it: ${key}: "${String(input)}"`;
      return 'write the value as text';
    case 'boolean':
      if (typeof input === 'string' && /^(yes|no|on|off|y|n)$/i.test(input)) {
        return `write ${/^(yes|on|y)$/i.test(input) ? 'true' : 'false'} (YAML 1.2 reads ${input} as text)`;
      }
      return 'write true or false';
    case 'array':
      if (typeof input === 'string' || typeof input === 'number') return `write a list: ${key}: [${String(input)}]`;
      return `write a list, e.g. ${key}: [a, b]`;
    case 'object':
    case 'record':
      return `write key: value pairs indented under ${key}:`;
    default:
      return `write ${typeName(expected)}`;
  }
}

function numberWord(n: number | bigint): string {
  return String(n);
}

/**
 * Error map used for every parse: the message for any issue that a schema did not word itself. Unknown keys are
 * recorded in `knownKeys` (by path) so that the formatter can suggest the right one for each.
 */
export function makeErrorMap(knownKeys: Map<string, string[]>): z.core.$ZodErrorMap {
  return (iss: RawIssue) => {
    const path = (iss.path ?? []) as (string | number)[];
    const last = path.length > 0 ? String(path[path.length - 1]) : 'value';
    switch (iss.code) {
      case 'invalid_type': {
        if (iss.input === undefined) {
          return `is missing; expected ${typeName(iss.expected)}. Fix: add \`${last}:\` with ${typeName(iss.expected)}.`;
        }
        return `expected ${typeName(iss.expected)}, got ${describeValue(iss.input)}. Fix: ${typeFix(iss.expected, iss.input, last)}.`;
      }
      case 'too_small': {
        const min = numberWord(iss.minimum);
        if (iss.origin === 'number' || iss.origin === 'int' || iss.origin === 'bigint') {
          const rel = iss.inclusive ? `at least ${min}` : `greater than ${min}`;
          return `expected a number ${rel}, got ${describeValue(iss.input)}. Fix: write a number ${rel}.`;
        }
        if (iss.origin === 'array' || iss.origin === 'set') {
          return `needs at least ${min} item(s). Fix: add ${min === '1' ? 'an item' : 'items'} to the list.`;
        }
        if (iss.origin === 'string') {
          return iss.minimum === 1
            ? `must not be empty. Fix: write a value, or remove the key to use the default.`
            : `must be at least ${min} characters long, got ${describeValue(iss.input)}. Fix: write a longer value.`;
        }
        return `is too small (minimum ${min}). Fix: use a larger value.`;
      }
      case 'too_big': {
        const max = numberWord(iss.maximum);
        if (iss.origin === 'number' || iss.origin === 'int' || iss.origin === 'bigint') {
          const rel = iss.inclusive ? `at most ${max}` : `less than ${max}`;
          return `expected a number ${rel}, got ${describeValue(iss.input)}. Fix: write a number ${rel}.`;
        }
        if (iss.origin === 'array' || iss.origin === 'set') {
          return `allows at most ${max} item(s). Fix: remove items from the list.`;
        }
        if (iss.origin === 'string') {
          return `must be at most ${max} characters long. Fix: shorten it.`;
        }
        return `is too large (maximum ${max}). Fix: use a smaller value.`;
      }
      case 'invalid_value': {
        const values = iss.values.map((v) => (typeof v === 'string' ? v : String(v)));
        const list = values.join(', ');
        const guess = typeof iss.input === 'string' ? suggest(iss.input, values) : undefined;
        const fix = guess !== undefined ? `did you mean ${guess}?` : `write one of ${list}.`;
        if (values.length === 1) return `expected ${list}, got ${describeValue(iss.input)}. Fix: ${fix}`;
        return `expected one of ${list}, got ${describeValue(iss.input)}. Fix: ${fix}`;
      }
      case 'invalid_format': {
        const what = iss.format === 'regex' ? `text matching ${String(iss.pattern)}` : `a valid ${iss.format}`;
        return `expected ${what}, got ${describeValue(iss.input)}. Fix: correct the value.`;
      }
      case 'not_multiple_of':
        return `expected a multiple of ${String(iss.divisor)}, got ${describeValue(iss.input)}. Fix: round it.`;
      case 'unrecognized_keys': {
        const shape = shapeOf(iss.inst);
        if (shape !== undefined) knownKeys.set(JSON.stringify(path), shape);
        return `unknown key(s): ${iss.keys.join(', ')}`;
      }
      case 'invalid_union':
        return `got ${describeValue(iss.input)}, which is none of the accepted forms. Fix: check the documentation for this setting.`;
      case 'invalid_key':
        return `has an invalid key. Fix: check the key names.`;
      case 'invalid_element':
        return `has an invalid entry. Fix: check the entries.`;
      default:
        return `is not valid (got ${describeValue(iss.input)}). Fix: check the documentation for this setting.`;
    }
  };
}

function shapeOf(inst: unknown): string[] | undefined {
  const def = (inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def;
  return def?.shape !== undefined ? Object.keys(def.shape) : undefined;
}

interface Located {
  pos: { line: number; col: number } | undefined;
  text: string;
}

/**
 * Format zod issues as ConfigError text. `prefix` is prepended to issue paths (['modules','ping'] for module
 * options) so both the location and the key path name the place in the file.
 */
export function issuesToConfigError(
  issues: readonly z.core.$ZodIssue[],
  locator: Locator,
  knownKeys: Map<string, string[]>,
  prefix: KeyPath = [],
  extraFix?: (path: KeyPath) => string | undefined,
): ConfigError {
  const out: Located[] = [];
  const where = (path: KeyPath, at: 'key' | 'value') => {
    const pos = locator.position(path, at);
    return { pos, loc: pos === undefined ? locator.sourceName : `${locator.sourceName}:${pos.line}:${pos.col}` };
  };
  for (const iss of issues) {
    const relPath = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    const full = [...prefix, ...relPath];
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeys.get(JSON.stringify(relPath)) ?? [];
      for (const key of iss.keys) {
        const keyPath = [...full, key];
        const { pos, loc } = where(keyPath, 'key');
        const guess = suggest(key, known);
        const knownList = known.length > 0 ? ` Known keys here: ${known.join(', ')}.` : '';
        const text =
          guess !== undefined
            ? `${loc}: ${pathText(keyPath)}: unknown key. Did you mean "${guess}"? Fix: rename it to ${guess}, or remove it.${knownList}`
            : `${loc}: ${pathText(keyPath)}: unknown key. Fix: remove it, or check the spelling.${knownList}`;
        out.push({ pos, text });
      }
      continue;
    }
    const { pos, loc } = where(full, 'value');
    const extra = extraFix?.(full);
    out.push({ pos, text: `${loc}: ${pathText(full)}: ${iss.message}${extra !== undefined ? ` ${extra}` : ''}` });
  }
  // File order reads best; problems without a line (missing top-level keys) first.
  out.sort((a, b) => (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0));
  const shown = out.slice(0, 20).map((o) => o.text);
  if (out.length > shown.length) shown.push(`... and ${out.length - shown.length} more problem(s).`);
  return new ConfigError(shown.join('\n'));
}
