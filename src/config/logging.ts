// The process logger. pino-pretty runs as a synchronous stream in this thread rather than a worker transport, so
// the last lines before an exit (or a crash) are written, not lost in a worker's buffer.
import pino from 'pino';
import pretty from 'pino-pretty';
import type { QuireConfig } from './index.js';

export interface LoggerDestination {
  /** Where lines go instead of stdout (tests, or a log file opened by the caller). */
  destination?: NodeJS.WritableStream;
}

export function createLogger(log: QuireConfig['log'], options: LoggerDestination = {}): pino.Logger {
  const opts: pino.LoggerOptions = {
    level: log.level,
    // Time as ISO text reads the same in json and pretty output and sorts in log aggregators.
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const { destination } = options;
  if (log.format === 'pretty') {
    const stream = pretty({
      colorize: destination === undefined && process.stdout.isTTY === true,
      sync: true,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
      ...(destination !== undefined ? { destination } : {}),
    });
    return pino(opts, stream);
  }
  return pino(opts, destination ?? pino.destination({ dest: 1, sync: true }));
}
