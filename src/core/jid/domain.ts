// Domainpart preparation, RFC 7622 §3.2: an IP literal, or a domain name whose labels are
// NR-LDH labels or IDNA2008 U-labels (A-labels are converted to U-labels).
import { isIPv6 } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { describeCodePoint, JidError } from './errors.js';
import { checkBidiRule, checkStringClass, hasRtl, mapDomainChars } from './precis.js';

const PART = 'domainpart';
const MAX_OCTETS = 1023; // RFC 7622 §3.1
const MAX_LABEL_OCTETS = 63; // RFC 1035 §2.3.4, counted on the A-label

// The WHATWG host parser behind url.domainToASCII reads a name whose last label is numeric as an
// IPv4 address ('1.2.3' -> '1.2.0.3', 'ü.1' -> failure). A plain extra label keeps it a name; it is
// LTR, so it satisfies the Bidi Rule that UTS #46 applies to every label of a bidi domain name.
const SUFFIX = '.x';

function shown(s: string): string {
  return s.length > 80 ? s.slice(0, 80) + '…' : s;
}

function isLdh(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f;
}

/**
 * Plain ASCII names, the common case: letters, digits, '-', '_' and dots, no A-label.
 * Returns the lowercased name, or null to take the full path (which also produces the error message).
 * '_' is not LDH, but DNS allows it (RFC 2181 §11) and nameprep-era servers accepted it, so we do too.
 */
function asciiDomain(s: string): string | null {
  if (s.length > MAX_OCTETS) return null;
  let upper = false;
  let labelStart = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 0x2e;
    if (c === 0x2e) {
      const len = i - labelStart;
      if (len === 0 || len > MAX_LABEL_OCTETS) return null;
      if (s.charCodeAt(labelStart) === 0x2d || s.charCodeAt(i - 1) === 0x2d) return null;
      // 'xn--' (any case): an A-label, to be checked and turned into a U-label.
      if (len >= 4 && s.charCodeAt(labelStart + 2) === 0x2d && s.charCodeAt(labelStart + 3) === 0x2d) return null;
      labelStart = i + 1;
    } else if (c >= 0x41 && c <= 0x5a) {
      upper = true;
    } else if (!isLdh(c)) {
      return null;
    }
  }
  return upper ? s.toLowerCase() : s;
}

/** RFC 7622 §3.2: '[' IPv6 ']' (RFC 3986 IP-literal), serialized in its RFC 5952 form so equal addresses compare equal. */
function ipv6Literal(s: string): string {
  const inner = s.slice(1, -1);
  if (!s.endsWith(']') || inner.includes('%') || !isIPv6(inner)) {
    throw new JidError(`${PART} '${shown(s)}' is not a valid IPv6 literal`);
  }
  const canonical = domainToASCII(s);
  if (canonical === '') throw new JidError(`${PART} '${shown(s)}' is not a valid IPv6 literal`);
  return canonical;
}

const RE_COMBINING_START = /^\p{M}/u;

