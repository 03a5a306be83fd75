// TLS certificates: from the config, or a self-signed one generated once for the served hosts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';

export interface CertificatePair {
  key: string;
  cert: string;
  /** Where they came from, for logs and `quire check`. */
  source: string;
  selfSigned: boolean;
}

export class CertificateError extends Error {}

/** Reads and checks a configured certificate and key; throws CertificateError with a readable reason. */
export function readCertificate(certPath: string, keyPath: string): CertificatePair {
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, 'utf8');
  } catch (err) {
    throw new CertificateError(`cannot read the certificate ${certPath}: ${(err as Error).message}`);
  }
  try {
    key = readFileSync(keyPath, 'utf8');
  } catch (err) {
    throw new CertificateError(`cannot read the private key ${keyPath}: ${(err as Error).message}`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch (err) {
    throw new CertificateError(`${certPath} is not a PEM certificate: ${(err as Error).message}`);
  }
  if (new Date(x509.validTo).getTime() < Date.now()) throw new CertificateError(`the certificate ${certPath} expired on ${x509.validTo}`);
  return { key, cert, source: certPath, selfSigned: x509.issuer === x509.subject };
}

/** The hosts a certificate does not name (subjectAltName DNS entries or CN), for warnings. */
export function hostsNotCovered(certPem: string, hosts: string[]): string[] {
  const x509 = new X509Certificate(certPem);
  return hosts.filter((host) => x509.checkHost(host) === undefined);
}

/** A self-signed certificate for the hosts, kept in the data folder so clients can pin it across restarts. */
export async function selfSignedCertificate(dataDir: string, hosts: string[]): Promise<CertificatePair> {
  const dir = join(dataDir, 'certs');
  const certPath = join(dir, 'self-signed.crt');
  const keyPath = join(dir, 'self-signed.key');
  if (existsSync(certPath) && existsSync(keyPath)) {
    const existing = readFileSync(certPath, 'utf8');
    const x509 = new X509Certificate(existing);
    const fresh = new Date(x509.validTo).getTime() > Date.now() + 7 * 86400_000;
    if (fresh && hostsNotCovered(existing, hosts).length === 0) return { key: readFileSync(keyPath, 'utf8'), cert: existing, source: certPath, selfSigned: true };
  }
  // Loaded only when a certificate must be made: the X.509 libraries behind it are large.
  const { generate } = await import('selfsigned');
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: hosts[0] }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + 825 * 86400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: hosts.flatMap((host) => [{ type: 2 as const, value: host }, { type: 2 as const, value: `*.${host}` }]) },
    ],
  });
  mkdirSync(dir, { recursive: true });
  writeFileSync(keyPath, pems.private, { mode: 0o600 });
  writeFileSync(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert, source: certPath, selfSigned: true };
}
