// Public surface of the SASL layer (RFC 4422 as profiled by RFC 6120 §6).
export type {
  ChannelBindingType,
  CreateMechanismOptions,
  HashName,
  SaslCondition,
  SaslContext,
  SaslMechanism,
  SaslStep,
  ScramCredential,
} from './types.js';
export { HASHES, DEFAULT_ITERATIONS, InvalidPasswordError, deriveAllCredentials, deriveScramCredential, verifyPassword } from './credentials.js';
export { availableMechanisms, createMechanism } from './mechanisms.js';
export { AuthThrottle } from './throttle.js';
export { decodeSaslPayload, encodeSaslPayload } from './payload.js';
export { serverEndPointBinding, tlsChannelBinding, tlsChannelBindingTypes } from './channel-binding.js';
export { ScramClient, type ScramClientOptions } from './scram-client.js';
