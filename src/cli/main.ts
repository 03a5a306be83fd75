// The `quire` command.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { Command, CommanderError } from 'commander';
import { ConfigError, DEFAULT_CONFIG_YAML, defaultConfig, loadConfigFile, validateModuleOptions, type LoadedConfig } from '../config/index.js';
import { AccountError, Accounts } from '../core/accounts.js';
import { AppTokenError, AppTokens, type AppTokenRecord, type AppTokenScope } from '../core/app-tokens.js';
import { parseJid, JidError } from '../core/jid/index.js';
import { silentLogger } from '../core/logger.js';
import { Rosters, newItem, type RosterItem, type Subscription } from '../core/roster.js';
import { CertificateError, hostsNotCovered, readCertificate } from '../transports/certs.js';
import { enabledModules, loadCertificate, openStorage, startServer } from '../start.js';
import { availableModules } from '../modules/index.js';
import type { AppTokensOptions } from '../modules/app-tokens/index.js';
import type { z } from 'zod';
import { QUIRE_VERSION } from '../version.js';
import { StorageError, createBackend, type BackendSpec } from '../storage/index.js';
import { copyBackend, isExportable } from '../storage/export.js';
import { storageCommands } from './storage.js';
import { publishCommands } from './publish.js';

/** sqlite:PATH, postgres:URL or a bare postgres:// URL, as `quire migrate` takes them. */
function parseBackendSpec(text: string): BackendSpec {
  if (text.startsWith('postgres://') || text.startsWith('postgresql://')) return { backend: 'postgres', url: text };
  if (text.startsWith('postgres:')) return { backend: 'postgres', url: text.slice('postgres:'.length) };
  if (text.startsWith('sqlite:') && text.length > 'sqlite:'.length) return { backend: 'sqlite', path: resolve(text.slice('sqlite:'.length)) };
  throw new UserError(`"${text}" names no storage: write sqlite:PATH or postgres:postgres://user@host:5432/database`);
}

/** A problem the user can fix: printed without a stack trace, exit code 1 (2 for config errors). */
class UserError extends Error {}

const CONFIG_HELP = 'config file (default: ./quire.yaml if it exists, else the built-in localhost config)';

function loadConfig(path: string | undefined): LoadedConfig {
  if (path) return loadConfigFile(resolve(path));
  if (existsSync('quire.yaml')) return loadConfigFile(resolve('quire.yaml'));
  return defaultConfig(process.cwd());
}

/** user@host: the account and the served host it belongs to. */
function parseAccount(loaded: LoadedConfig, text: string): { host: string; user: string } {
  let jid;
  try {
    jid = parseJid(text.includes('@') ? text : `${text}@${loaded.config.hosts[0]}`);
  } catch (err) {
    throw new UserError(`"${text}" is not a valid account address: ${(err as JidError).message}`);
  }
  if (!jid.local || jid.resource) throw new UserError(`"${text}" is not an account address; write it as user@${loaded.config.hosts[0]}`);
  if (!loaded.config.hosts.includes(jid.domain)) throw new UserError(`${jid.domain} is not one of the hosts in ${loaded.config.source} (${loaded.config.hosts.join(', ')})`);
  return { host: jid.domain, user: jid.local };
}

/** The password from --password, a piped stdin line, or a hidden prompt (asked twice). */
async function readPassword(given: string | undefined): Promise<string> {
  if (given !== undefined) return given;
  if (!process.stdin.isTTY) {
    const text = readFileSync(0, 'utf8');
    const line = text.split(/\r?\n/)[0];
    if (!line) throw new UserError('no password on standard input');
    return line;
  }
  const ask = (prompt: string) =>
    new Promise<string>((done) => {
      const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: true });
      // Hide what is typed.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.includes(prompt)) process.stdout.write(prompt);
      };
      rl.question(prompt, (answer) => {
        rl.close();
        process.stdout.write('\n');
        done(answer);
      });
    });
  const first = await ask('Password: ');
  if ((await ask('Again: ')) !== first) throw new UserError('the two passwords differ');
  return first;
}

