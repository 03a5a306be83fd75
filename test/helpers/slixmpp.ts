// Running the slixmpp interop scripts (test/interop/*.py, Debian's python3-slixmpp): whether slixmpp is there,
// where a script is, and a script run to its end with the JSON lines it printed.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Debian's slixmpp is installed for the system interpreter, not for whatever python3 is first on PATH.
export const PYTHON = '/usr/bin/python3';

/** Why the tests that need `module` (slixmpp or one of its plugins) must be skipped, or false when they can run. */
export function slixmppMissing(module = 'slixmpp'): string | false {
  const probe = spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8' });
  if (probe.error) return `${PYTHON} is not available (${probe.error.message}); install python3 and python3-slixmpp (apt-get install python3-slixmpp)`;
  if (probe.status !== 0) return `slixmpp is not installed for ${PYTHON}: apt-get install python3-slixmpp`;
  return false;
}

/** A script of test/interop/ in the source tree; the compiled test may be in dist/test/ or a build folder. */
export function interopScript(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'test', 'interop', name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`test/interop/${name} not found above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/** One JSON line a script printed. */
export interface SlixEvent {
  event: string;
  [field: string]: unknown;
}

/** Runs a script to its end: its exit code, the events it printed, and what it wrote to stderr. */
export function runInteropScript(name: string, args: string[]): Promise<{ code: number | null; events: SlixEvent[]; stderr: string }> {
  const child = spawn(PYTHON, [interopScript(name), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) =>
      resolve({
        code,
        stderr,
        events: stdout
          .split('\n')
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as SlixEvent),
      }),
    );
  });
}
