// PRECIS (RFC 8264) string classes and the two RFC 8265 profiles that JIDs use:
// UsernameCaseMapped (localpart) and OpaqueString (resourcepart).
// Only the slow path lives here; index.ts handles plain ASCII without calling in.
import { describeCodePoint, JidError } from './errors.js';
import { BIDI_RANGES, JOINING_RANGES, VIRAMA_RANGES } from './tables.js';

/** Derived property values, RFC 8264 §8. FREE_PVAL is PVALID in FreeformClass, ID_DIS in IdentifierClass. */
const PVALID = 0;
const CONTEXTJ = 1;
const CONTEXTO = 2;
const FREE_PVAL = 3;
const DISALLOWED = 4;
const UNASSIGNED = 5;
type Derived = typeof PVALID | typeof CONTEXTJ | typeof CONTEXTO | typeof FREE_PVAL | typeof DISALLOWED | typeof UNASSIGNED;

const RE_UNASSIGNED = /^\p{Cn}$/u;
const RE_IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]$/u;
const RE_LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
// RFC 8264 §9.11-9.14: OtherLetterDigits, Spaces, Symbols, Punctuation.
const RE_FREE_ONLY = /^[\p{Lt}\p{Nl}\p{No}\p{Me}\p{Zs}\p{Sm}\p{Sc}\p{Sk}\p{So}\p{P}]$/u;

/** RFC 8264 §9.2 Exceptions (the RFC 5892 §2.6 table). */
function exception(cp: number): Derived | -1 {
  switch (cp) {
    case 0x00df: case 0x03c2: case 0x06fd: case 0x06fe: case 0x0f0b: case 0x3007:
      return PVALID;
    case 0x00b7: case 0x0375: case 0x05f3: case 0x05f4: case 0x30fb:
      return CONTEXTO;
    case 0x0640: case 0x07fa: case 0x302e: case 0x302f: case 0x303b:
      return DISALLOWED;
  }
  if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06f0 && cp <= 0x06f9)) return CONTEXTO;
  if (cp >= 0x3031 && cp <= 0x3035) return DISALLOWED;
  return -1;
}

/** RFC 8264 §9.7: Hangul_Syllable_Type L, V or T (not exposed to regexes, but fixed since Unicode 5.2). */
function isOldHangulJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) || (cp >= 0xd7b0 && cp <= 0xd7c6) || (cp >= 0xd7cb && cp <= 0xd7fb);
}

/** RFC 8264 §8: the derived property of one code point, in the RFC's order of tests. */
function derive(cp: number): Derived {
  const ex = exception(cp);
  if (ex !== -1) return ex;
  // §9.3 BackwardCompatible is empty.
  if (cp >= 0x21 && cp <= 0x7e) return PVALID; // §9.5 ASCII7 (checked before the regexes only for speed: ASCII is never Cn)
  const ch = String.fromCodePoint(cp);
  if (RE_UNASSIGNED.test(ch) && !RE_IGNORABLE.test(ch)) return UNASSIGNED; // §9.4
  if (cp === 0x200c || cp === 0x200d) return CONTEXTJ; // §9.6 JoinControl
  if (isOldHangulJamo(cp)) return DISALLOWED; // §9.7
  if (RE_IGNORABLE.test(ch)) return DISALLOWED; // §9.8 PrecisIgnorableProperties
  if (cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f)) return DISALLOWED; // §9.9 Controls
  if (ch.normalize('NFKC') !== ch) return FREE_PVAL; // §9.10 HasCompat
  if (RE_LETTER_DIGITS.test(ch)) return PVALID; // §9.1
  if (RE_FREE_ONLY.test(ch)) return FREE_PVAL; // §9.11-9.14
  return DISALLOWED; // Cs, Co, Zl, Zp, Cf that is not default-ignorable
}

// ---- range tables (tables.ts) ----

function findRange(table: readonly number[], stride: number, cp: number): number {
  let lo = 0;
  let hi = table.length / stride - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = mid * stride;
    if (cp < table[at]) hi = mid - 1;
    else if (cp > table[at + 1]) lo = mid + 1;
    else return at;
  }
  return -1;
}

const BIDI_L = 0;
const BIDI_R = 1; // R or AL: RFC 5893 treats them alike
const BIDI_AN = 2;
const BIDI_EN = 3;
const BIDI_NSM = 4;
const BIDI_NEUTRAL = 5; // ES, CS, ET, ON, BN

function bidiGroup(cp: number): number {
  const at = findRange(BIDI_RANGES, 3, cp);
  return at === -1 ? BIDI_L : BIDI_RANGES[at + 2];
}

const JT_T = 1;
const JT_L = 2;
const JT_R = 3;
const JT_D = 4;
const RE_MARK_OR_FORMAT = /^[\p{Mn}\p{Me}\p{Cf}]$/u;

