// SCRAM primitives (RFC 5802 §2.2, §3) over node:crypto, shared by the server mechanism, the client and
// credential derivation.
import { createHash, createHmac, pbkdf2, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import saslprep from '@mongodb-js/saslprep';
import type { HashName } from './types.js';

const pbkdf2Async = promisify(pbkdf2);

export interface HashInfo {
  /** node:crypto digest name */
  digest: 'sha1' | 'sha256' | 'sha512';
  /** output length in bytes; also the SaltedPassword length (RFC 5802 §2.2 Hi()) */
  size: number;
}

export const HASH_INFO: Readonly<Record<HashName, HashInfo>> = {
  'SHA-1': { digest: 'sha1', size: 20 },
  'SHA-256': { digest: 'sha256', size: 32 },
  'SHA-512': { digest: 'sha512', size: 64 },
};

export function hmac(hash: HashName, key: Buffer, data: Buffer | string): Buffer {
  return createHmac(HASH_INFO[hash].digest, key).update(data).digest();
}

export function digest(hash: HashName, data: Buffer): Buffer {
  return createHash(HASH_INFO[hash].digest).update(data).digest();
}

/** RFC 5802 §2.2 Hi(str, salt, i) is PBKDF2 with HMAC as the PRF and dkLen = the hash output length. */
export function saltedPassword(hash: HashName, preppedPassword: string, salt: Buffer, iterations: number): Promise<Buffer> {
  return pbkdf2Async(Buffer.from(preppedPassword, 'utf8'), salt, iterations, HASH_INFO[hash].size, HASH_INFO[hash].digest);
}

export interface ScramKeys {
  clientKey: Buffer;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** RFC 5802 §3: ClientKey = HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey), ServerKey = HMAC(SaltedPassword, "Server Key"). */
export function scramKeys(hash: HashName, salted: Buffer): ScramKeys {
  const clientKey = hmac(hash, salted, 'Client Key');
  return { clientKey, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

export function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** Constant-time equality that tolerates different lengths (which are not secret). */
export function safeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * RFC 4013 SASLprep. Stored strings (a password being set) reject unassigned code points; queries (a password
 * presented at login) allow them (RFC 3454 §7). Returns null for prohibited input or an empty result.
 */
export function prepPassword(password: string, rules: 'stored' | 'query'): string | null {
  let prepped: string;
  try {
    prepped = saslprep(password, { allowUnassigned: rules === 'query' });
  } catch {
    return null;
  }
  return prepped.length > 0 ? prepped : null;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (RFC 4648 §4, padded, no whitespace); Buffer.from(s, 'base64') silently skips garbage. */
export function decodeBase64(text: string): Buffer | null {
  return BASE64_RE.test(text) ? Buffer.from(text, 'base64') : null;
}