async function withAccounts<T>(configPath: string | undefined, fn: (accounts: Accounts, loaded: LoadedConfig, tokens: AppTokens) => Promise<T>): Promise<T> {
  const loaded = loadConfig(configPath);
  const storage = await openStorage(loaded);
  try {
    const accounts = new Accounts(storage.accounts);
    // Built with the accounts so that deleting an account deletes its app tokens and their index entries, as in the server.
    const tokens = new AppTokens(storage, accounts);
    return await fn(accounts, loaded, tokens);
  } finally {
    await storage.close();
  }
}

/** The app_tokens module's options in the config (its defaults when the module is not configured). */
function appTokenOptions(loaded: LoadedConfig): AppTokensOptions {
  const schema = availableModules.get('app_tokens')!.options as unknown as z.ZodType<AppTokensOptions>;
  return validateModuleOptions(loaded, 'app_tokens', schema);
}

const DAY_MS = 86_400_000;

/** XEP-0082 DateTime to the second, as the commands show it. */
function dateTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function nodesText(record: AppTokenRecord): string {
  return record.nodes.length ? record.nodes.join(', ') : '(all nodes)';
}

/** One line of `quire token list`: id, label, scope, nodes, created, expires, last used. */
function tokenLine(record: AppTokenRecord, now: number): string {
  const expires = record.expiresAt === null ? 'never' : dateTime(record.expiresAt) + (record.expiresAt <= now ? ' (expired)' : '');
  return [record.id, record.label, record.scope, nodesText(record), dateTime(record.createdAt), expires, record.lastUsed === null ? 'never' : dateTime(record.lastUsed)].join('\t');
}

function howToConnect(loaded: LoadedConfig, ports: Record<string, number>, selfSigned: boolean, certPath: string): string {
  const host = loaded.config.hosts[0];
  const lines = [`Quire ${QUIRE_VERSION} is serving ${loaded.config.hosts.join(', ')} (config: ${loaded.config.source}, data: ${loaded.config.data_dir})`];
  if (ports.c2s) lines.push(`  Clients connect to ${host}, port ${ports.c2s} (STARTTLS)${ports.c2s_tls ? ` or ${ports.c2s_tls} (direct TLS)` : ''}.`);
  if (ports.http || ports.https) {
    const web = [ports.https ? `https://${host}:${ports.https}/` : '', ports.http ? `http://${host}:${ports.http}/` : ''].filter(Boolean);
    lines.push(`  The web (Storage API, blogs): ${web.join(' and ')}.`);
  }
  lines.push(`  Create an account:  npm run quire -- user add alice@${host}`);
  if ('register' in loaded.config.modules) lines.push('  or register from your client: in-band registration (XEP-0077) is on.');
  if (selfSigned) lines.push(`  The TLS certificate is self-signed (${certPath}): accept it in your client once, or set tls.cert and tls.key.`);
  lines.push('  Stop with Ctrl+C.');
  return lines.join('\n');
}

