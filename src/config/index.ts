// Loads quire.yaml: YAML -> schema check with line-precise messages -> QuireConfig with absolute paths.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { z } from 'zod';
import { ConfigError } from './errors.js';
import { issuesToConfigError, makeErrorMap } from './issues.js';
import {
  configFileSchema,
  STANDARD_MODULES,
  type LogFormat,
  type LogLevel,
  type SaslMechanismName,
} from './schema.js';
import { nullLocator, parseYaml, type KeyPath, type Locator } from './yaml-source.js';

export { ConfigError } from './errors.js';
export { DEFAULT_CONFIG_YAML } from './default-config.js';
export { LOG_FORMATS, LOG_LEVELS, SASL_MECHANISMS, STANDARD_MODULES } from './schema.js';
export type { LogFormat, LogLevel, SaslMechanismName } from './schema.js';
export type { KeyPath } from './yaml-source.js';

export type StorageConfig =
  | { backend: 'sqlite'; /** absolute */ path: string }
  | { backend: 'memory' }
  | { backend: 'postgres'; url: string };

export interface ListenerConfig {
  enabled: boolean;
  host: string;
  port: number;
}

export interface QuireConfig {
  /** Lowercase DNS names (or localhost) this server serves. */
  hosts: string[];
  /** Absolute. */
  data_dir: string;
  /** Processes that carry client connections for the core (0: none, everything in one process). */
  network_workers: number;
  storage: StorageConfig;
  listeners: {
    /** RFC 6120 §5: STARTTLS on a plain TCP connection. */
    c2s: ListenerConfig;
    /** XEP-0368: TLS from the first byte. */
    c2s_tls: ListenerConfig;
    /** The web (Storage API, blogs), plain and with TLS; opened only when a module serves HTTP. */
    http: ListenerConfig;
    https: ListenerConfig;
  };
  http: {
    /** Where people reach the web listeners (for absolute links), or null to take it from each request. */
    public_url: string | null;
    trust_proxy: boolean;
    /** Bytes. */
    max_body_size: number;
  };
  tls: {
    /** Absolute paths, both set or both null; null means: generate a self-signed certificate in data_dir. */
    cert: string | null;
    key: string | null;
    /** Require TLS before SASL authentication. */
    required: boolean;
  };
  auth: {
    /** Allow-list of SASL mechanisms; null means every mechanism the server implements. */
    mechanisms: SaslMechanismName[] | null;
    max_failures: number;
    /** Seconds. */
    failure_window: number;
  };
  limits: {
    /** Bytes. */
    max_stanza_size: number;
    max_depth: number;
    max_attributes: number;
    /** Seconds to finish stream negotiation. */
    connection_timeout: number;
    max_sessions_per_account: number;
    /** Per-connection inbound token bucket. */
    rate: { bytes_per_second: number; burst: number };
  };
  /** Enabled modules in the order written: name -> options (unvalidated; see validateModuleOptions). */
  modules: Record<string, Record<string, unknown>>;
  log: { level: LogLevel; format: LogFormat };
  /** Absolute path of the file the config was read from, or the name given to loadConfigText, or '(default)'. */
  source: string;
}

export interface LoadedConfig {
  config: QuireConfig;
  /** file:line:col for a key path like ['modules','ping','interval'], or the file name when unknown. */
  locate(path: (string | number)[]): string;
}

interface LoadState {
  locator: Locator;
  modulesForm: 'list' | 'map' | 'other';
}

// Kept out of LoadedConfig so that its public shape stays the two members above.
const loadState = new WeakMap<LoadedConfig, LoadState>();

function expandPath(p: string, base: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(base, p);
}

