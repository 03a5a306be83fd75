// The job the orchestrator hands to a load-generator process, and the result it prints back.
import type { Layout } from './layout.js';

export type ScenarioName = 'idle' | 'login' | 'messages' | 'fanout' | 'roster';
export const SCENARIOS: ScenarioName[] = ['idle', 'login', 'messages', 'fanout', 'roster'];

export interface Job {
  scenario: ScenarioName;
  /** Scenario variant: idle N, login 'plain'|'starttls', fanout 'pubsub'|'pep'. */
  variant: string;
  host: string;
  port: number;
  domain: string;
  layout: Layout;
  /** The server process (RSS and CPU are read from /proc). */
  serverPid: number;
  quick: boolean;
}

/** Figures by name (numbers), plus a note when the scenario was skipped or failed. */
export interface JobResult {
  figures: Record<string, number>;
  note?: string;
  details?: unknown;
  /** 1-minute load average when the run ended (set by the orchestrator). */
  load?: number;
}
