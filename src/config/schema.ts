// The config file's schema. Every leaf says what it expects and how to fix a bad value, so that a typo produces
// `quire.yaml:7:12: listeners.c2s.port: expected a port number from 0 to 65535, got "52x2". Fix: ...`.
import { z } from 'zod';
import { describeValue } from './issues.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const STORAGE_BACKENDS = ['sqlite', 'memory', 'postgres'] as const;

/** The SASL mechanisms Quire implements (RFC 5802, RFC 7677, draft-ietf-kitten-sasl-scram-sha-512; RFC 4616). */
export const SASL_MECHANISMS = [
  'SCRAM-SHA-512-PLUS',
  'SCRAM-SHA-512',
  'SCRAM-SHA-256-PLUS',
  'SCRAM-SHA-256',
  'SCRAM-SHA-1-PLUS',
  'SCRAM-SHA-1',
  'PLAIN',
] as const;
export type SaslMechanismName = (typeof SASL_MECHANISMS)[number];

/**
 * What a server without a `modules` key runs: a complete one-to-one IM server, Storage (PubSub over HTTP too), and the
 * ad-hoc commands with which each account manages its app tokens (its own only; the tokens grant nothing the account
 * could not do itself).
 */
export const STANDARD_MODULES = ['roster', 'presence', 'disco', 'caps', 'offline', 'vcard', 'private', 'blocking', 'stanza_id', 'carbons', 'csi', 'mam', 'pep', 'bookmarks', 'avatars', 'vcard4', 'pubsub', 'pubsub_mam', 'storage', 'microblog', 'social_feed', 'blog', 'last', 'ping', 'version', 'time', 'sm', 'adhoc', 'app_tokens'] as const;

type RawIssue = z.core.$ZodRawIssue;

function isNumericText(input: unknown): input is string {
  return typeof input === 'string' && input.trim() !== '' && !Number.isNaN(Number(input));
}

/**
 * A schema-level error for one setting: "expected <expected>, got <value>. Fix: <fix>." It covers the schema's own
 * checks too (min, max, int), so one sentence describes the whole valid range.
 */
function hint(expected: string, fix: string | ((input: unknown) => string), missingFix?: string) {
  return {
    error: (iss: RawIssue): string | undefined => {
      // Unknown keys and nested problems get their own wording from the shared error map.
      if (iss.code === 'unrecognized_keys' || iss.code === 'invalid_union' || iss.code === 'invalid_element') {
        return undefined;
      }
      if (iss.input === undefined) {
        return `is missing; expected ${expected}. Fix: ${missingFix ?? (typeof fix === 'string' ? fix : fix(undefined))}.`;
      }
      return `expected ${expected}, got ${describeValue(iss.input)}. Fix: ${typeof fix === 'string' ? fix : fix(iss.input)}.`;
    },
  };
}

function intIn(min: number, max: number, what: string, example: number) {
  return z
    .number(
      hint(`${what} from ${min} to ${max}`, (input) =>
        isNumericText(input) ? `remove the quotes and write ${input.trim()}` : `write a number such as ${example}`,
      ),
    )
    .int()
    .min(min)
    .max(max);
}

function bool(example: boolean) {
  return z.boolean(
    hint('true or false', (input) => {
      if (typeof input === 'string' && /^(yes|no|on|off|y|n)$/i.test(input)) {
        return `write ${/^(yes|on|y)$/i.test(input) ? 'true' : 'false'} (YAML 1.2 reads ${input} as text, not as a boolean)`;
      }
      return `write ${String(example)} or ${String(!example)}`;
    }),
  );
}

function text(expected: string, example: string) {
  return z.string(
    hint(expected, (input) =>
      typeof input === 'number' || typeof input === 'boolean' ? `quote it: "${String(input)}"` : `write e.g. ${example}`,
    ),
  );
}

function mapping(what: string, key: string) {
  return hint(`a mapping of ${what}`, `write key: value pairs indented under ${key}:`);
}

/** `storage:` with nothing after it (null) or no `storage` key at all both mean "all defaults". */
function section<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null || v === undefined ? {} : v), schema);
}