export function buildProgram(): Command {
  const program = new Command('quire').description('Quire: an XMPP server that is also a data store and a publishing platform').version(QUIRE_VERSION, '-V, --version');
  program.exitOverride();

  program
    .command('start')
    .description('run the server')
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (opts: { config?: string }) => {
      const loaded = loadConfig(opts.config);
      // Installed before starting, so that a signal during startup still ends in an orderly stop.
      let running: Awaited<ReturnType<typeof startServer>> | null = null;
      let signalled: string | null = null;
      const stop = async (signal: string) => {
        signalled = signal;
        if (!running) return;
        running.log.info({ signal }, 'signal received');
        await running.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      running = await startServer(loaded);
      if (signalled) return void (await stop(signalled));
      process.stdout.write(howToConnect(loaded, running.ports, running.certificate.selfSigned, running.certificate.source) + '\n');
    });

  const user = program.command('user').description('manage accounts');
  user
    .command('add <jid>')
    .description('create an account (the password comes from --password, standard input, or a prompt)')
    .option('-c, --config <path>', CONFIG_HELP)
    .option('-p, --password <password>', 'the password (visible in the process list: prefer the prompt or stdin)')
    .action(async (jid: string, opts: { config?: string; password?: string }) => {
      await withAccounts(opts.config, async (accounts, loaded) => {
        const { host, user } = parseAccount(loaded, jid);
        const created = await accounts.create(host, user, await readPassword(opts.password));
        console.log(`created ${created}@${host}`);
      });
    });
  user
    .command('passwd <jid>')
    .description("change an account's password")
    .option('-c, --config <path>', CONFIG_HELP)
    .option('-p, --password <password>', 'the new password')
    .action(async (jid: string, opts: { config?: string; password?: string }) => {
      await withAccounts(opts.config, async (accounts, loaded) => {
        const { host, user } = parseAccount(loaded, jid);
        if (!(await accounts.exists(host, user))) throw new UserError(`${user}@${host} does not exist`);
        await accounts.setPassword(host, user, await readPassword(opts.password));
        console.log(`changed the password of ${user}@${host}`);
      });
    });
  user
    .command('delete <jid>')
    .description('delete an account and all its data')
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (jid: string, opts: { config?: string }) => {
      await withAccounts(opts.config, async (accounts, loaded) => {
        const { host, user } = parseAccount(loaded, jid);
        await accounts.delete(host, user);
        console.log(`deleted ${user}@${host}`);
      });
    });
  user
    .command('list [host]')
    .description("list a host's accounts (default: every host)")
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (hostName: string | undefined, opts: { config?: string }) => {
      await withAccounts(opts.config, async (accounts, loaded) => {
        const hosts = hostName ? [hostName] : loaded.config.hosts;
        for (const host of hosts) {
          if (!loaded.config.hosts.includes(host)) throw new UserError(`${host} is not one of the configured hosts (${loaded.config.hosts.join(', ')})`);
          for (const name of (await accounts.list(host)).sort()) console.log(`${name}@${host}`);
        }
      });
    });

  const roster = program.command('roster').description("manage accounts' rosters (a logged-in user sees the change at the next login)");
  const withRosters = async (configPath: string | undefined, jid: string, fn: (rosters: Rosters, host: string, user: string) => Promise<void>) => {
    const loaded = loadConfig(configPath);
    const storage = await openStorage(loaded);
    try {
      const { host, user } = parseAccount(loaded, jid);
      if (!(await new Accounts(storage.accounts).exists(host, user))) throw new UserError(`${user}@${host} does not exist`);
      await fn(new Rosters(storage), host, user);
    } finally {
      await storage.close();
    }
  };
  const contactJid = (text: string) => {
    try {
      return parseJid(text).bare;
    } catch (err) {
      throw new UserError(`"${text}" is not a valid JID: ${(err as JidError).message}`);
    }
  };
  roster
    .command('list <jid>')
    .description("print an account's roster")
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (jid: string, opts: { config?: string }) => {
      await withRosters(opts.config, jid, async (rosters, host, user) => {
        const items = [...(await rosters.get(host, user)).items.values()].filter((i) => i.inRoster).sort((a, b) => a.jid.localeCompare(b.jid));
        for (const item of items) {
          const flags = [item.ask ? 'asked' : '', item.pendingIn ? 'asked-by' : '', item.approved ? 'pre-approved' : ''].filter(Boolean).join(',');
          console.log([item.jid, item.subscription + (flags ? ` (${flags})` : ''), item.name ?? '', item.groups.join(', ')].join('\t'));
        }
      });
    });
  roster
    .command('add <jid> <contact>')
    .description('add or update a contact, optionally with a subscription state')
    .option('-c, --config <path>', CONFIG_HELP)
    .option('-n, --name <name>', 'the name shown for the contact')
    .option('-g, --group <group...>', 'groups (repeat for several)')
    .option('-s, --subscription <state>', 'none, to, from or both (administrators can set it directly)')
    .action(async (jid: string, contact: string, opts: { config?: string; name?: string; group?: string[]; subscription?: string }) => {
      const subscription = opts.subscription;
      if (subscription !== undefined && !['none', 'to', 'from', 'both'].includes(subscription)) throw new UserError(`--subscription must be none, to, from or both, not "${subscription}"`);
      await withRosters(opts.config, jid, async (rosters, host, user) => {
        const contactBare = contactJid(contact);
        const roster = await rosters.get(host, user);
        const item: RosterItem = { ...(roster.items.get(contactBare) ?? newItem(contactBare)) };
        item.inRoster = true;
        if (opts.name !== undefined) item.name = opts.name;
        if (opts.group) item.groups = [...new Set(opts.group)];
        if (subscription) item.subscription = subscription as Subscription;
        await rosters.commit(roster, [item]);
        console.log(`${contactBare} is in ${user}@${host}'s roster (subscription ${item.subscription})`);
      });
    });
  roster
    .command('remove <jid> <contact>')
    .description('remove a contact (no unsubscription is sent: the server is offline to the contact)')
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (jid: string, contact: string, opts: { config?: string }) => {
      await withRosters(opts.config, jid, async (rosters, host, user) => {
        const contactBare = contactJid(contact);
        const roster = await rosters.get(host, user);
        if (!roster.items.get(contactBare)?.inRoster) throw new UserError(`${contactBare} is not in ${user}@${host}'s roster`);
        await rosters.commit(roster, [], [contactBare]);
        console.log(`removed ${contactBare} from ${user}@${host}'s roster`);
      });
    });

  storageCommands(program, { configHelp: CONFIG_HELP, loadConfig, parseAccount, fail: (message) => new UserError(message) });
  publishCommands(program, { configHelp: CONFIG_HELP, loadConfig, parseAccount, fail: (message) => new UserError(message) });
  const token = program.command('token').description('manage app tokens: credentials for applications that use the HTTP APIs');
  const withTokens = (configPath: string | undefined, jid: string, fn: (tokens: AppTokens, host: string, user: string, options: AppTokensOptions) => Promise<void>) =>
    withAccounts(configPath, async (accounts, loaded, tokens) => {
      const options = appTokenOptions(loaded);
      const { host, user } = parseAccount(loaded, jid);
      if (!(await accounts.exists(host, user))) throw new UserError(`${user}@${host} does not exist`);
      await fn(tokens, host, user, options);
    });
  token
    .command('create <jid>')
    .description('create an app token and print it: it is shown this once')
    .option('-c, --config <path>', CONFIG_HELP)
    .option('-l, --label <label>', 'what the token is for', 'command line')
    .option('-s, --scope <scope>', 'read, or write (which includes read)', 'read')
    .option('-n, --node <node...>', "a PubSub node the token may use, repeat for several (default: all): a node of the account's PEP service, or SERVICE/NODE")
    .option('-e, --expires <days>', "days until it expires (default: the app_tokens module's default_expiry_days)")
    .action(async (jid: string, opts: { config?: string; label: string; scope: string; node?: string[]; expires?: string }) => {
      if (opts.scope !== 'read' && opts.scope !== 'write') throw new UserError(`--scope must be read or write, not "${opts.scope}"`);
      const scope: AppTokenScope = opts.scope;
      await withTokens(opts.config, jid, async (tokens, host, user, options) => {
        const { default_expiry_days: defaultDays, max_expiry_days: maxDays } = options;
        const text = opts.expires ?? String(defaultDays);
        const days = Number(text);
        if (!/^\d{1,6}$/.test(text) || days < 1 || days > maxDays) {
          throw new UserError(`--expires must be a whole number of days from 1 to ${maxDays} (app_tokens max_expiry_days), not "${text}"`);
        }
        const created = await tokens.create(host, user, { label: opts.label, scope, nodes: opts.node ?? [], expiresAt: Date.now() + days * DAY_MS });
        // The token alone on stdout, for scripts; what it is on stderr.
        console.log(created.token);
        const { record } = created;
        console.error(`created app token ${created.id} for ${user}@${host} (${record.label}; ${record.scope}; ${nodesText(record)}; expires ${dateTime(record.expiresAt!)}). It is shown only now: store it.`);
      });
    });
  token
    .command('list <jid>')
    .description("print an account's app tokens: id, label, scope, nodes, created, expires, last used")
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (jid: string, opts: { config?: string }) => {
      await withTokens(opts.config, jid, async (tokens, host, user) => {
        const now = Date.now();
        for (const record of await tokens.list(host, user)) console.log(tokenLine(record, now));
      });
    });
  token
    .command('revoke <jid> <id>')
    .description('revoke an app token: applications that use it are refused from then on')
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (jid: string, id: string, opts: { config?: string }) => {
      await withTokens(opts.config, jid, async (tokens, host, user) => {
        if (!(await tokens.revoke(host, user, id))) throw new UserError(`${user}@${host} has no app token ${id} (see quire token list ${user}@${host})`);
        console.log(`revoked app token ${id} of ${user}@${host}`);
      });
    });

  program
    .command('check')
    .description('check the config file, modules and certificates without starting')
    .option('-c, --config <path>', CONFIG_HELP)
    .action(async (opts: { config?: string }) => {
      const loaded = loadConfig(opts.config);
      const modules = enabledModules(loaded);
      const { config } = loaded;
      console.log(`config ${config.source}: ok`);
      console.log(`  hosts: ${config.hosts.join(', ')}`);
      console.log(`  modules: ${[...modules.keys()].join(', ')}`);
      console.log(`  storage: ${config.storage.backend}${config.storage.backend === 'sqlite' ? ` (${config.storage.path})` : ''}`);
      if (config.tls.cert && config.tls.key) {
        const pair = readCertificate(config.tls.cert, config.tls.key);
        const missing = hostsNotCovered(pair.cert, config.hosts);
        if (missing.length) throw new UserError(`the certificate ${pair.source} does not name ${missing.join(', ')}; clients will refuse it`);
        console.log(`  certificate ${pair.source}: ok${pair.selfSigned ? ' (self-signed)' : ''}`);
      } else {
        const pair = await loadCertificate(loaded, silentLogger);
        console.log(`  certificate: self-signed, ${pair.source}`);
      }
    });

  program
    .command('migrate')
    .description('copy every account and stored item from one storage backend to another (safe to run again)')
    .requiredOption('--from <spec>', 'source: sqlite:PATH or postgres:URL')
    .requiredOption('--to <spec>', 'target: sqlite:PATH or postgres:URL')
    .action(async (opts: { from: string; to: string }) => {
      const source = createBackend(parseBackendSpec(opts.from));
      const target = createBackend(parseBackendSpec(opts.to));
      if (!isExportable(source) || !isExportable(target)) throw new UserError('migrate copies between sqlite and postgres only');
      await source.open();
      try {
        await target.open();
        try {
          // A progress line on stderr, rewritten in place (at most every 100 rows), so stdout stays the summary.
          const tty = process.stderr.isTTY;
          const counts = await copyBackend(source, target, ({ done, total }) => {
            if (tty && (done % 100 === 0 || done === total)) process.stderr.write(`\rcopying ${done}/${total} rows (${total ? Math.floor((done * 100) / total) : 100}%)`);
          });
          if (tty) process.stderr.write('\n');
          console.log(`copied ${counts.account} accounts, ${counts.keyval} keyval, ${counts.map} map and ${counts.archive} archive rows from ${source.kind} to ${target.kind}; counts verified`);
        } finally {
          await target.close();
        }
      } finally {
        await source.close();
      }
    });

  program
    .command('init')
    .description('write a commented quire.yaml to start from')
    .argument('[path]', 'where to write it', 'quire.yaml')
    .action((path: string) => {
      if (existsSync(path)) throw new UserError(`${path} exists already; not overwriting it`);
      writeFileSync(path, DEFAULT_CONFIG_YAML);
      console.log(`wrote ${path}; edit it, then run: quire check --config ${path}`);
    });

  program
    .command('version')
    .description('print the version')
    .action(() => console.log(`quire ${QUIRE_VERSION} (Node.js ${process.version})`));

  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof StorageError && err.code === 'unavailable') {
      console.error(`quire: ${err.message}. Fix: start the database server, or correct storage.url`);
      return 1;
    }
    if (err instanceof UserError || err instanceof AccountError || err instanceof AppTokenError || err instanceof CertificateError) {
      console.error(`quire: ${err.message}`);
      return 1;
    }
    console.error(err);
    return 1;
  }
}

const code = await main(process.argv);
// `start` keeps running; other commands exit with their code.
if (code !== 0 || !process.argv.includes('start')) process.exitCode = code;
