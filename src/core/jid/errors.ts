/** Thrown for any JID that cannot be parsed or prepared; maps to the `jid-malformed` stanza/stream error (RFC 6120 §8.3.3.8). */
export class JidError extends Error {
  readonly condition = 'jid-malformed' as const;

  constructor(message: string) {
    super(message);
    this.name = 'JidError';
  }
}

/** "U+2163 'Ⅳ'" — names the offending code point in error messages; invisible ones are shown by number only. */
export function describeCodePoint(cp: number): string {
  const hex = 'U+' + cp.toString(16).toUpperCase().padStart(4, '0');
  const printable = cp > 0x20 && cp !== 0x7f && !(cp >= 0x80 && cp <= 0x9f) && !(cp >= 0xd800 && cp <= 0xdfff);
  return printable && !/[\p{Cf}\p{Z}\p{Cn}\p{Co}]/u.test(String.fromCodePoint(cp)) ? `${hex} '${String.fromCodePoint(cp)}'` : hex;
}
