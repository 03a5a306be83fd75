// RFC 5802 §7 grammar pieces shared by the SCRAM server and client.

/** saslname: ',' and '=' are escaped as =2C and =3D (RFC 5802 §5.1 "n"). */
export function encodeSaslname(value: string): string {
  return value.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

/**
 * Inverse of encodeSaslname; null for an '=' not followed by 2C/3D (the RFC's "invalid-encoding"), an empty
 * name, or a NUL (value-safe-char excludes it). ABNF literals are case-insensitive, so =2c is accepted too.
 */
export function decodeSaslname(text: string): string | null {
  if (text.length === 0) return null;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\0') return null;
    if (c !== '=') {
      out += c;
      continue;
    }
    const code = text.slice(i + 1, i + 3).toUpperCase();
    if (code === '2C') out += ',';
    else if (code === '3D') out += '=';
    else return null;
    i += 2;
  }
  return out;
}

/** c-nonce / s-nonce: 1*printable, printable = %x21-2B / %x2D-7E (no ','). */
export function isPrintable(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e || c === 0x2c) return false;
  }
  return true;
}

/** attr-val = ALPHA "=" value, where value excludes ',' (already split on) and NUL. */
export function isAttrVal(part: string): boolean {
  const c = part.charCodeAt(0);
  const alpha = (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
  return alpha && part[1] === '=' && !part.includes('\0');
}

/** cb-name = 1*(ALPHA / DIGIT / "." / "-") (RFC 5802 §7). */
export function isCbName(text: string): boolean {
  return /^[A-Za-z0-9.-]+$/.test(text);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** SCRAM messages are UTF-8 (RFC 5802 §5.1); null if the bytes are not. */
export function decodeUtf8(data: Buffer): string | null {
  try {
    return utf8.decode(data);
  } catch {
    return null;
  }
}
