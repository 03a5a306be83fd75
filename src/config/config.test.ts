import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import {
  ConfigError,
  DEFAULT_CONFIG_YAML,
  STANDARD_MODULES,
  defaultConfig,
  loadConfigFile,
  loadConfigText,
  validateModuleOptions,
  type LoadedConfig,
} from './index.js';
import { createLogger } from './logging.js';
import { editDistance, suggest } from './suggest.js';

/** The ConfigError message thrown by `fn`, failing the test when it does not throw one. */
function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a ConfigError');
}

function load(text: string): LoadedConfig {
  return loadConfigText(text, 'quire.yaml', '/etc/quire');
}

function withTempDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'quire-config-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the built-in default config serves localhost with register enabled', () => {
  const { config, locate } = defaultConfig('/srv/quire');
  assert.deepEqual(config.hosts, ['localhost']);
  assert.equal(config.data_dir, '/srv/quire/data');
  assert.deepEqual(Object.keys(config.modules), [...STANDARD_MODULES, 'register']);
  assert.deepEqual(config.storage, { backend: 'sqlite', path: '/srv/quire/data/quire.sqlite' });
  assert.deepEqual(config.listeners.c2s, { enabled: true, host: '::', port: 5222 });
  assert.deepEqual(config.listeners.c2s_tls, { enabled: true, host: '::', port: 5223 });
  assert.deepEqual(config.tls, { cert: null, key: null, required: true });
  assert.equal(config.auth.mechanisms, null);
  assert.equal(config.limits.max_stanza_size, 262144);
  assert.equal(config.log.level, 'info');
  assert.ok(config.log.format === 'pretty' || config.log.format === 'json');
  assert.equal(config.source, '(default)');
  assert.equal(locate(['hosts']), '(default)');
});

test('DEFAULT_CONFIG_YAML loads and matches the documented defaults, without register', () => {
  const { config } = loadConfigText(DEFAULT_CONFIG_YAML, 'quire.yaml', '/etc/quire');
  const builtIn = defaultConfig('/etc/quire').config;
  assert.deepEqual(Object.keys(config.modules), [...STANDARD_MODULES]);
  assert.deepEqual(
    { ...config, modules: {}, source: '' },
    { ...builtIn, modules: {}, source: '' },
    'every value written in the example is the default',
  );
});

test('a minimal file gets every default, including the standard modules', () => {
  const { config } = load('hosts: [example.org]\n');
  assert.deepEqual(Object.keys(config.modules), [...STANDARD_MODULES]);
  assert.equal(config.limits.rate.burst, 262144);
  assert.equal(config.auth.failure_window, 60);
  // An empty section means "all defaults", like a missing one.
  assert.equal(load('hosts: [a.example]\nlisteners:\n  c2s:\n').config.listeners.c2s.port, 5222);
});

test('modules as a list and as a map give the same shape, in the order written', () => {
  const list = load('hosts: [localhost]\nmodules: [ping, disco, version]\n').config.modules;
  assert.deepEqual(list, { ping: {}, disco: {}, version: {} });
  assert.deepEqual(Object.keys(list), ['ping', 'disco', 'version']);

  const map = load(
    [
      'hosts: [localhost]',
      'modules:',
      '  ping:',
      '    interval: 30',
      '  disco:',
      '  version: true',
      '  register: false',
      '  time: {}',
    ].join('\n'),
  ).config.modules;
  assert.deepEqual(Object.keys(map), ['ping', 'disco', 'version', 'time']);
  assert.deepEqual(map['ping'], { interval: 30 });
  assert.deepEqual(map['disco'], {});
  assert.equal(Object.hasOwn(map, 'register'), false, 'false disables a module');

  assert.deepEqual(load('hosts: [localhost]\nmodules: []\n').config.modules, {});
  assert.match(
    configError(() => load('hosts: [localhost]\nmodules: [ping, ping]\n')),
    /^quire\.yaml:2:17: modules\[1\]: module ping is listed twice\. Fix: remove/,
  );
  assert.match(
    configError(() => load('hosts: [localhost]\nmodules:\n  ping: 30\n')),
    /^quire\.yaml:3:9: modules\.ping: expected the options of module ping .* got 30\. Fix:/,
  );
});

