// The composition root: config -> storage -> server and modules -> certificates -> listeners.
import type net from 'node:net';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { Writable } from 'node:stream';
import { ConfigError, validateModuleOptions, type LoadedConfig } from './config/index.js';
import { createLogger } from './config/logging.js';
import { ConfigurationError, Server } from './core/server.js';
import type { Logger } from './core/logger.js';
import type { z } from 'zod';
import { availableModules } from './modules/index.js';
import { createBackend } from './storage/index.js';
import type { StorageBackend } from './core/storage-api.js';
import { readCertificate, selfSignedCertificate, hostsNotCovered, type CertificatePair } from './transports/certs.js';
import { listenTcp } from './transports/tcp.js';
import { NetworkWorkers } from './transports/network-workers.js';
import { attachHttp, HttpService } from './http/service.js';
import { QUIRE_VERSION } from './version.js';

export interface RunningServer {
  server: Server;
  log: Logger;
  certificate: CertificatePair;
  /** Bound ports by listener name (c2s, c2s_tls); useful when the config asked for port 0. */
  ports: Record<string, number>;
  stop(): Promise<void>;
}

/** Opens the configured storage backend (used by the server and by CLI commands). */
export async function openStorage(loaded: LoadedConfig, log?: Logger): Promise<StorageBackend> {
  const storage = loaded.config.storage;
  const backend = createBackend(storage, { log: log?.child({ component: 'storage' }) });
  await backend.open();
  return backend;
}

/** Validates every enabled module's options; unknown module names are config errors that name the line. */
export function enabledModules(loaded: LoadedConfig): Map<string, unknown> {
  const enabled = new Map<string, unknown>();
  for (const name of Object.keys(loaded.config.modules)) {
    const definition = availableModules.get(name);
    if (!definition) {
      const known = [...availableModules.keys()].sort().join(', ');
      throw new ConfigError(`${loaded.locate(['modules', name])}: modules: unknown module "${name}". Fix: remove it, or use one of: ${known}.`);
    }
    enabled.set(name, definition.options ? validateModuleOptions(loaded, name, definition.options as unknown as z.ZodType<unknown>) : {});
  }
  for (const [name] of enabled) {
    for (const dependency of availableModules.get(name)!.dependencies ?? []) {
      if (!enabled.has(dependency)) throw new ConfigError(`${loaded.locate(['modules', name])}: modules: "${name}" needs "${dependency}". Fix: add ${dependency} to modules.`);
    }
  }
  return enabled;
}

export async function loadCertificate(loaded: LoadedConfig, log: Logger): Promise<CertificatePair> {
  const { config } = loaded;
  if (config.tls.cert && config.tls.key) {
    const pair = readCertificate(config.tls.cert, config.tls.key);
    const missing = hostsNotCovered(pair.cert, config.hosts);
    if (missing.length) log.warn({ cert: pair.source, hosts: missing }, 'the certificate does not name these hosts; clients will refuse it');
    return pair;
  }
  const pair = await selfSignedCertificate(config.data_dir, config.hosts);
  log.warn({ cert: pair.source }, 'using a self-signed certificate: clients must accept it once; set tls.cert and tls.key for a real one');
  return pair;
}

export interface StartOptions {
  logDestination?: Writable;
  /** Wraps the opened storage before the server uses it (tests count its operations to know when work is done). */
  wrapStorage?: (storage: StorageBackend) => StorageBackend;
}

