// What the harness needs from each server under test: prepare once (install, config, accounts), then start
// and stop as often as the scenarios ask.
import type { Layout } from '../lib/layout.js';

export interface RunningServer {
  /** The process whose RSS is the server's memory (node, lua, beam.smp). */
  pid: number;
  host: string;
  port: number;
  domain: string;
  stop(): Promise<void>;
}

export interface ServerAdapter {
  readonly name: string;
  /** Version string for the report. */
  version(): string;
  /** Installs what is missing, writes the config and the accounts under workDir. */
  prepare(workDir: string, layout: Layout): Promise<void>;
  /** Starts the server pinned to cpu (null: not pinned) and waits until it answers. */
  start(cpu: string | null): Promise<RunningServer>;
}