function validate(data: unknown, baseDir: string, locator: Locator, source: string): LoadedConfig {
  const knownKeys = new Map<string, string[]>();
  const result = configFileSchema.safeParse(data, { error: makeErrorMap(knownKeys), reportInput: true });
  if (!result.success) throw issuesToConfigError(result.error.issues, locator, knownKeys);
  const file = result.data;

  const base = resolve(baseDir);
  const dataDir = expandPath(file.data_dir, base);
  let storage: StorageConfig;
  switch (file.storage.backend) {
    case 'sqlite':
      storage = { backend: 'sqlite', path: expandPath(file.storage.path ?? 'quire.sqlite', dataDir) };
      break;
    case 'memory':
      storage = { backend: 'memory' };
      break;
    case 'postgres':
      // The schema has already required url for postgres.
      storage = { backend: 'postgres', url: file.storage.url ?? '' };
      break;
  }

  const config: QuireConfig = {
    hosts: file.hosts,
    data_dir: dataDir,
    network_workers: file.network_workers,
    storage,
    listeners: { c2s: { ...file.listeners.c2s }, c2s_tls: { ...file.listeners.c2s_tls }, http: { ...file.listeners.http }, https: { ...file.listeners.https } },
    http: { public_url: file.http.public_url ?? null, trust_proxy: file.http.trust_proxy, max_body_size: file.http.max_body_size },
    tls: {
      cert: file.tls.cert !== undefined ? expandPath(file.tls.cert, base) : null,
      key: file.tls.key !== undefined ? expandPath(file.tls.key, base) : null,
      required: file.tls.required,
    },
    auth: {
      mechanisms: file.auth.mechanisms ?? null,
      max_failures: file.auth.max_failures,
      failure_window: file.auth.failure_window,
    },
    limits: { ...file.limits, rate: { ...file.limits.rate } },
    modules: file.modules,
    log: {
      level: file.log.level,
      // Humans read a terminal; anything else (systemd, docker, a file) is better served by one JSON object a line.
      format: file.log.format ?? (process.stdout.isTTY === true ? 'pretty' : 'json'),
    },
    source,
  };

  const rawModules = typeof data === 'object' && data !== null ? (data as Record<string, unknown>)['modules'] : undefined;
  const loaded: LoadedConfig = { config, locate: (path) => locator.locate(path) };
  loadState.set(loaded, {
    locator,
    modulesForm: Array.isArray(rawModules) ? 'list' : typeof rawModules === 'object' && rawModules !== null ? 'map' : 'other',
  });
  return loaded;
}

/** Parse and validate config text. `sourceName` names it in messages; relative paths resolve against `baseDir`. */
export function loadConfigText(text: string, sourceName: string, baseDir: string): LoadedConfig {
  const { data, locator } = parseYaml(text, sourceName);
  return validate(data, baseDir, locator, sourceName);
}

/** Read and validate a config file; relative paths in it resolve against the file's folder. */
export function loadConfigFile(path: string): LoadedConfig {
  const absolute = resolve(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new ConfigError(
        `${path}: config file not found (looked for ${absolute}). Fix: pass the right file with \`quire start --config PATH\`, ` +
          `create one with \`quire init\`, or run \`quire start\` without --config to use the built-in localhost config.`,
      );
    }
    if (code === 'EISDIR') {
      throw new ConfigError(`${path}: is a folder, not a config file. Fix: pass the YAML file itself, e.g. ${join(path, 'quire.yaml')}.`);
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ConfigError(`${path}: permission denied reading the config file. Fix: make it readable by the user running quire.`);
    }
    throw new ConfigError(`${path}: cannot read the config file: ${(err as Error).message}.`);
  }
  // An editor's byte-order mark is not YAML content.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const { data, locator } = parseYaml(text, path);
  return validate(data, dirname(absolute), locator, absolute);
}

/** The modules the built-in config enables; register (XEP-0077) only here, so `npm start` gives a usable server. */
const DEFAULT_MODULES = [...STANDARD_MODULES, 'register'];

/** The built-in localhost config used when no file is given. */
export function defaultConfig(baseDir: string): LoadedConfig {
  return validate({ hosts: ['localhost'], modules: DEFAULT_MODULES }, baseDir, nullLocator('(default)'), '(default)');
}

/**
 * Validate one module's options (config.modules[moduleName], {} when absent) with the module's own zod schema.
 * Failures become a ConfigError whose lines point at the option in the file, e.g.
 * `quire.yaml:14:17: modules.ping.interval: expected a number, got "often". Fix: write a number.`
 */
export function validateModuleOptions<T>(loaded: LoadedConfig, moduleName: string, schema: z.ZodType<T>): T {
  const modules = loaded.config.modules;
  const options = Object.hasOwn(modules, moduleName) ? modules[moduleName] : {};
  const knownKeys = new Map<string, string[]>();
  const result = schema.safeParse(options, { error: makeErrorMap(knownKeys), reportInput: true });
  if (result.success) return result.data;
  const state = loadState.get(loaded);
  const locator: Locator = state?.locator ?? {
    sourceName: loaded.config.source,
    position: () => undefined,
    locate: (path: KeyPath) => loaded.locate([...path]),
  };
  const prefix = ['modules', moduleName];
  // A module written in the list form has nowhere to put options; say how to write the map form.
  const extraFix =
    state?.modulesForm === 'list'
      ? () =>
          `(Options go in the map form of modules: write \`${moduleName}:\` under modules, with the options indented below it.)`
      : undefined;
  throw issuesToConfigError(result.error.issues, locator, knownKeys, prefix, extraFix);
}
