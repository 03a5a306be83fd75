// The storage module's options, checked when the config loads. Module options are the same for every host; quotas
// can differ per host through host_quotas, and per account from the command line (quota.ts).
import { z } from 'zod';

const limit = z.number().int().min(0);

export const storageOptions = z
  .object({
    /** Default per-account limits of what an account stores in its PEP service (items and revisions); 0: none. */
    quota_bytes: limit.default(100 * 1024 * 1024),
    quota_items: limit.default(100_000),
    /** Per-host defaults that replace the two above: { example.org: { bytes: 0, items: 0 } }. */
    host_quotas: z.record(z.string().min(1), z.object({ bytes: limit.optional(), items: limit.optional() }).strict()).default({}),
    /** max_revisions of nodes created over HTTP (explicitly or by a first PUT/POST), unless the request says. */
    default_max_revisions: limit.default(10),
    /** The change log behind the event streams: changes kept per node, and for how long. 0 entries: live events only. */
    change_log_max_entries: limit.default(1000),
    change_log_max_days: z.number().int().min(1).default(7),
    /** Seconds between heartbeat comments on an idle event stream (proxies close silent connections). */
    heartbeat_interval: z.number().int().min(1).default(25),
    /** Event streams open at once per account, and per client address (anonymous readers too). */
    max_streams_per_account: z.number().int().min(1).default(20),
    max_streams_per_ip: z.number().int().min(1).default(50),
    /**
     * Web pages from these origins may call the API from a browser (CORS): '*' for any, none to refuse all. No cookies
     * are involved (credentials travel in Authorization headers set by the page), so '*' lets pages use only what their
     * users give them.
     */
    cors_origins: z.array(z.string().min(1)).default(['*']),
    /** Bytes an event stream may have waiting for a slow reader; beyond, the stream ends and the reader resumes. */
    max_stream_buffer: z.number().int().min(1024).default(1024 * 1024),
  })
  .strict()
  .prefault({});

export type StorageOptions = z.infer<typeof storageOptions>;
