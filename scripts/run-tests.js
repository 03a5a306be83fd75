// Runs every compiled test file with node's test runner, then the end-to-end tests (dist/test) a second time with
// every test server on PostgreSQL (QUIRE_TEST_STORAGE=postgres), when PostgreSQL answers.
// Node 20's `node --test` takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import postgres from 'postgres';

const POSTGRES_URL = process.env.QUIRE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const SUMMARY_KEYS = ['tests', 'suites', 'pass', 'fail', 'cancelled', 'skipped', 'todo'];
const totals = Object.fromEntries(SUMMARY_KEYS.map((k) => [k, 0]));
let passes = 0;

/** Runs the files in one test runner, passing its output through and adding its summary to the totals. */
function run(files, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...files], { stdio: ['ignore', 'pipe', 'inherit'], env });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      const text = tail + chunk.toString();
      const lines = text.split('\n');
      tail = lines.pop();
      for (const line of lines) {
        const m = /^# (\w+) (\d+)$/.exec(line);
        if (m && m[1] in totals) totals[m[1]] += Number(m[2]);
      }
    });
    child.on('close', (code) => {
      passes++;
      resolve(code ?? 1);
    });
  });
}

async function postgresAnswers() {
  const sql = postgres(POSTGRES_URL, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

const filter = process.argv.slice(2);
let files = findTests('dist').sort();
if (filter.length) files = files.filter((f) => filter.some((word) => f.includes(word)));
if (!files.length) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}

// The PostgreSQL pass is for the servers the end-to-end tests start; the CLI and PostgreSQL tests choose their
// storage themselves.
const onPostgres = (list) => list.filter((f) => f.startsWith(join('dist', 'test')) && !/cli|postgres/.test(f));

if (process.env.QUIRE_TEST_STORAGE === 'postgres') process.exit(await run(onPostgres(files), process.env));

// The files whose tests lean on the transport most, run once more with every client connection carried by network
// worker processes (network_workers: 2), so that what crosses the process boundary is checked as a user sees it.
const NETWORK_WORKER_FILES = ['login-and-chat', 'stream-errors', 'sm', 'slixmpp', 'register', 'csi', 'rfc6121-presence-and-delivery'].map((name) => join('dist', 'test', `${name}.test.js`));
const onNetworkWorkers = (list) => list.filter((f) => NETWORK_WORKER_FILES.includes(f));

if (process.env.QUIRE_TEST_NETWORK_WORKERS) process.exit(await run(onNetworkWorkers(files), process.env));

let status = await run(files, process.env);
const third = onNetworkWorkers(files);
if (third.length) {
  console.log(`\n# The transport-heavy end-to-end tests again, with client connections in network workers (${third.length} files)`);
  status = (await run(third, { ...process.env, QUIRE_TEST_NETWORK_WORKERS: '2' })) || status;
}
const second = onPostgres(files);
if (second.length && process.env.QUIRE_TEST_POSTGRES !== 'skip') {
  if (await postgresAnswers()) {
    console.log(`\n# The end-to-end tests again, with every server on PostgreSQL (${second.length} files)`);
    status = (await run(second, { ...process.env, QUIRE_TEST_STORAGE: 'postgres' })) || status;
  } else {
    console.log(`\n# skipped: the end-to-end tests on PostgreSQL: nothing answers at ${POSTGRES_URL.replace(/\/\/[^@]*@/, '//')}. Start PostgreSQL on 127.0.0.1:5432 (see ../shared/design/SERVICES.md) or set QUIRE_TEST_POSTGRES_URL.`);
  }
}
if (passes > 1) {
  // One summary for every pass, in the test runner's words.
  console.log(`\n# All ${passes} passes (SQLite, network workers${passes > 2 ? ', PostgreSQL' : ''})`);
  for (const key of SUMMARY_KEYS) console.log(`# ${key} ${totals[key]}`);
}
process.exit(status);
