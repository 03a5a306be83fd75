// Credential derivation and password checks. Passwords are never stored: only the SCRAM StoredKey/ServerKey per
// hash function, with salt and iteration count (RFC 5802 §3), which also serve PLAIN.
import { randomBytes } from 'node:crypto';
import { decodeBase64, prepPassword, safeEqual, saltedPassword, scramKeys } from './crypto.js';
import type { HashName, ScramCredential } from './types.js';

/** All supported hash functions, strongest first. */
export const HASHES: HashName[] = ['SHA-512', 'SHA-256', 'SHA-1'];

/** RFC 7677 §4 asks for at least 4096 iterations. */
export const DEFAULT_ITERATIONS = 4096;

/** Thrown by deriveScramCredential for a password SASLprep rejects (prohibited characters, or empty). */
export class InvalidPasswordError extends Error {
  readonly code = 'invalid-password';
  constructor() {
    super('password is empty or contains characters SASLprep prohibits (RFC 4013 §2.3)');
    this.name = 'InvalidPasswordError';
  }
}

export async function deriveScramCredential(
  password: string,
  hash: HashName,
  opts: { salt?: Buffer; iterations?: number } = {},
): Promise<ScramCredential> {
  // RFC 5802 §2.2 Normalize(): SASLprep with the rules for stored strings, since this value is kept.
  const prepped = prepPassword(password, 'stored');
  if (prepped === null) throw new InvalidPasswordError();
  const iterations = opts.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isSafeInteger(iterations) || iterations < 1) throw new RangeError(`invalid iteration count ${iterations}`);
  const salt = opts.salt ?? randomBytes(16);
  const { storedKey, serverKey } = scramKeys(hash, await saltedPassword(hash, prepped, salt, iterations));
  return {
    salt: salt.toString('base64'),
    iterations,
    storedKey: storedKey.toString('base64'),
    serverKey: serverKey.toString('base64'),
  };
}

/** One credential per hash, each with its own salt, so a client can use any SCRAM variant. */
export async function deriveAllCredentials(password: string): Promise<Record<HashName, ScramCredential>> {
  const [sha512, sha256, sha1] = await Promise.all(HASHES.map((h) => deriveScramCredential(password, h)));
  return { 'SHA-512': sha512!, 'SHA-256': sha256!, 'SHA-1': sha1! };
}

/** Checks a cleartext password (PLAIN, RFC 4616) against a stored credential. Never throws for bad input. */
export async function verifyPassword(password: string, cred: ScramCredential, hash: HashName): Promise<boolean> {
  const prepped = prepPassword(password, 'query');
  if (prepped === null) return false;
  return verifyPreppedPassword(prepped, cred, hash);
}

export async function verifyPreppedPassword(prepped: string, cred: ScramCredential, hash: HashName): Promise<boolean> {
  const salt = decodeBase64(cred.salt);
  const stored = decodeBase64(cred.storedKey);
  if (salt === null || stored === null || !Number.isSafeInteger(cred.iterations) || cred.iterations < 1) return false;
  const { storedKey } = scramKeys(hash, await saltedPassword(hash, prepped, salt, cred.iterations));
  return safeEqual(storedKey, stored);
}
