// Debian packages for the peer servers: installed when missing, and their system services kept out of the way
// (the harness runs its own processes with its own config and data folders).
import { existsSync, readFileSync } from 'node:fs';
import { alive, run } from '../lib/proc.js';

let updated = false;

/** Installs the packages whose marker file is missing; runs apt-get update once if the first try fails. */
export function ensurePackages(packages: { name: string; marker: string }[], log: (line: string) => void): void {
  const missing = packages.filter((p) => !existsSync(p.marker)).map((p) => p.name);
  if (!missing.length) return;
  log(`installing ${missing.join(' ')} (apt-get)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = run('apt-get', ['install', '-y', '-q', ...missing], { env, timeoutMs: 900_000 });
  if (r.status !== 0 && !updated) {
    updated = true;
    run('apt-get', ['update', '-q'], { env, timeoutMs: 600_000 });
    r = run('apt-get', ['install', '-y', '-q', ...missing], { env, timeoutMs: 900_000 });
  }
  if (r.status !== 0) throw new Error(`apt-get install ${missing.join(' ')} failed:\n${r.out.slice(-2000)}`);
}

/** Stops and disables a package's system service if it is running (best effort; the container may lack systemd). */
export function stopSystemService(name: string, pidFiles: string[], log: (line: string) => void): void {
  const running = pidFiles.some((file) => {
    try {
      return alive(Number(readFileSync(file, 'utf8').trim()));
    } catch {
      return false;
    }
  });
  if (!running) return;
  log(`stopping the system ${name} service (the harness runs its own)`);
  if (existsSync('/bin/systemctl') || existsSync('/usr/bin/systemctl')) {
    run('systemctl', ['stop', name], { timeoutMs: 60_000 });
    run('systemctl', ['disable', name], { timeoutMs: 60_000 });
  }
  run('service', [name, 'stop'], { timeoutMs: 60_000 });
  run('update-rc.d', [name, 'disable'], { timeoutMs: 60_000 });
}

export function packageVersion(name: string): string {
  const r = run('dpkg-query', ['-W', '-f=${Version}', name]);
  return r.status === 0 ? r.out.trim() : 'unknown';
}

/** A self-signed certificate for the domain and its pubsub subdomain (openssl), as cert and key PEM files. */
export function selfSigned(domain: string, certFile: string, keyFile: string): void {
  const r = run('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
    '-keyout', keyFile, '-out', certFile,
    '-subj', `/CN=${domain}`,
    '-addext', `subjectAltName=DNS:${domain},DNS:*.${domain}`,
  ]);
  if (r.status !== 0) throw new Error(`openssl could not make a certificate: ${r.out}`);
}
