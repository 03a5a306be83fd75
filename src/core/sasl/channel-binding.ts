// Channel binding data for a TLS connection, for SCRAM-*-PLUS.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import type { ChannelBindingType } from './types.js';

/** RFC 9266 §2: 32 bytes from the TLS exporter with this label and no context. */
const EXPORTER_LABEL = 'EXPORTER-Channel-Binding';

/**
 * Channel binding types usable on this socket. tls-exporter needs TLS 1.3: with TLS 1.2 it is only safe with the
 * extended master secret (RFC 9266 §3), which Node does not let us check. XEP-0440 §4 has servers always
 * offer tls-server-end-point.
 */
export function tlsChannelBindingTypes(socket: TLSSocket, role: 'server' | 'client' = 'server'): ChannelBindingType[] {
  const types: ChannelBindingType[] = [];
  if (socket.getProtocol() === 'TLSv1.3') types.push('tls-exporter');
  if (tlsChannelBinding(socket, 'tls-server-end-point', role) !== null) types.push('tls-server-end-point');
  return types;
}

/**
 * The binding data for `type`, or null if the socket cannot provide it. role says whose certificate
 * tls-server-end-point hashes from here: our own as a server, the peer's as a client.
 */
export function tlsChannelBinding(socket: TLSSocket, type: ChannelBindingType, role: 'server' | 'client' = 'server'): Buffer | null {
  if (type === 'tls-exporter') {
    if (socket.getProtocol() !== 'TLSv1.3') return null;
    try {
      return Buffer.from(socket.exportKeyingMaterial(32, EXPORTER_LABEL, Buffer.alloc(0)));
    } catch {
      return null;
    }
  }
  const cert = role === 'server' ? socket.getCertificate() : socket.getPeerCertificate(false);
  const raw = cert !== null && 'raw' in cert && Buffer.isBuffer(cert.raw) ? cert.raw : null;
  return raw === null ? null : serverEndPointBinding(raw);
}

/**
 * RFC 5929 §4.1 tls-server-end-point: the certificate hashed with the hash of its signature algorithm, or
 * SHA-256 when that is MD5 or SHA-1. null for signature algorithms without a single hash (Ed25519, Ed448),
 * which RFC 5929 leaves undefined.
 */
export function serverEndPointBinding(certDer: Buffer): Buffer | null {
  const hash = certificateSignatureHash(certDer);
  return hash === null ? null : createHash(hash).update(certDer).digest();
}

const SIGNATURE_HASHES: Readonly<Record<string, string>> = {
  '1.2.840.113549.1.1.4': 'sha256', // md5WithRSAEncryption, upgraded per RFC 5929 §4.1
  '1.2.840.113549.1.1.5': 'sha256', // sha1WithRSAEncryption, upgraded
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
  '1.2.840.10045.4.1': 'sha256', // ecdsa-with-SHA1, upgraded
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
  '1.2.840.10040.4.3': 'sha256', // dsa-with-sha1, upgraded
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
};

const DIGEST_HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha256', // SHA-1, upgraded
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

const RSASSA_PSS = '1.2.840.113549.1.1.10';

interface Tlv {
  tag: number;
  /** content start and end offsets */
  start: number;
  end: number;
}

/** One DER TLV at offset (X.690 §8.1); null if truncated or using indefinite length, which DER forbids. */
function readTlv(der: Buffer, offset: number, limit: number): Tlv | null {
  if (offset + 2 > limit) return null;
  const tag = der[offset]!;
  let len = der[offset + 1]!;
  let start = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) return null;
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  const end = start + len;
  return end > limit ? null : { tag, start, end };
}

function decodeOid(der: Buffer, tlv: Tlv): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) {
    const b = der[i]!;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) arcs.push(value < 80 ? Math.floor(value / 40) : 2, value < 80 ? value % 40 : value - 80);
      else arcs.push(value);
      value = 0;
    }
  }
  return arcs.join('.');
}

const SEQUENCE = 0x30;
const OID = 0x06;

/** Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm AlgorithmIdentifier, signatureValue } (RFC 5280 §4.1). */
function certificateSignatureHash(der: Buffer): string | null {
  const cert = readTlv(der, 0, der.length);
  if (cert === null || cert.tag !== SEQUENCE) return null;
  const tbs = readTlv(der, cert.start, cert.end);
  if (tbs === null) return null;
  const algId = readTlv(der, tbs.end, cert.end);
  if (algId === null || algId.tag !== SEQUENCE) return null;
  const oidTlv = readTlv(der, algId.start, algId.end);
  if (oidTlv === null || oidTlv.tag !== OID) return null;
  const oid = decodeOid(der, oidTlv);
  if (oid !== RSASSA_PSS) return SIGNATURE_HASHES[oid] ?? null;
  // RFC 4055 §3.1: RSASSA-PSS-params ::= SEQUENCE { hashAlgorithm [0] AlgorithmIdentifier DEFAULT sha1, ... }
  const params = readTlv(der, oidTlv.end, algId.end);
  if (params === null || params.tag !== SEQUENCE) return 'sha256';
  const first = readTlv(der, params.start, params.end);
  if (first === null || first.tag !== 0xa0) return 'sha256';
  const hashAlg = readTlv(der, first.start, first.end);
  const hashOid = hashAlg === null ? null : readTlv(der, hashAlg.start, hashAlg.end);
  if (hashOid === null || hashOid.tag !== OID) return null;
  return DIGEST_HASHES[decodeOid(der, hashOid)] ?? null;
}
