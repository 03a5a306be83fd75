// Full-text search words, shared by every backend so that SQLite, PostgreSQL and memory index and match the very
// same words (ArchiveStore.append's `text`, ArchiveQuery's `text`).
//
// - A word is a run of letters, digits and combining marks (Unicode L, N, M). Everything else separates words:
//   spaces, punctuation, quotes, symbols, emoji. So `romeo@montague.lit` holds the words romeo, montague and lit,
//   and `it's` holds it and s. Scripts written without spaces (Chinese, Japanese, Thai) are not segmented: a run
//   of them is one word, found whole or by its beginning (prefix).
// - Words compare without case and without accents: lower-cased, with the combining diacritical marks
//   (U+0300-U+036F) of their canonical decomposition removed, so é, Ü, ñ, ά and й become e, u, n, α and и; letters
//   that are not decomposed (ø, ł, ß, æ) stay as they are. Other marks (Indic vowel signs, say) are part of a word.
// - Words longer than MAX_WORD_LENGTH are not indexed (long tokens are base64 or links, not words someone types;
//   PostgreSQL also limits a lexeme to 2 KiB). A very long text is indexed up to MAX_INDEXED_LENGTH of distinct
//   words (a PostgreSQL tsvector holds at most 1 MiB); words first seen beyond that are not found.
//
// A search is read by the same rules, so it has no syntax a user could get wrong: quotes, parentheses, `-`, `:`,
// `^`, `+` separate words; AND, OR, NOT and NEAR are words like any other. The one operator is a `*` right after a
// word, which makes it a prefix. An item matches when its text holds every word of the search. A search with no
// words (empty, spaces, only punctuation) matches nothing, and so does one with a word too long to be indexed.
// Only the first MAX_SEARCH_WORDS distinct words of a search count (as web search engines do): every word is work
// for the query, and a search of thousands would be slow everywhere and too deep a tsquery for PostgreSQL.
// Backends pass only the normalized words on, each quoted as their query language wants (an FTS5 string, a
// tsquery lexeme), so no input reaches SQL, FTS5 or tsquery as syntax.

/** Longer words are not indexed, and a search for one finds nothing. In UTF-16 code units (JavaScript length). */
export const MAX_WORD_LENGTH = 100;
/** A text's distinct words are indexed until their lengths add up to this (UTF-16 code units: at most 300 KB). */
export const MAX_INDEXED_LENGTH = 100_000;
/** Words of a search beyond this many distinct ones are ignored. */
export const MAX_SEARCH_WORDS = 32;

const INDEX_WORD = /[\p{L}\p{N}\p{M}]+/gu;
/** A word and the `*` that may follow it. */
const SEARCH_WORD = /([\p{L}\p{N}\p{M}]+)(\*?)/gu;
const COMBINING_DIACRITICS = /[\u0300-\u036f]/g;
const ASCII = /^[\x00-\x7f]*$/;

export interface SearchWord {
  /** Normalized as the index is. */
  word: string;
  /** Matches every indexed word that starts with `word`. */
  prefix: boolean;
}

/** One word as the index holds it: lower case, without accents; '' when nothing is left (only marks). */
export function normalizeWord(word: string): string {
  const lower = word.toLowerCase();
  if (ASCII.test(lower)) return lower;
  // Lower-case first: İ becomes i + U+0307, whose dot then goes with the other diacritics. Final sigma is sigma.
  return lower.normalize('NFD').replace(COMBINING_DIACRITICS, '').normalize('NFC').replaceAll('ς', 'σ');
}

/** The distinct words of a text, normalized, for the index. */
export function indexWords(text: string): string[] {
  const words = new Set<string>();
  let length = 0;
  for (const [raw] of text.matchAll(INDEX_WORD)) {
    const word = normalizeWord(raw);
    if (word === '' || word.length > MAX_WORD_LENGTH || words.has(word)) continue;
    length += word.length;
    if (length > MAX_INDEXED_LENGTH) break;
    words.add(word);
  }
  return [...words];
}

/** The words a search asks for, without repeats, MAX_SEARCH_WORDS at most; none when nothing can match. */
export function searchWords(search: string): SearchWord[] {
  const words = new Map<string, SearchWord>();
  for (const [, raw, star] of search.matchAll(SEARCH_WORD)) {
    const word = normalizeWord(raw);
    if (word === '') continue;
    // No item holds a word this long: the search cannot match.
    if (word.length > MAX_WORD_LENGTH) return [];
    const prefix = star === '*';
    words.set(prefix ? `${word}*` : word, { word, prefix });
    if (words.size === MAX_SEARCH_WORDS) break;
  }
  return [...words.values()];
}

/** Whether an item's indexed words hold every word of a search (the memory backend's search, and the definition). */
export function matchesSearch(indexed: ReadonlySet<string>, search: readonly SearchWord[]): boolean {
  if (search.length === 0) return false;
  return search.every(({ word, prefix }) => (prefix ? hasPrefix(indexed, word) : indexed.has(word)));
}

function hasPrefix(indexed: ReadonlySet<string>, prefix: string): boolean {
  for (const word of indexed) if (word.startsWith(prefix)) return true;
  return false;
}
