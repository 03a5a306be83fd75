// Runs every compiled test file with node's test runner.
// Node 20's `node --test` takes no globs, so the files are listed here.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function findTests(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, out);
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = findTests('dist').sort();
if (filter.length) files = files.filter((f) => filter.some((word) => f.includes(word)));
// The PostgreSQL pass (QUIRE_TEST_STORAGE=postgres) is for servers the tests start; the CLI and PostgreSQL
// tests choose their storage themselves.
if (process.env.QUIRE_TEST_STORAGE === 'postgres') files = files.filter((f) => !/cli|postgres/.test(f));
if (!files.length) {
  console.error('no test files found under dist/ (did the build run?)');
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