/** One label of a mapped domain (Unicode form), RFC 5891 §4.2.3 and §5.4 checks that UTS #46 leaves out. */
function checkLabel(label: string): void {
  if (label === '') throw new JidError(`${PART} has an empty label`);
  if (label.startsWith('-') || label.endsWith('-')) throw new JidError(`${PART} label '${shown(label)}' starts or ends with a hyphen`);
  let ascii = true;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c >= 0x80) {
      ascii = false;
    } else if (!isLdh(c)) {
      throw new JidError(`${PART} contains ${describeCodePoint(c)}, which is not allowed in a domain name`);
    }
  }
  if (ascii) return;
  // RFC 5891 §4.2.3.1: a U-label has no '--' in positions 3 and 4.
  if (label.length >= 4 && label[2] === '-' && label[3] === '-') throw new JidError(`${PART} label '${shown(label)}' has '--' in positions 3 and 4`);
  // RFC 5891 §4.2.3.2: a label must not start with a combining mark.
  if (RE_COMBINING_START.test(label)) throw new JidError(`${PART} label '${shown(label)}' starts with a combining mark`);
  // IDNA2008's PVALID set (RFC 5892) is, for what survives the mapping above, the PRECIS IdentifierClass
  // (letters, digits, marks; no symbols, compatibility characters or ignorables), contextual rules included.
  const cps = checkStringClass(label, true, PART);
  for (const cp of cps) {
    // RFC 5892 §2.4 IgnorableBlocks: combining marks for symbols and musical symbols are DISALLOWED.
    if ((cp >= 0x20d0 && cp <= 0x20ff) || (cp >= 0x1d100 && cp <= 0x1d24f)) {
      throw new JidError(`${PART} contains ${describeCodePoint(cp)}, which is not allowed in a domain name`);
    }
  }
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/**
 * Prepares a domainpart (RFC 7622 §3.2): strips one trailing dot, lowercases, maps width forms, NFC,
 * converts A-labels to U-labels and checks IDNA2008 rules (punycode and CONTEXTJ also through
 * url.domainToASCII, the rest here). Returns the U-label form. Throws JidError.
 */
export function prepDomain(input: string): string {
  let s = input;
  // RFC 7622 §3.2: a final label separator is stripped before any other canonicalization.
  // U+3002, U+FF0E and U+FF61 count as separators too (RFC 5895 §2 step 4).
  const last = s.length > 0 ? s.charCodeAt(s.length - 1) : 0;
  if (last === 0x2e || last === 0x3002 || last === 0xff0e || last === 0xff61) s = s.slice(0, -1);
  if (s === '') throw new JidError(`${PART} is empty`);

  const fast = asciiDomain(s);
  if (fast !== null) return fast;

  if (s.startsWith('[')) return ipv6Literal(s);

  // A server sees few distinct domains, and the IDNA path costs microseconds; remember its results.
  const known = idnCache.get(s);
  if (known !== undefined) return known;
  const prepared = idnDomain(s, input);
  if (idnCache.size >= IDN_CACHE_SIZE) idnCache.clear();
  idnCache.set(s, prepared);
  return prepared;
}

const IDN_CACHE_SIZE = 512;
const idnCache = new Map<string, string>();

function idnDomain(s: string, input: string): string {
  const mapped = mapDomainChars(s).replace(/[\u3002\uff0e\uff61]/g, '.');
  // Check before handing to the URL host parser: it would map compatibility characters
  // ('Ⅳ' -> 'iv'), drop ignorables and truncate at '/' where RFC 7622 wants a rejection.
  for (const label of mapped.split('.')) checkLabel(label);

  const asciiSuffixed = domainToASCII(mapped + SUFFIX);
  if (!asciiSuffixed.endsWith(SUFFIX)) {
    throw new JidError(`${PART} '${shown(input)}' is not a valid internationalized domain name (IDNA rules: bidi, joiners or punycode)`);
  }
  const ascii = asciiSuffixed.slice(0, -SUFFIX.length);
  for (const label of ascii.split('.')) {
    if (label.length > MAX_LABEL_OCTETS) throw new JidError(`${PART} has a label longer than ${MAX_LABEL_OCTETS} octets`);
  }
  const unicode = domainToUnicode(asciiSuffixed).slice(0, -SUFFIX.length);
  const labels = unicode.split('.');
  // Decoded A-labels get the same checks as labels that came in as Unicode.
  if (unicode !== mapped) for (const label of labels) checkLabel(label);
  // RFC 5893 §2: in a domain name with a right-to-left label, every label must satisfy the Bidi Rule.
  // url.domainToASCII checks this only in part (it accepts '1\u05d0' and 'b\u05d0'), so it is done here.
  const labelCps = labels.map((label) => Array.from(label, (ch) => ch.codePointAt(0) as number));
  if (labelCps.some(hasRtl)) for (const cps of labelCps) checkBidiRule(cps, PART, true);
  if (utf8Length(unicode) > MAX_OCTETS) throw new JidError(`${PART} is longer than ${MAX_OCTETS} octets`);
  return unicode;
}
