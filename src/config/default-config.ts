/** The example config written by `quire init` and shown in the docs. It must load as is (a test checks). */
export const DEFAULT_CONFIG_YAML = `# Quire configuration.
# Relative paths are resolved against the folder this file is in.
# Every setting except hosts has a default; the values shown below are those defaults unless noted.

# The domains this server serves (users are alice@<host>). Lowercase DNS names; localhost is fine for testing.
hosts:
  - localhost

# Where Quire keeps its database, generated certificates and uploads.
data_dir: ./data

# Processes that carry the client connections (sockets, TLS) for this one, so that the server uses more cores.
# 0 runs everything in one process; 1 is the right number on two cores (BENCHMARKS.md, "Using both cores").
network_workers: 0

storage:
  backend: sqlite          # sqlite (embedded, the default) | postgres | memory (lost on restart; for tests)
  path: quire.sqlite       # sqlite only; relative to data_dir
  # url: postgres://quire:secret@localhost:5432/quire   # postgres only, and then required

listeners:
  c2s:                     # client connections, upgraded with STARTTLS (RFC 6120)
    enabled: true
    host: '::'             # '::' listens on all IPv6 and IPv4 addresses
    port: 5222
  c2s_tls:                 # client connections with TLS from the first byte (XEP-0368)
    enabled: true
    host: '::'
    port: 5223
  http:                    # the web: Storage API, blogs and feeds (opened only when such a module is enabled)
    enabled: true
    host: '::'
    port: 5280
  https:                   # the same with TLS, using the certificate below
    enabled: true
    host: '::'
    port: 5281

http:
  # public_url: https://example.org   # where people reach the web listeners through a proxy; used for links in feeds
  trust_proxy: false       # trust X-Forwarded-For/-Proto from a reverse proxy in front (then HTTPS there counts as secure)
  max_body_size: 2097152   # bytes of one request body

tls:
  # Without cert and key, Quire generates a self-signed certificate for the hosts in data_dir.
  # Clients will warn about it: use a real certificate (e.g. from Let's Encrypt) in production.
  # cert: /etc/letsencrypt/live/example.org/fullchain.pem
  # key: /etc/letsencrypt/live/example.org/privkey.pem
  required: true           # refuse authentication before TLS

auth:
  # Allow only these SASL mechanisms (default: all of them). Known mechanisms:
  # SCRAM-SHA-512-PLUS, SCRAM-SHA-512, SCRAM-SHA-256-PLUS, SCRAM-SHA-256, SCRAM-SHA-1-PLUS, SCRAM-SHA-1, PLAIN
  # mechanisms: [SCRAM-SHA-512-PLUS, SCRAM-SHA-512, SCRAM-SHA-256-PLUS, SCRAM-SHA-256]
  max_failures: 5          # failed logins per address or account within failure_window before throttling
  failure_window: 60       # seconds

limits:
  max_stanza_size: 262144  # bytes; RFC 6120 requires at least 10000
  max_depth: 32            # XML element nesting
  max_attributes: 64       # per element
  connection_timeout: 60   # seconds to finish TLS, authentication and resource binding
  max_sessions_per_account: 10
  rate:                    # inbound bytes per connection
    bytes_per_second: 65536
    burst: 262144

# Enabled features, in order. Either a list of names, or a mapping of name to options:
#   modules:
#     ping:
#     disco:
#     register: { }
# Without a modules key, Quire enables every module listed here except the commented-out ones.
modules:
  - roster                 # RFC 6121 rosters
  - presence               # RFC 6121 subscriptions and presence
  - disco                  # XEP-0030 service discovery
  - caps                   # XEP-0115 entity capabilities
  - offline                # XEP-0160 offline messages
  - vcard                  # XEP-0054 vcard-temp
  - private                # XEP-0049 private XML storage
  - blocking               # XEP-0191 blocking command
  - stanza_id              # XEP-0359 stanza ids
  - carbons                # XEP-0280 message carbons: every device sees both sides of a chat
  - csi                    # XEP-0352 client state indication: less traffic to idle phones
  - mam                    # XEP-0313 message archive (history sync), XEP-0441 preferences
  - pep                    # XEP-0163 personal eventing: OMEMO keys, avatars, bookmarks on each account
  - bookmarks              # XEP-0402 bookmarks in PEP, kept in step with XEP-0048 private-storage bookmarks
  - avatars                # XEP-0398: PEP avatars (XEP-0084) and vCard photos (XEP-0153) converted both ways
  - vcard4                 # XEP-0292 vCard4 in PEP (urn:xmpp:vcard4), also answered to the IQ-based get
  - pubsub                 # XEP-0060 publish-subscribe service on pubsub.<host>
  - pubsub_mam             # XEP-0442: node items (and item history) queried, paged and searched with MAM (XEP-0431)
  - storage                # Storage: PEP and pubsub nodes over HTTP (/storage), change feeds, item history, quotas
  - microblog              # XEP-0277 blogs on PEP: posts checked and normalized, a comments node per post
  - social_feed            # XEP-0472 social feeds on pubsub.<host>: the base profile, checked posts, comments
  - blog                   # blogs on the web (/blog): pages, Atom/RSS/JSON feeds, EPUB, AtomPub and Micropub
  - last                   # XEP-0012 last activity
  - ping                   # XEP-0199
  - version                # XEP-0092 software version
  - time                   # XEP-0202 entity time
  - sm                     # XEP-0198 stream management: acks and resumption
  - adhoc                  # XEP-0050 ad-hoc commands (map form: adhoc: { admins: [you@example.org] })
  - app_tokens             # tokens for apps that use the HTTP APIs, made with ad-hoc commands or quire token
  # - register             # XEP-0077 in-band registration: lets anyone create an account
  # - contact_addresses    # XEP-0157: in the map form, with e.g. abuse: [mailto:abuse@example.org]

log:
  level: info              # trace | debug | info | warn | error | fatal
  # format: pretty         # pretty | json (default: pretty on a terminal, json otherwise)
`;