function joiningType(cp: number): number {
  const at = findRange(JOINING_RANGES, 3, cp);
  if (at !== -1) return JOINING_RANGES[at + 2];
  // Unicode's own derivation for unlisted code points (DerivedJoiningType.txt header).
  return RE_MARK_OR_FORMAT.test(String.fromCodePoint(cp)) ? JT_T : 0;
}

function isVirama(cp: number): boolean {
  return findRange(VIRAMA_RANGES, 2, cp) !== -1;
}

// ---- contextual rules, RFC 5892 Appendix A (referenced by RFC 8264 §9.2, §9.6) ----

const RE_GREEK = /^\p{Script=Greek}$/u;
const RE_HEBREW = /^\p{Script=Hebrew}$/u;
const RE_KANA_HAN = /[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]/u;

function contextJ(cps: readonly number[], i: number): boolean {
  // A.1 / A.2: allowed after a virama.
  if (i > 0 && isVirama(cps[i - 1])) return true;
  if (cps[i] === 0x200d) return false;
  // A.1: (Joining_Type:{L,D})(Joining_Type:T)* ZWNJ (Joining_Type:T)*(Joining_Type:{R,D})
  let j = i - 1;
  while (j >= 0 && joiningType(cps[j]) === JT_T) j--;
  if (j < 0) return false;
  const before = joiningType(cps[j]);
  if (before !== JT_L && before !== JT_D) return false;
  j = i + 1;
  while (j < cps.length && joiningType(cps[j]) === JT_T) j++;
  if (j >= cps.length) return false;
  const after = joiningType(cps[j]);
  return after === JT_R || after === JT_D;
}

function contextO(cps: readonly number[], i: number, whole: string): boolean {
  const cp = cps[i];
  switch (cp) {
    case 0x00b7: // A.3 MIDDLE DOT: only between two 'l' (Catalan l·l)
      return i > 0 && cps[i - 1] === 0x6c && cps[i + 1] === 0x6c;
    case 0x0375: // A.4 GREEK LOWER NUMERAL SIGN (KERAIA): followed by Greek
      return i + 1 < cps.length && RE_GREEK.test(String.fromCodePoint(cps[i + 1]));
    case 0x05f3: // A.5 HEBREW PUNCTUATION GERESH
    case 0x05f4: // A.6 HEBREW PUNCTUATION GERSHAYIM: preceded by Hebrew
      return i > 0 && RE_HEBREW.test(String.fromCodePoint(cps[i - 1]));
    case 0x30fb: // A.7 KATAKANA MIDDLE DOT: with some Hiragana, Katakana or Han in the string
      return RE_KANA_HAN.test(whole);
  }
  if (cp >= 0x0660 && cp <= 0x0669) return !cps.some((c) => c >= 0x06f0 && c <= 0x06f9); // A.8
  if (cp >= 0x06f0 && cp <= 0x06f9) return !cps.some((c) => c >= 0x0660 && c <= 0x0669); // A.9
  return false;
}

function toCodePoints(s: string): number[] {
  const cps: number[] = [];
  for (const ch of s) cps.push(ch.codePointAt(0) as number);
  return cps;
}

/**
 * Checks that every code point of an already mapped and normalized string belongs to the
 * PRECIS IdentifierClass (RFC 8264 §4.2) or FreeformClass (§4.3), contextual rules included.
 * Returns the code points for further checks.
 */
export function checkStringClass(s: string, identifier: boolean, part: string, mappedFrom?: string): number[] {
  const cps = toCodePoints(s);
  // Errors name the code point as it is after mapping; say so when that differs from the input.
  const note = mappedFrom !== undefined && mappedFrom !== s ? ' (after PRECIS mapping)' : '';
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i];
    const d = derive(cp);
    if (d === PVALID || (d === FREE_PVAL && !identifier)) continue;
    if (d === CONTEXTJ) {
      if (contextJ(cps, i)) continue;
      throw new JidError(`${part} contains ${describeCodePoint(cp)}${note} where its context rule does not allow it (RFC 5892 Appendix A)`);
    }
    if (d === CONTEXTO) {
      if (contextO(cps, i, s)) continue;
      throw new JidError(`${part} contains ${describeCodePoint(cp)}${note} where its context rule does not allow it (RFC 5892 Appendix A)`);
    }
    if (d === UNASSIGNED) throw new JidError(`${part} contains an unassigned code point ${describeCodePoint(cp)}${note}`);
    throw new JidError(`${part} contains ${describeCodePoint(cp)}${note}, which is not allowed (RFC 8264 ${identifier ? 'IdentifierClass' : 'FreeformClass'})`);
  }
  return cps;
}

/** True if the string has a right-to-left code point (Bidi_Class R, AL or AN), which makes the Bidi Rule apply. */
export function hasRtl(cps: readonly number[]): boolean {
  for (const cp of cps) {
    const g = bidiGroup(cp);
    if (g === BIDI_R || g === BIDI_AN) return true;
  }
  return false;
}

/**
 * The Bidi Rule, RFC 5893 §2. A localpart must satisfy it when it contains right-to-left code points
 * (RFC 8265 §3.3.2 step 4); every label of a domain name with such a label must (`always`).
 */