test('a bad port names the line, the column, the key path and a fix', () => {
  const text = [
    '# Quire',
    'hosts:',
    '  - localhost',
    '',
    'listeners:',
    '  c2s:',
    '    port: 52x2',
  ].join('\n');
  assert.equal(
    configError(() => load(text)),
    'quire.yaml:7:11: listeners.c2s.port: expected a port number from 0 to 65535, got "52x2". Fix: write a number such as 5222.',
  );
  assert.equal(
    configError(() => load("hosts: [localhost]\nlisteners:\n  c2s_tls: { enabled: true, host: '::', port: 70000 }\n")),
    'quire.yaml:3:47: listeners.c2s_tls.port: expected a port number from 0 to 65535, got 70000. Fix: write a number such as 5223.',
  );
  assert.match(
    configError(() => load('hosts: [localhost]\nlisteners:\n  c2s:\n    port: "5222"\n')),
    /^quire\.yaml:4:11: listeners\.c2s\.port: .* got "5222"\. Fix: remove the quotes and write 5222\.$/,
  );
});

test('several problems are reported together, in file order', () => {
  const message = configError(() =>
    load('hosts: [localhost]\nlog:\n  level: verbose\nlimits:\n  max_depth: 0\n'),
  );
  const lines = message.split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /^quire\.yaml:3:10: log\.level: expected one of trace, debug, info, warn, error, fatal, got "verbose"/);
  assert.match(lines[1]!, /^quire\.yaml:5:14: limits\.max_depth: expected .* from 4 to 1000, got 0\. Fix:/);
});

test('an unknown key is an error with a "did you mean" from the known keys', () => {
  assert.equal(
    configError(() => load('hosts: [localhost]\nlisteners:\n  c2s:\n    prot: 5222\n')),
    'quire.yaml:4:5: listeners.c2s.prot: unknown key. Did you mean "port"? Fix: rename it to port, or remove it. ' +
      'Known keys here: enabled, host, port.',
  );
  assert.match(configError(() => load('hosts: [localhost]\ndataDir: ./x\n')), /^quire\.yaml:2:1: dataDir: unknown key\. Did you mean "data_dir"\?/);
  assert.match(configError(() => load('hosts: [localhost]\nlogging: {}\n')), /logging: unknown key\. Did you mean "log"\?/);
  const far = configError(() => load('hosts: [localhost]\nweather: sunny\n'));
  assert.match(far, /^quire\.yaml:2:1: weather: unknown key\. Fix: remove it, or check the spelling\. Known keys here: hosts, /);
  assert.doesNotMatch(far, /Did you mean/);
  // Values from a fixed set get suggestions too.
  assert.match(
    configError(() => load('hosts: [localhost]\nauth:\n  mechanisms: [SCRAM-SHA-256, scram-sha-1-plus]\n')),
    /^quire\.yaml:3:31: auth\.mechanisms\[1\]: expected one of .* got "scram-sha-1-plus"\. Fix: did you mean SCRAM-SHA-1-PLUS\?$/,
  );
});