// RFC 1035 §2.3.1 labels (with RFC 1123 §2.1's leading digits), lowercase only: the domainpart of a JID is
// compared after case mapping (RFC 7622 §3.2), so a config host must already be in that form.
const DNS_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

function hostProblem(host: string): string | undefined {
  const got = JSON.stringify(host);
  if (host === '') return 'expected a domain name, got an empty text. Fix: write a domain name such as example.org.';
  if (host.endsWith('.') && host.length > 1) {
    // RFC 7622 §3.2: a trailing dot is stripped before comparison, so it would name a different host than intended.
    return `expected a domain name without a trailing dot, got ${got}. Fix: write ${JSON.stringify(host.slice(0, -1))}.`;
  }
  if (host !== host.toLowerCase()) {
    return `expected a lowercase domain name, got ${got}. Fix: write ${JSON.stringify(host.toLowerCase())}.`;
  }
  if (IPV4.test(host) || host.includes(':') || host.startsWith('[')) {
    return `expected a domain name, got the IP address ${got}. Fix: use a DNS name that points at this server, or localhost for testing.`;
  }
  if (/[^\x00-\x7f]/.test(host)) {
    return `expected an ASCII domain name, got ${got}. Fix: write the IDNA form of the name (its labels start with xn--).`;
  }
  if (!DNS_NAME.test(host)) {
    return `expected a domain name made of letters, digits, hyphens and dots (such as example.org), got ${got}. Fix: correct the name.`;
  }
  return undefined;
}

function noDuplicates<T>(what: string) {
  return (list: T[], ctx: z.RefinementCtx<T[]>): void => {
    const seen = new Set<T>();
    list.forEach((item, i) => {
      if (seen.has(item)) {
        ctx.addIssue({
          code: 'custom',
          path: [i],
          input: item,
          message: `${what} ${describeValue(item)} is listed twice. Fix: remove the repeated entry.`,
        });
      }
      seen.add(item);
    });
  };
}

const hostname = text('a domain name such as example.org', 'example.org').superRefine((host, ctx) => {
  const problem = hostProblem(host);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', input: host, message: problem });
});

const hosts = z
  .array(
    hostname,
    hint(
      'a list of the domain names this server serves',
      (input) => (typeof input === 'string' ? `write hosts: [${input}]` : 'write hosts: [example.org]'),
      'add hosts: [example.org] (or hosts: [localhost] for testing) at the top level',
    ),
  )
  .min(1, { error: 'must name at least one domain. Fix: write hosts: [example.org] (or [localhost] for testing).' })
  .superRefine(noDuplicates('host'));

const storage = section(
  z
    .strictObject(
      {
        backend: z.enum(STORAGE_BACKENDS).default('sqlite'),
        path: text('a file path such as quire.sqlite', 'quire.sqlite').min(1).optional(),
        url: text('a connection URL', 'postgres://quire:secret@localhost:5432/quire').optional(),
      },
      mapping('storage settings', 'storage'),
    )
    .superRefine((s, ctx) => {
      if (s.backend === 'postgres') {
        if (s.url === undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            input: undefined,
            message:
              'the postgres backend needs a connection URL. Fix: add url: postgres://USER:PASSWORD@HOST:5432/DATABASE under storage.',
          });
        } else if (!/^postgres(ql)?:\/\//.test(s.url)) {
          ctx.addIssue({
            code: 'custom',
            path: ['url'],
            input: s.url,
            message: `expected a postgres:// or postgresql:// URL, got ${describeValue(s.url)}. Fix: write e.g. postgres://quire:secret@localhost:5432/quire.`,
          });
        }
      } else if (s.url !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['url'],
          input: s.url,
          message: `url is only used by the postgres backend, but backend is ${s.backend}. Fix: remove url, or set backend: postgres.`,
        });
      }
      if (s.path !== undefined && s.backend !== 'sqlite') {
        ctx.addIssue({
          code: 'custom',
          path: ['path'],
          input: s.path,
          message: `path is only used by the sqlite backend, but backend is ${s.backend}. Fix: remove path, or set backend: sqlite.`,
        });
      }
    }),
);

