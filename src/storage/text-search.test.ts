// The word rules every backend shares (text-search.ts) and the withPrefix range bound (with-prefix.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  indexWords, matchesSearch, MAX_INDEXED_LENGTH, MAX_SEARCH_WORDS, MAX_WORD_LENGTH, normalizeWord, searchWords,
} from './text-search.js';
import { prefixUpperBound } from './with-prefix.js';

test('words: runs of letters, digits and marks; punctuation, symbols and emoji separate them', () => {
  assert.deepEqual(indexWords("Romeo's address: romeo@montague.lit, foo-bar 3.14 a_b (x) 🌹rose"), [
    'romeo', 's', 'address', 'montague', 'lit', 'foo', 'bar', '3', '14', 'a', 'b', 'x', 'rose',
  ]);
  assert.deepEqual(indexWords('こんにちは世界 मराठी हैलो'), ['こんにちは世界', 'मराठी', 'हैलो'], 'marks stay inside a word');
  assert.deepEqual(indexWords('sun Sun SUN'), ['sun'], 'each word once');
  assert.deepEqual(indexWords(''), []);
  assert.deepEqual(indexWords('?! — …'), []);
});

test('words compare without case and without accents; letters that do not decompose stay', () => {
  const cases: [string, string][] = [
    ['Crème', 'creme'], ['BRÛLÉE', 'brulee'], ['Ñandú', 'nandu'], ['naïve', 'naive'], ['Ångström', 'angstrom'],
    ['e\u0301te\u0301', 'ete'], ['İstanbul', 'istanbul'], ['Οδός', 'οδοσ'], ['ΟΔΟΣ', 'οδοσ'], ['Йод', 'иод'],
    ['Øre', 'øre'], ['Łódź', 'łodz'], ['Straße', 'straße'], ['ÆBLE', 'æble'],
  ];
  for (const [word, normalized] of cases) assert.equal(normalizeWord(word), normalized, word);
  assert.equal(normalizeWord('\u0301'), '', 'a lone accent is nothing');
});

test('a search: words normalized like the index, a * right after a word makes a prefix, the rest is not syntax', () => {
  assert.deepEqual(searchWords('Crème* "brûlée" AND (x OR -y) near:z'), [
    { word: 'creme', prefix: true }, { word: 'brulee', prefix: false }, { word: 'and', prefix: false },
    { word: 'x', prefix: false }, { word: 'or', prefix: false }, { word: 'y', prefix: false },
    { word: 'near', prefix: false }, { word: 'z', prefix: false },
  ]);
  assert.deepEqual(searchWords('sun sun SUN sun* sun**'), [{ word: 'sun', prefix: false }, { word: 'sun', prefix: true }]);
  assert.deepEqual(searchWords('*sun'), [{ word: 'sun', prefix: false }], 'a * before a word is a separator');
  for (const nothing of ['', '   ', '*', '""', "'; --", '🌞']) assert.deepEqual(searchWords(nothing), [], JSON.stringify(nothing));
  assert.deepEqual(searchWords(`sun ${'a'.repeat(MAX_WORD_LENGTH + 1)}`), [], 'a word no index holds: nothing matches');
  assert.equal(searchWords('a'.repeat(MAX_WORD_LENGTH)).length, 1);
});

test('limits: a search counts its first MAX_SEARCH_WORDS distinct words; a text is indexed up to MAX_INDEXED_LENGTH', () => {
  const many = Array.from({ length: 100 }, (_, i) => `w${i}`);
  assert.deepEqual(searchWords(['w0', ...many].join(' ')).map((w) => w.word), many.slice(0, MAX_SEARCH_WORDS));
  // Ten-character words: the index takes as many as fit, the first ones, each once.
  const long = Array.from({ length: MAX_INDEXED_LENGTH / 5 }, (_, i) => `w${String(i).padStart(9, '0')}`);
  const indexed = indexWords([...long, long[0], long[0]].join(' '));
  assert.equal(indexed.length, MAX_INDEXED_LENGTH / 10);
  assert.deepEqual(indexed.slice(0, 2), long.slice(0, 2));
});

test('matching: every word, exactly or by prefix; no words match nothing', () => {
  const words = new Set(indexWords('It is the east, and Juliet is the sun'));
  assert.equal(matchesSearch(words, searchWords('juliet SUN')), true);
  assert.equal(matchesSearch(words, searchWords('jul* ea*')), true);
  assert.equal(matchesSearch(words, searchWords('jul')), false);
  assert.equal(matchesSearch(words, searchWords('juliet moon')), false);
  assert.equal(matchesSearch(words, searchWords('?!')), false);
  assert.equal(matchesSearch(new Set(), searchWords('sun')), false);
});

test('withPrefix bound: the least string after every string with the prefix, by code point', () => {
  assert.equal(prefixUpperBound('node\u001f'), 'node\u0020');
  assert.equal(prefixUpperBound('abc'), 'abd');
  assert.equal(prefixUpperBound('x\uFFFF'), 'x\u{10000}');
  assert.equal(prefixUpperBound('x\u{10000}'), 'x\u{10001}');
  assert.equal(prefixUpperBound('x\u{1F600}'), 'x\u{1F601}');
  assert.equal(prefixUpperBound('\uD7FF'), '\uE000', 'surrogates are skipped');
  assert.equal(prefixUpperBound('y\u{10FFFF}'), 'z');
  assert.equal(prefixUpperBound('y\u{10FFFF}\u{10FFFF}'), 'z');
  assert.equal(prefixUpperBound('\u{10FFFF}'), undefined);
  assert.equal(prefixUpperBound(''), undefined);
});
