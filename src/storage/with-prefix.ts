// ArchiveQuery.withPrefix as a range the backends' indexes on `with` can serve: with >= prefix AND with < bound.
// No LIKE, so `%` and `_` in a prefix are ordinary characters and nothing needs escaping.
//
// The range holds exactly the strings that start with the prefix when strings compare by code point: SQLite's
// BINARY collation on UTF-8 text and PostgreSQL's "C" collation (on a UTF-8 database) both do, since UTF-8 byte
// order is code point order. JavaScript's own < compares UTF-16 code units, which differs for U+E000-U+FFFF
// against astral characters; that is why the bound is built from code points here.

/**
 * The least string greater than every string that starts with `prefix`: the prefix with its last code point
 * incremented (U+D7FF is followed by U+E000: surrogates are not characters), after dropping trailing U+10FFFF.
 * undefined when there is no such string (an empty prefix, or only U+10FFFF): then `with >= prefix` alone is exact.
 */
export function prefixUpperBound(prefix: string): string | undefined {
  let end = prefix.length;
  while (end > 0) {
    const low = prefix.charCodeAt(end - 1);
    const start = end >= 2 && low >= 0xdc00 && low <= 0xdfff && isHighSurrogate(prefix.charCodeAt(end - 2)) ? end - 2 : end - 1;
    const codePoint = prefix.codePointAt(start)!;
    if (codePoint < 0x10ffff) return prefix.slice(0, start) + String.fromCodePoint(codePoint === 0xd7ff ? 0xe000 : codePoint + 1);
    end = start;
  }
  return undefined;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