function listener(name: string, defaultPort: number) {
  return section(
    z.strictObject(
      {
        enabled: bool(true).default(true),
        host: text("an address to listen on such as '::' or 0.0.0.0", "host: '::'").min(1).default('::'),
        // 0 asks the system for any free port (tests); the bound port is logged.
        port: intIn(0, 65535, 'a port number', defaultPort).default(defaultPort),
      },
      mapping('listener settings (enabled, host, port)', name),
    ),
  );
}

const listeners = section(
  z
    .strictObject(
      {
        c2s: listener('c2s', 5222), // RFC 6120 §14.7: client connections with STARTTLS
        c2s_tls: listener('c2s_tls', 5223), // XEP-0368: client connections with TLS from the first byte
        // The web: the Storage API and blogs, for modules that serve HTTP (opened only when one is enabled).
        http: listener('http', 5280),
        https: listener('https', 5281),
      },
      mapping('listeners (c2s, c2s_tls, http, https)', 'listeners'),
    )
    .superRefine((l, ctx) => {
      const names = ['c2s', 'c2s_tls', 'http', 'https'] as const;
      for (let i = 1; i < names.length; i++) {
        const b = l[names[i]!];
        const clash = names.slice(0, i).find((name) => {
          const a = l[name];
          return a.enabled && b.enabled && a.port !== 0 && a.port === b.port && a.host === b.host;
        });
        if (!clash) continue;
        ctx.addIssue({
          code: 'custom',
          path: [names[i]!, 'port'],
          input: b.port,
          message: `uses port ${b.port}, which listeners.${clash} already uses. Fix: give ${names[i]} another port, such as ${DEFAULT_PORTS[names[i]!]}.`,
        });
      }
    }),
);

const DEFAULT_PORTS = { c2s: 5222, c2s_tls: 5223, http: 5280, https: 5281 } as const;

const http = section(
  z
    .strictObject(
      {
        // Where people reach the web listeners, when a reverse proxy or another port stands in front of them: links
        // in feeds and blogs are made from it. Without it, links use the host and port a request came to.
        public_url: text('an absolute http(s) URL such as https://example.org', 'public_url: https://example.org')
          .url()
          .refine((u) => /^https?:\/\//.test(u), { error: 'expected an http or https URL. Fix: write e.g. https://example.org.' })
          .optional(),
        // Trust X-Forwarded-For and X-Forwarded-Proto from the proxy in front (only then does a request that reached the
        // proxy over HTTPS count as secure for password logins).
        trust_proxy: bool(false).default(false),
        max_body_size: intIn(1024, 256 * 1024 * 1024, 'a size in bytes', 2097152).default(2097152),
      },
      mapping('HTTP settings (public_url, trust_proxy, max_body_size)', 'http'),
    ),
);

const tls = section(
  z
    .strictObject(
      {
        cert: text('a path to a PEM certificate chain', 'fullchain.pem').min(1).optional(),
        key: text('a path to a PEM private key', 'privkey.pem').min(1).optional(),
        required: bool(true).default(true),
      },
      mapping('TLS settings', 'tls'),
    )
    .superRefine((t, ctx) => {
      if (t.cert !== undefined && t.key === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['cert'],
          input: t.cert,
          message:
            'a certificate needs its private key, but tls.key is missing. Fix: add key: path/to/privkey.pem under tls, or remove cert to use a generated self-signed certificate.',
        });
      }
      if (t.key !== undefined && t.cert === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['key'],
          input: t.key,
          message:
            'a private key needs its certificate, but tls.cert is missing. Fix: add cert: path/to/fullchain.pem under tls, or remove key to use a generated self-signed certificate.',
        });
      }
    }),
);

const auth = section(
  z.strictObject(
    {
      mechanisms: z
        .array(
          z.enum(SASL_MECHANISMS),
          hint('a list of SASL mechanism names', `write e.g. mechanisms: [SCRAM-SHA-256-PLUS, SCRAM-SHA-256]`),
        )
        .min(1, {
          error: `must name at least one mechanism. Fix: list some of ${SASL_MECHANISMS.join(', ')}, or remove mechanisms to offer all of them.`,
        })
        .superRefine(noDuplicates('mechanism'))
        .optional(),
      max_failures: intIn(1, 1000, 'a number of failed logins', 5).default(5),
      failure_window: intIn(1, 86400, 'a number of seconds', 60).default(60),
    },
    mapping('authentication settings', 'auth'),
  ),
);