export async function startServer(loaded: LoadedConfig, options: StartOptions = {}): Promise<RunningServer> {
  const { config } = loaded;
  const log: Logger = createLogger(config.log, { destination: options.logDestination });
  const enabled = enabledModules(loaded);
  const opened = await openStorage(loaded, log);
  const storage = options.wrapStorage ? options.wrapStorage(opened) : opened;
  const limits = config.limits;
  const server = new Server(
    {
      hosts: config.hosts,
      limits: {
        maxStanzaBytes: limits.max_stanza_size,
        maxDepth: limits.max_depth,
        maxAttributes: limits.max_attributes,
        connectionTimeout: limits.connection_timeout,
        maxSessionsPerAccount: limits.max_sessions_per_account,
        bytesPerSecond: limits.rate.bytes_per_second,
        burstBytes: limits.rate.burst,
        maxOutboundBuffer: Math.max(4 * limits.max_stanza_size, 4 * 1024 * 1024),
      },
      tlsRequired: config.tls.required,
      saslMechanisms: config.auth.mechanisms ?? undefined,
      authThrottle: { maxFailures: config.auth.max_failures, windowMs: config.auth.failure_window * 1000 },
      version: QUIRE_VERSION,
    },
    storage,
    log,
  );
  const http = new HttpService(server, { publicUrl: config.http.public_url ?? undefined, trustProxy: config.http.trust_proxy, maxBodySize: config.http.max_body_size });
  attachHttp(server, http);
  try {
    await server.loadModules(availableModules, enabled);
  } catch (err) {
    await storage.close();
    if (err instanceof ConfigurationError) throw new ConfigError(`${config.source}: ${err.message}`);
    throw err;
  }
  const certificate = await loadCertificate(loaded, log);
  const secureContext = tls.createSecureContext({ key: certificate.key, cert: certificate.cert, minVersion: 'TLSv1.2' });

  const listeners: net.Server[] = [];
  const ports: Record<string, number> = {};
  let workers: NetworkWorkers | null = null;
  const specs = [
    { name: 'c2s', mode: 'starttls' as const, listener: config.listeners.c2s },
    { name: 'c2s_tls', mode: 'direct-tls' as const, listener: config.listeners.c2s_tls },
  ];
  try {
    const enabledSpecs = specs.filter((spec) => spec.listener.enabled);
    if (config.network_workers > 0) {
      // The client listeners open in the network worker processes, which carry the connections.
      const { bytesPerSecond, burstBytes, maxOutboundBuffer, connectionTimeout } = server.options.limits;
      workers = new NetworkWorkers(server, {
        count: config.network_workers,
        settings: { limits: { bytesPerSecond, burstBytes, maxOutboundBuffer, connectionTimeout }, certificate: { cert: certificate.cert, key: certificate.key }, logLevel: config.log.level },
      });
      Object.assign(ports, await workers.start(enabledSpecs.map((spec) => ({ name: spec.name, host: spec.listener.host, port: spec.listener.port, mode: spec.mode }))));
    } else {
      for (const spec of enabledSpecs) {
        const listener = await listenTcp(server, { host: spec.listener.host, port: spec.listener.port, mode: spec.mode, secureContext, certificate });
        listeners.push(listener);
        ports[spec.name] = (listener.address() as AddressInfo).port;
      }
    }
    for (const spec of enabledSpecs) log.info({ listener: spec.name, address: spec.listener.host, port: ports[spec.name], workers: config.network_workers || undefined }, 'listening');
    // The web listeners open only when an enabled module serves HTTP.
    if (http.hasRoutes) {
      const web = [
        { name: 'http', listener: config.listeners.http, tls: null },
        { name: 'https', listener: config.listeners.https, tls: { cert: certificate.cert, key: certificate.key } },
      ].filter((w) => w.listener.enabled);
      Object.assign(ports, await http.listen(web.map((w) => ({ name: w.name, host: w.listener.host, port: w.listener.port, tls: w.tls }))));
      for (const w of web) log.info({ listener: w.name, address: w.listener.host, port: ports[w.name] }, 'listening');
    }
  } catch (err) {
    for (const listener of listeners) listener.close();
    await http.close();
    await workers?.stop();
    await storage.close();
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') throw new ConfigError(`${config.source}: port ${(e as { port?: number }).port ?? ''} is already in use. Fix: stop the other server, or choose another port under listeners.`);
    if (e.code === 'EACCES') throw new ConfigError(`${config.source}: not allowed to listen on port ${(e as { port?: number }).port ?? ''}. Fix: use a port above 1023, or grant the capability to bind low ports.`);
    throw err;
  }

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      log.info('shutting down');
      for (const listener of listeners) listener.close();
      workers?.stopListening();
      await http.close();
      await server.shutdown();
      await workers?.stop();
      log.info('stopped');
    })();
    return stopping;
  };
  return { server, log, certificate, ports, stop };
}
