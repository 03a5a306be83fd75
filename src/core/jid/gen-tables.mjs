#!/usr/bin/env node
// Generates tables.ts: the few Unicode properties PRECIS needs that V8's regex
// property escapes do not expose (Bidi_Class, Joining_Type, Canonical_Combining_Class).
//
// Input: the Unicode Character Database as shipped by Debian's `unicode-data`
// package (apt-get install unicode-data), or UCD_DIR=/path/to/ucd.
// Usage: node src/core/jid/gen-tables.mjs > src/core/jid/tables.ts
//
// Tables are kept small by only describing code points that can survive the
// IdentifierClass check (RFC 8264 §4.2) in this Node's Unicode version: bidi and
// joining lookups only ever run on localparts that already passed that check, so
// every other code point is a "don't care" that a range may swallow.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const UCD = process.env.UCD_DIR ?? '/usr/share/unicode';
const MAX = 0x10ffff;

function readUcd(name) {
  return readFileSync(join(UCD, name), 'utf8');
}

function ucdVersion() {
  const m = /DerivedBidiClass-(\d+\.\d+\.\d+)/.exec(readUcd('extracted/DerivedBidiClass.txt'));
  return m ? m[1] : 'unknown';
}

// Calls fn(start, end, value) for each "XXXX..YYYY ; value" line; with missing=true
// for the "# @missing: XXXX..YYYY; value" default lines instead.
function eachRange(text, missing, fn) {
  for (const raw of text.split('\n')) {
    let line = raw;
    if (missing) {
      const m = /^# @missing: (.*)$/.exec(line);
      if (!m) continue;
      line = m[1];
    } else {
      line = line.replace(/#.*/, '').trim();
      if (line === '') continue;
    }
    const [cps, value] = line.split(';').map((s) => s.trim());
    const [a, b] = cps.split('..');
    fn(parseInt(a, 16), parseInt(b ?? a, 16), value);
  }
}

// ---- which code points can be in a prepared localpart (RFC 8264 §8, §9) ----
const LETTER_DIGITS = /[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]/u;
const IGNORABLE = /[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}\p{Cn}]/u;
const EXCEPTION_OK = new Set([0x00df, 0x03c2, 0x06fd, 0x06fe, 0x0f0b, 0x3007, 0x00b7, 0x0375, 0x05f3, 0x05f4, 0x30fb]);
function oldHangulJamo(cp) {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7fb);
}
function canBeIdentifier(cp) {
  if (cp >= 0x21 && cp <= 0x7e) return true;
  if (EXCEPTION_OK.has(cp) || (cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06f0 && cp <= 0x06f9)) return true;
  if (cp === 0x200c || cp === 0x200d) return true;
  if (cp >= 0xd800 && cp <= 0xdfff) return false;
  const s = String.fromCodePoint(cp);
  if (IGNORABLE.test(s) || oldHangulJamo(cp)) return false;
  if (s.normalize('NFKC') !== s) return false;
  return LETTER_DIGITS.test(s);
}
const care = new Uint8Array(MAX + 1);
for (let cp = 0; cp <= MAX; cp++) care[cp] = canBeIdentifier(cp) ? 1 : 0;

// Turns a per-code-point value array into [start, end, value] triples, skipping
// `none`, and letting runs of one value extend over "don't care" code points.
function ranges(values, none) {
  const out = [];
  let cur = null;
  for (let cp = 0; cp <= MAX; cp++) {
    if (!care[cp]) continue;
    const v = values[cp];
    if (cur && cur[2] === v) {
      cur[1] = cp;
      continue;
    }
    if (cur && cur[2] !== none) out.push(cur);
    cur = [cp, cp, v];
  }
  if (cur && cur[2] !== none) out.push(cur);
  return out;
}

// ---- Bidi_Class, grouped as the RFC 5893 §2 Bidi Rule sees it ----
const BIDI_GROUP = {
  L: 0, Left_To_Right: 0,
  R: 1, Right_To_Left: 1, AL: 1, Arabic_Letter: 1,
  AN: 2, EN: 3, European_Number: 3, NSM: 4,
  ES: 5, CS: 5, ET: 5, European_Terminator: 5, ON: 5, BN: 5, Boundary_Neutral: 5,
};
const bidi = new Uint8Array(MAX + 1);
const bidiText = readUcd('extracted/DerivedBidiClass.txt');
const setBidi = (a, b, v) => {
  const g = BIDI_GROUP[v] ?? 6; // B, S, WS and the explicit embedding controls
  bidi.fill(g, a, b + 1);
};
eachRange(bidiText, true, setBidi);
eachRange(bidiText, false, setBidi);
// Marks that this UCD does not know as Mn/Me (new, or recategorized since, like U+1734 in Unicode 16)
// but Node does: nonspacing marks are NSM in all but a handful of cases.
const MARK = /[\p{Mn}\p{Me}]/u;
const ucdGc = new Array(MAX + 1);
eachRange(readUcd('extracted/DerivedGeneralCategory.txt'), false, (a, b, v) => {
  for (let cp = a; cp <= b; cp++) ucdGc[cp] = v;
});
for (let cp = 0; cp <= MAX; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  if (ucdGc[cp] !== 'Mn' && ucdGc[cp] !== 'Me' && MARK.test(String.fromCodePoint(cp))) bidi[cp] = BIDI_GROUP.NSM;
}

