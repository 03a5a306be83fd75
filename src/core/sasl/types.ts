// Types shared by the SASL mechanisms (RFC 4422, RFC 6120 §6) and the stream layer that drives them.

// The credential shapes are the storage interface's (also core), so what is stored is what SASL reads.
import type { HashName, ScramCredential } from '../storage-api.js';
export type { HashName, ScramCredential };

/** RFC 9266 (TLS 1.3) and RFC 5929 §4. tls-unique is not offered: it is undefined for TLS 1.3. */
export type ChannelBindingType = 'tls-exporter' | 'tls-server-end-point';

export interface SaslContext {
  /** Look up a user's credential; null if no such user. username is already SASLprep'd+UsernameCaseMapped by the caller-provided normalizer. */
  getCredential(username: string, hash: HashName): Promise<ScramCredential | null>;
  /** Normalizes the SASL authcid into a localpart; throws or returns null if invalid (then the failure is 'not-authorized'). */
  normalizeUsername(authcid: string): string | null;
  /** Whether the transport is encrypted (PLAIN is only offered/allowed over TLS). */
  secure: boolean;
  /** Channel binding data for the TLS connection, or null if not available (not TLS, or type unsupported). */
  channelBinding(type: ChannelBindingType): Buffer | null;
  /** Channel-binding types the server supports on this connection (for the XEP-0440 advertisement and for the 'y' flag downgrade check). */
  channelBindingTypes: ChannelBindingType[];
}

/** RFC 6120 §6.5 defined conditions. */
export type SaslCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure';

/**
 * What the stream sends next: <challenge/>, <success/> (with additional data, RFC 6120 §6.3.10) or <failure/>.
 * On success, username is the normalized localpart that authenticated; authzid is what the client asked to act
 * as (null if absent) — the caller decides whether to allow it (RFC 6120 §6.3.8, 'invalid-authzid').
 */
export type SaslStep =
  | { kind: 'challenge'; data: Buffer }
  | { kind: 'success'; data: Buffer | null; username: string; authzid: string | null }
  | { kind: 'failure'; condition: SaslCondition; text?: string };

export interface SaslMechanism {
  readonly name: string;
  /** data: the client's response (or initial response); null when <auth/> carried none. Never throws for bad input. */
  step(data: Buffer | null): Promise<SaslStep>;
}

export interface CreateMechanismOptions {
  /** Restricts the mechanisms offered, as for availableMechanisms (also decides what counts as a downgrade). */
  enabled?: string[];
  /** Test hook: produces the server's part of the SCRAM nonce (printable ASCII without ','). */
  nonce?: () => string;
}