export function checkBidiRule(cps: readonly number[], part: string, always = false): void {
  if (cps.length === 0 || (!always && !hasRtl(cps))) return;
  const first = bidiGroup(cps[0]);
  // Condition 1: the first character has Bidi_Class L, R or AL.
  if (first !== BIDI_R && first !== BIDI_L) {
    throw new JidError(`${part} starts with ${describeCodePoint(cps[0])}, which cannot start a string with right-to-left text (RFC 5893 §2 Bidi Rule, condition 1)`);
  }
  const rtl = first === BIDI_R;
  let hasEN = false;
  let hasAN = false;
  for (const cp of cps) {
    const g = bidiGroup(cp);
    if (g === BIDI_EN) hasEN = true;
    else if (g === BIDI_AN) hasAN = true;
    // Conditions 2 and 5: which classes each direction allows.
    const allowed = rtl ? g === BIDI_R || g === BIDI_NSM || g === BIDI_NEUTRAL : g === BIDI_L || g === BIDI_NSM || g === BIDI_NEUTRAL;
    if (!allowed && g !== BIDI_EN && !(rtl && g === BIDI_AN)) {
      throw new JidError(`${part} contains ${describeCodePoint(cp)}, which cannot appear in a ${rtl ? 'right-to-left' : 'left-to-right'} string with right-to-left text (RFC 5893 §2 Bidi Rule, condition ${rtl ? 2 : 5})`);
    }
  }
  // Condition 4.
  if (hasEN && hasAN) throw new JidError(`${part} mixes European and Arabic-Indic digits in a right-to-left string (RFC 5893 §2 Bidi Rule, condition 4)`);
  // Conditions 3 and 6: the last character that is not NSM.
  let end = cps.length - 1;
  while (end > 0 && bidiGroup(cps[end]) === BIDI_NSM) end--;
  const last = bidiGroup(cps[end]);
  const endOk = rtl ? last === BIDI_R || last === BIDI_EN || last === BIDI_AN : last === BIDI_L || last === BIDI_EN;
  if (!endOk) {
    throw new JidError(`${part} ends with ${describeCodePoint(cps[end])}, which cannot end a ${rtl ? 'right-to-left' : 'left-to-right'} string with right-to-left text (RFC 5893 §2 Bidi Rule, condition ${rtl ? 3 : 6})`);
  }
}

/**
 * RFC 8264 §7: applying a profile's mappings must give a stable result; rules are re-applied
 * up to three more times, and a string that still changes is rejected.
 */
function stabilize(s: string, map: (s: string) => string, part: string): string {
  let out = map(s);
  for (let i = 0; i < 3; i++) {
    const next = map(out);
    if (next === out) return out;
    out = next;
  }
  throw new JidError(`${part} does not reach a stable form under PRECIS preparation (RFC 8264 §7)`);
}

// RFC 8265 §3.3.2 step 1: fullwidth and halfwidth code points (decomposition types <wide> and
// <narrow>: U+3000 and U+FF01..U+FFEE) map to their decomposition, which NFKC of the single code point gives.
const RE_WIDTH = /[\u3000\uff01-\uffee]/g;
function widthMap(s: string): string {
  return s.replace(RE_WIDTH, (ch) => ch.normalize('NFKC'));
}

function mapUsername(s: string): string {
  // Step 3: RFC 8265 §3.3.2 asks for Unicode toLowerCase(); String.prototype.toLowerCase is exactly that,
  // including the one context-dependent mapping (Final_Sigma: 'ΑΣ' -> 'ας', a lone 'Σ' -> 'σ').
  // Step 4: NFC.
  return widthMap(s).toLowerCase().normalize('NFC');
}

/** UsernameCaseMapped (RFC 8265 §3.3.2): width map, lower case, NFC, IdentifierClass, Bidi Rule. Empty input is rejected. */
export function usernameCaseMapped(s: string, part: string): string {
  const out = stabilize(s, mapUsername, part);
  if (out === '') throw new JidError(`${part} is empty`);
  const cps = checkStringClass(out, true, part, s);
  checkBidiRule(cps, part);
  return out;
}

// RFC 8265 §4.2.2 step 2: non-ASCII spaces (any Zs) map to U+0020.
const RE_SPACE = /\p{Zs}/gu;
function mapOpaque(s: string): string {
  return s.replace(RE_SPACE, ' ').normalize('NFC');
}

/** OpaqueString (RFC 8265 §4.2.2): spaces to U+0020, NFC, FreeformClass; no case or width mapping, no Bidi Rule. */
export function opaqueString(s: string, part: string): string {
  const out = stabilize(s, mapOpaque, part);
  if (out === '') throw new JidError(`${part} is empty`);
  checkStringClass(out, false, part, s);
  return out;
}

/** Width mapping, lower case and NFC, as RFC 7622 §3.2.2 (via RFC 5895) asks of a domainpart before IDNA. */
export function mapDomainChars(s: string): string {
  return widthMap(s).toLowerCase().normalize('NFC');
}
