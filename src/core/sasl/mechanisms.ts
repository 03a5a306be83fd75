// Which mechanisms a connection offers (RFC 6120 §6.4.1) and the factory the stream layer calls on <auth/>.
import { PlainServer } from './plain.js';
import { ScramServer } from './scram.js';
import type { CreateMechanismOptions, HashName, SaslContext, SaslMechanism } from './types.js';

const SCRAM_HASHES: readonly HashName[] = ['SHA-512', 'SHA-256', 'SHA-1'];

/**
 * Mechanisms to advertise, most preferred first. -PLUS variants only when the connection can bind to its TLS
 * channel; PLAIN only over an encrypted transport (RFC 6120 §13.8.3). `enabled` restricts the list.
 */
export function availableMechanisms(ctx: SaslContext, enabled?: string[]): string[] {
  const names: string[] = [];
  if (ctx.channelBindingTypes.length > 0) for (const h of SCRAM_HASHES) names.push(`SCRAM-${h}-PLUS`);
  for (const h of SCRAM_HASHES) names.push(`SCRAM-${h}`);
  if (ctx.secure) names.push('PLAIN');
  return enabled === undefined ? names : names.filter((n) => enabled.includes(n));
}

/**
 * A fresh mechanism for one exchange, or null when `name` is not offered on this connection (the stream then
 * answers <invalid-mechanism/>, RFC 6120 §6.4.4). Pass the same `enabled` list as to availableMechanisms.
 */
export function createMechanism(name: string, ctx: SaslContext, opts: CreateMechanismOptions = {}): SaslMechanism | null {
  const offered = availableMechanisms(ctx, opts.enabled);
  if (!offered.includes(name)) return null;
  if (name === 'PLAIN') return new PlainServer(ctx);
  const plus = name.endsWith('-PLUS');
  const hash = (plus ? name.slice(6, -5) : name.slice(6)) as HashName;
  return new ScramServer({
    hash,
    plus,
    ctx,
    plusOffered: offered.some((n) => n.endsWith('-PLUS')),
    ...(opts.nonce !== undefined && { nonce: opts.nonce }),
  });
}