const limits = section(
  z.strictObject(
    {
      // RFC 6120 §13.12 item 4: a server must accept stanzas of at least 10000 bytes.
      max_stanza_size: intIn(10000, 64 * 1024 * 1024, 'a size in bytes', 262144).default(262144),
      max_depth: intIn(4, 1000, 'an element nesting depth', 32).default(32),
      max_attributes: intIn(8, 1000, 'a number of attributes per element', 64).default(64),
      connection_timeout: intIn(1, 3600, 'a number of seconds', 60).default(60),
      max_sessions_per_account: intIn(1, 10000, 'a number of sessions', 10).default(10),
      rate: section(
        z.strictObject(
          {
            bytes_per_second: intIn(1, 2 ** 30, 'a number of bytes per second', 65536).default(65536),
            burst: intIn(1, 2 ** 30, 'a number of bytes', 262144).default(262144),
          },
          mapping('rate limit settings (bytes_per_second, burst)', 'rate'),
        ),
      ),
    },
    mapping('limits', 'limits'),
  ),
);

const MODULE_NAME = /^[a-z][a-z0-9_-]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

/**
 * `modules: [disco, ping]` or `modules: { ping: { interval: 60 }, disco: }`. In the map form an empty value or
 * `true` enables a module with no options and `false` disables it (handy for switching one off temporarily).
 * Module options themselves are checked by each module (validateModuleOptions), not here.
 */
const modules = z
  .unknown()
  .optional()
  .transform((value, ctx): Record<string, Record<string, unknown>> => {
    const out: Record<string, Record<string, unknown>> = {};
    const checkName = (name: unknown, path: (string | number)[]): name is string => {
      if (typeof name !== 'string' || !MODULE_NAME.test(name)) {
        ctx.addIssue({
          code: 'custom',
          path,
          input: name,
          message: `expected a module name (lowercase letters, digits, - and _), got ${describeValue(name)}. Fix: write a name such as ping.`,
        });
        return false;
      }
      return true;
    };
    if (value === undefined) {
      for (const name of STANDARD_MODULES) out[name] = {};
      return out;
    }
    if (value === null) return out;
    if (Array.isArray(value)) {
      value.forEach((name: unknown, i) => {
        if (!checkName(name, [i])) return;
        if (Object.hasOwn(out, name)) {
          ctx.addIssue({
            code: 'custom',
            path: [i],
            input: name,
            message: `module ${name} is listed twice. Fix: remove the repeated entry.`,
          });
          return;
        }
        out[name] = {};
      });
      return out;
    }
    if (isPlainObject(value)) {
      for (const [name, options] of Object.entries(value)) {
        if (!checkName(name, [name])) continue;
        if (options === null || options === true) out[name] = {};
        else if (options === false) continue;
        else if (isPlainObject(options)) out[name] = options;
        else {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            input: options,
            message: `expected the options of module ${name} as key: value pairs (or nothing), got ${describeValue(options)}. Fix: write ${name}: followed by indented options, or just ${name}: to use its defaults.`,
          });
        }
      }
      return out;
    }
    ctx.addIssue({
      code: 'custom',
      input: value,
      message: `expected a list of module names or a mapping of module name to options, got ${describeValue(value)}. Fix: write e.g. modules: [disco, ping].`,
    });
    return out;
  });

const log = section(
  z.strictObject(
    {
      level: z.enum(LOG_LEVELS).default('info'),
      format: z.enum(LOG_FORMATS).optional(),
    },
    mapping('logging settings (level, format)', 'log'),
  ),
);

/** The file as validated, before paths are resolved and defaults that depend on the environment are filled in. */
export const configFileSchema = section(
  z.strictObject(
    {
      hosts,
      data_dir: text('a folder path', './data').min(1).default('./data'),
      network_workers: intIn(0, 64, 'a number of processes', 1).default(0),
      storage,
      listeners,
      http,
      tls,
      auth,
      limits,
      modules,
      log,
    },
    hint('a mapping of settings', 'start the file with settings such as hosts: [example.org]'),
  ),
);

export type ConfigFile = z.output<typeof configFileSchema>;
