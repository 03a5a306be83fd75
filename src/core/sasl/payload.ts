// The XML text of <auth/>, <challenge/>, <response/> and <success/> (RFC 6120 §6.4.2, §6.4.6).
import { decodeBase64 } from './crypto.js';

/**
 * Decodes the character data of a SASL element: '' means no data (null), '=' means empty data, anything else
 * must be strict base64. 'invalid' means the stream answers <incorrect-encoding/> (RFC 6120 §6.5.2).
 */
export function decodeSaslPayload(text: string): Buffer | null | 'invalid' {
  // RFC 6120 §6.4.2 requires RFC 4648 §4 base64; whitespace or other characters outside the alphabet are rejected
  // (RFC 4648 §3.3) rather than skipped as Buffer.from(s, 'base64') would.
  if (text === '') return null;
  if (text === '=') return Buffer.alloc(0);
  return decodeBase64(text) ?? 'invalid';
}

/** Inverse of decodeSaslPayload: null becomes no text, empty data becomes '='. */
export function encodeSaslPayload(data: Buffer | null): string {
  if (data === null) return '';
  return data.length === 0 ? '=' : data.toString('base64');
}