// ---- Joining_Type, for the ZWNJ rule (RFC 5892 Appendix A.1) ----
// U (0) means "not listed": at run time that is T for Mn/Me/Cf and U otherwise,
// which is how the UCD itself derives T, and it keeps marks newer than this UCD right.
const JT = { T: 1, L: 2, R: 3, D: 4, C: 5 };
const JT_EXPLICIT_U = 6;
const joining = new Uint8Array(MAX + 1);
eachRange(readUcd('extracted/DerivedJoiningType.txt'), false, (a, b, v) => joining.fill(JT[v], a, b + 1));
const MARK_OR_FORMAT = /[\p{Mn}\p{Me}\p{Cf}]/u;
for (let cp = 0; cp <= MAX; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const fallbackT = MARK_OR_FORMAT.test(String.fromCodePoint(cp));
  if (joining[cp] === JT.T && fallbackT) joining[cp] = 0;
  else if (joining[cp] === 0 && fallbackT && ucdGc[cp] !== undefined && ucdGc[cp] !== 'Cn') joining[cp] = JT_EXPLICIT_U;
}

// ---- Canonical_Combining_Class = Virama (9), for RFC 5892 Appendix A.1/A.2 ----
// Taken from this Node's own normalizer, so it matches its Unicode version: canonical reordering
// (NFD) moves a mark of class 9 after one of class 8 (U+3099) and before one of class 10 (U+05B0).
// The UCD file is only used as a cross-check.
const virama = new Uint8Array(MAX + 1);
for (let cp = 0x80; cp <= MAX; cp++) {
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0x3099 || cp === 0x05b0) continue;
  const x = String.fromCodePoint(cp);
  if (x.normalize('NFD') !== x) continue;
  if (('a' + x + '\u3099').normalize('NFD') === 'a\u3099' + x && ('a\u05b0' + x).normalize('NFD') === 'a' + x + '\u05b0') virama[cp] = 1;
}
eachRange(readUcd('extracted/DerivedCombiningClass.txt'), false, (a, b, v) => {
  for (let cp = a; cp <= b; cp++) {
    if ((v === '9') !== (virama[cp] === 1)) process.stderr.write(`note: U+${cp.toString(16)} ccc ${v} in the UCD, virama=${virama[cp]} in Node\n`);
  }
});

function emit(name, doc, triples, withValue) {
  const hex = (n) => '0x' + n.toString(16);
  const items = triples.map((t) => (withValue ? `${hex(t[0])},${hex(t[1])},${t[2]}` : `${hex(t[0])},${hex(t[1])}`));
  const lines = [];
  for (let i = 0; i < items.length; i += 6) lines.push('  ' + items.slice(i, i + 6).join(', ') + ',');
  return `${doc}\nexport const ${name}: readonly number[] = [\n${lines.join('\n')}\n];\n`;
}

const bidiRanges = ranges(bidi, 0);
const joinRanges = ranges(joining, 0);
const viramaRanges = ranges(virama, 0);

process.stdout.write(`// Generated by gen-tables.mjs from the Unicode Character Database ${ucdVersion()}
// for Node ${process.versions.node} (Unicode ${process.versions.unicode}). Do not edit by hand.
// Ranges are inclusive and sorted; they are only meaningful for code points that can
// pass the PRECIS IdentifierClass check (others may fall inside a range by accident).

${emit('BIDI_RANGES', `/** [start, end, group]: 1 = R or AL, 2 = AN, 3 = EN, 4 = NSM, 5 = ES/CS/ET/ON/BN, 6 = other; unlisted = L. */`, bidiRanges, true)}
${emit('JOINING_RANGES', `/** [start, end, type]: 1 = T, 2 = L, 3 = R, 4 = D, 5 = C, 6 = U; unlisted = T for Mn/Me/Cf, else U. */`, joinRanges, true)}
${emit('VIRAMA_RANGES', `/** [start, end]: Canonical_Combining_Class = Virama (9). */`, viramaRanges, false)}`);
process.stderr.write(`bidi ${bidiRanges.length}, joining ${joinRanges.length}, virama ${viramaRanges.length} ranges\n`);