test('a YAML syntax error names its line and shows it', () => {
  const message = configError(() => load('hosts: [localhost]\nlisteners:\n  c2s:\n    port: 5222\n  c2s_tls:\n port: 1\n'));
  assert.match(message, /^quire\.yaml:6:2: YAML syntax error: .*\. Fix: indent /);
  assert.match(message, /\n  6 \|  port: 1\n    \|  \^$/);

  assert.match(configError(() => load('hosts: [localhost]\nlog:\n\tlevel: info\n')), /^quire\.yaml:3:\d+: YAML syntax error: .*tab/i);
  assert.match(
    configError(() => load('hosts: [a.example]\nhosts: [b.example]\n')),
    /^quire\.yaml:2:1: YAML syntax error: Map keys must be unique\. Fix: each key may appear only once/,
  );
  assert.match(configError(() => load('hosts: [localhost]\nlog:\n  level: "info\n\n')), /^quire\.yaml:3:3: YAML syntax error: Missing closing "quote/);
});

test('a certificate without its key (and a key without its certificate) is an error', () => {
  assert.equal(
    configError(() => load('hosts: [localhost]\ntls:\n  cert: fullchain.pem\n')),
    'quire.yaml:3:9: tls.cert: a certificate needs its private key, but tls.key is missing. ' +
      'Fix: add key: path/to/privkey.pem under tls, or remove cert to use a generated self-signed certificate.',
  );
  assert.match(configError(() => load('hosts: [localhost]\ntls:\n  key: privkey.pem\n')), /^quire\.yaml:3:8: tls\.key: a private key needs its certificate/);
});

test('hosts is required, and must be lowercase DNS names', () => {
  const message = configError(() => load('data_dir: ./data\n'));
  assert.equal(
    message,
    'quire.yaml: hosts: is missing; expected a list of the domain names this server serves. ' +
      'Fix: add hosts: [example.org] (or hosts: [localhost] for testing) at the top level.',
  );
  assert.equal(configError(() => load('')), message, 'an empty file says the same');
  assert.match(configError(() => load('hosts: []\n')), /^quire\.yaml:1:8: hosts: must name at least one domain\./);
  assert.match(configError(() => load('hosts: example.org\n')), /got "example\.org"\. Fix: write hosts: \[example\.org\]\.$/);
  assert.match(configError(() => load('hosts: [Example.org]\n')), /hosts\[0\]: expected a lowercase domain name, got "Example\.org"\. Fix: write "example\.org"\./);
  assert.match(configError(() => load('hosts: [exa_mple.org]\n')), /hosts\[0\]: expected a domain name made of letters/);
  assert.match(configError(() => load('hosts: [127.0.0.1]\n')), /hosts\[0\]: expected a domain name, got the IP address/);
  assert.match(configError(() => load('hosts: [a.example, a.example]\n')), /^quire\.yaml:1:20: hosts\[1\]: host "a\.example" is listed twice/);
});

test('storage backends: postgres needs a url, and settings of other backends are rejected', () => {
  assert.equal(
    configError(() => load('hosts: [localhost]\nstorage:\n  backend: postgres\n')),
    'quire.yaml:2:1: storage.url: the postgres backend needs a connection URL. ' +
      'Fix: add url: postgres://USER:PASSWORD@HOST:5432/DATABASE under storage.',
  );
  assert.deepEqual(load('hosts: [localhost]\nstorage: { backend: postgres, url: "postgres://q@db/quire" }\n').config.storage, {
    backend: 'postgres',
    url: 'postgres://q@db/quire',
  });
  assert.match(configError(() => load('hosts: [localhost]\nstorage: { backend: postgres, url: "mysql://db" }\n')), /storage\.url: expected a postgres:\/\//);
  assert.match(configError(() => load('hosts: [localhost]\nstorage: { backend: memory, path: x.db }\n')), /storage\.path: path is only used by the sqlite backend/);
  assert.match(configError(() => load('hosts: [localhost]\nstorage: { backend: sqllite }\n')), /Fix: did you mean sqlite\?/);
  assert.deepEqual(load('hosts: [localhost]\nstorage: { backend: memory }\n').config.storage, { backend: 'memory' });
});

test('two enabled listeners cannot share a port', () => {
  assert.match(
    configError(() => load('hosts: [localhost]\nlisteners:\n  c2s_tls: { port: 5222 }\n')),
    /^quire\.yaml:3:20: listeners\.c2s_tls\.port: uses port 5222, which listeners\.c2s already uses/,
  );
  assert.equal(load('hosts: [localhost]\nlisteners:\n  c2s_tls: { enabled: false, port: 5222 }\n').config.listeners.c2s_tls.enabled, false);
});

test('booleans written the YAML 1.1 way get a precise fix', () => {
  assert.match(
    configError(() => load('hosts: [localhost]\ntls:\n  required: no\n')),
    /^quire\.yaml:3:13: tls\.required: expected true or false, got "no"\. Fix: write false \(YAML 1\.2 reads no as text/,
  );
});

test('validateModuleOptions points at the module option in the file', () => {
  const loaded = load(
    ['hosts: [localhost]', 'modules:', '  disco:', '  ping:', '    interval: often', '    timout: 5'].join('\n'),
  );
  const pingOptions = z.strictObject({ interval: z.number().int().positive().default(300), timeout: z.number().default(10) });
  const message = configError(() => validateModuleOptions(loaded, 'ping', pingOptions));
  assert.deepEqual(message.split('\n'), [
    'quire.yaml:5:15: modules.ping.interval: expected a number, got "often". Fix: write a number.',
    'quire.yaml:6:5: modules.ping.timout: unknown key. Did you mean "timeout"? Fix: rename it to timeout, or remove it. Known keys here: interval, timeout.',
  ]);
  assert.equal(loaded.locate(['modules', 'ping', 'interval']), 'quire.yaml:5:15');
  assert.equal(loaded.locate(['modules', 'ping']), 'quire.yaml:4:3');
  assert.equal(loaded.locate(['modules', 'disco', 'missing']), 'quire.yaml:3:3', 'a missing option points at its module');
  assert.equal(loaded.locate(['nowhere']), 'quire.yaml');

  // Defaults fill in, and a module the config does not mention validates an empty object.
  const good = load('hosts: [localhost]\nmodules:\n  ping: { interval: 60 }\n');
  assert.deepEqual(validateModuleOptions(good, 'ping', pingOptions), { interval: 60, timeout: 10 });
  assert.deepEqual(validateModuleOptions(good, 'absent', pingOptions), { interval: 300, timeout: 10 });

  // A module's own message is kept; the location is still added.
  const custom = z.object({ interval: z.number().max(3600, { error: 'at most an hour. Fix: write 3600 or less.' }) });
  assert.equal(
    configError(() => validateModuleOptions(load('hosts: [localhost]\nmodules:\n  ping: { interval: 9999 }\n'), 'ping', custom)),
    'quire.yaml:3:21: modules.ping.interval: at most an hour. Fix: write 3600 or less.',
  );
});

test('a required module option missing from the list form says how to write options', () => {
  const loaded = load('hosts: [localhost]\nmodules:\n  - disco\n  - muc\n');
  const message = configError(() => validateModuleOptions(loaded, 'muc', z.object({ host: z.string() })));
  assert.match(message, /^quire\.yaml:4:5: modules\.muc\.host: is missing; expected text\. Fix: add `host:` with text\. \(Options go in the map form/);
});

test('relative paths resolve against the config file folder; ~ against the home folder', () => {
  withTempDir((dir) => {
    mkdirSync(join(dir, 'etc'));
    const file = join(dir, 'etc', 'quire.yaml');
    writeFileSync(
      file,
      [
        'hosts: [localhost]',
        'data_dir: ../var',
        'storage: { path: db/quire.sqlite }',
        'tls: { cert: certs/fullchain.pem, key: /abs/privkey.pem }',
      ].join('\n'),
    );
    const { config } = loadConfigFile(file);
    assert.equal(config.source, file);
    assert.equal(config.data_dir, join(dir, 'var'));
    assert.deepEqual(config.storage, { backend: 'sqlite', path: join(dir, 'var', 'db', 'quire.sqlite') });
    assert.equal(config.tls.cert, join(dir, 'etc', 'certs', 'fullchain.pem'));
    assert.equal(config.tls.key, '/abs/privkey.pem');
  });
  assert.match(load('hosts: [localhost]\ndata_dir: ~/quire\n').config.data_dir, /\/quire$/);
  assert.doesNotMatch(load('hosts: [localhost]\ndata_dir: ~/quire\n').config.data_dir, /~/);
});

test('errors from a file name the file as given', () => {
  withTempDir((dir) => {
    const file = join(dir, 'quire.yaml');
    writeFileSync(file, 'hosts: [localhost]\nlisteners:\n  c2s: { port: 52x2 }\n');
    assert.match(configError(() => loadConfigFile(file)), new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:16: listeners\\.c2s\\.port:`));
  });
});

test('a missing file says so and suggests --config or running without one', () => {
  const message = configError(() => loadConfigFile('/nonexistent/quire.yaml'));
  assert.match(message, /^\/nonexistent\/quire\.yaml: config file not found/);
  assert.match(message, /quire start --config PATH/);
  assert.match(message, /without --config/);
});

test('suggestions use edit distance with transpositions', () => {
  assert.equal(editDistance('prot', 'port'), 1);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(suggest('hots', ['hosts', 'tls']), 'hosts');
  assert.equal(suggest('max-depth', ['max_depth', 'max_attributes']), 'max_depth');
  assert.equal(suggest('zzz', ['hosts', 'tls']), undefined);
});

function capture(): { stream: Writable; text: () => string } {
  let out = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  return { stream, text: () => out };
}

test('createLogger writes JSON lines at the configured level', () => {
  const sink = capture();
  const logger = createLogger({ level: 'warn', format: 'json' }, { destination: sink.stream });
  logger.info('hidden');
  logger.warn({ host: 'localhost' }, 'shown');
  const lines = sink.text().trim().split('\n');
  assert.equal(lines.length, 1);
  const entry = JSON.parse(lines[0]!) as { msg: string; host: string; level: number };
  assert.equal(entry.msg, 'shown');
  assert.equal(entry.host, 'localhost');
  assert.equal(entry.level, 40);
});

test('createLogger pretty-prints synchronously', () => {
  const sink = capture();
  const logger = createLogger({ level: 'debug', format: 'pretty' }, { destination: sink.stream });
  logger.debug('negotiating stream');
  // Synchronous: the line is there without waiting for a worker thread.
  assert.match(sink.text(), /DEBUG.*negotiating stream/);
});

test('network_workers: 0 (one process) unless set; a count of processes from 0 to 64', () => {
  assert.equal(load('hosts: [localhost]\n').config.network_workers, 0);
  assert.equal(load('hosts: [localhost]\nnetwork_workers: 2\n').config.network_workers, 2);
  assert.match(
    configError(() => load('hosts: [localhost]\nnetwork_workers: two\n')),
    /^quire\.yaml:2:18: network_workers: expected a number of processes from 0 to 64, got "two"\. Fix: write a number such as 1\./,
  );
  assert.match(configError(() => load('hosts: [localhost]\nnetwork_workers: 100\n')), /^quire\.yaml:2:18: network_workers: /);
});
