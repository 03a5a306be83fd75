// The server's one HTTP stack (fastify) for everything web: the Storage API, blogs and feeds, later WebSocket and BOSH.
// Modules are set up once per host, but HTTP routes belong to the server: a module registers its routes once under a
// key, and finds the host a request is for itself (from the JID in the path, or the Host header).
// It listens on listeners.http (plain) and listeners.https (TLS with the server's certificate), and only when an
// enabled module registered routes: a server without web modules opens no web port.
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../core/logger.js';
import type { Server } from '../core/server.js';
import { isTemporaryStorageError } from '../core/storage-api.js';
import { HttpAuthenticator } from './auth.js';
import { HttpError, sendError } from './errors.js';

export interface HttpOptions {
  /** Where people reach the web listeners, for absolute links; else taken from each request. */
  publicUrl?: string;
  trustProxy: boolean;
  maxBodySize: number;
}

export interface HttpListener {
  name: string;
  host: string;
  port: number;
  /** The certificate and key (PEM) for this listener (https), or null (http). */
  tls: { cert: string; key: string } | null;
}

export type HttpPlugin = (app: FastifyInstance) => void | Promise<void>;

/** Media types whose bodies are XML documents, handed to routes as text. */
const XML_TYPES = /^(?:application\/(?:[\w.+-]+\+)?xml|text\/xml)\b/;

const services = new WeakMap<Server, HttpService>();

/** The HTTP stack of a server (start.ts attaches one before modules are set up). */
export function httpOf(server: Server): HttpService {
  let service = services.get(server);
  if (!service) {
    // A server started without start.ts (unit tests) still lets modules register; nothing listens.
    service = new HttpService(server, { trustProxy: false, maxBodySize: 2 * 1024 * 1024 });
    services.set(server, service);
  }
  return service;
}

export function attachHttp(server: Server, service: HttpService): void {
  services.set(server, service);
}

export class HttpService {
  readonly app: FastifyInstance;
  /** Who a request comes from (Basic, Bearer app tokens). */
  readonly auth: HttpAuthenticator;
  private readonly log: Logger;
  private readonly keys = new Set<string>();
  private servers: (http.Server | https.Server)[] = [];
  /** The bound port of each listener, once listening. */
  private ports: Record<string, number> = {};

  constructor(
    server: Server,
    readonly options: HttpOptions,
  ) {
    this.log = server.log.child({ component: 'http' });
    this.auth = new HttpAuthenticator(server);
    this.app = Fastify({
      trustProxy: options.trustProxy,
      bodyLimit: options.maxBodySize,
      // Our own listeners (serverFactory below) feed the same routes from http and https.
      serverFactory: (handler) => {
        const server = http.createServer(handler);
        this.servers.push(server);
        return server;
      },
      // No fastify logger (logger: false, its default), so no request logging to turn off: the option that did
      // (disableRequestLogging) is deprecated and printed a warning on every start.
      return503OnClosing: true,
    });
    this.app.addContentTypeParser(XML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    this.app.setNotFoundHandler((request, reply) => sendError(request, reply, new HttpError(404, 'not-found', `nothing at ${request.method} ${request.url}`)));
    this.app.setErrorHandler((error, request, reply) => this.fail(error, request, reply));
  }

  /** Registers a module's routes once for the whole server, however many hosts set the module up. */
  register(key: string, plugin: HttpPlugin): void {
    if (this.keys.has(key)) return;
    this.keys.add(key);
    void this.app.register(async (instance) => plugin(instance));
  }

  get hasRoutes(): boolean {
    return this.keys.size > 0;
  }

  /** The absolute URL of the site for a request: public_url when configured, else the request's own scheme and host. */
  baseUrl(request: FastifyRequest): string {
    if (this.options.publicUrl) return this.options.publicUrl.replace(/\/+$/, '');
    return `${request.protocol}://${request.host}`;
  }

  /**
   * The absolute URL of the site for links made outside a request (the web page of a post published over XMPP):
   * public_url when configured, else the host on the plain listener's port (or the TLS one's); undefined when no
   * web listener is open.
   */
  siteUrl(host: string): string | undefined {
    if (this.options.publicUrl) return this.options.publicUrl.replace(/\/+$/, '');
    if (this.ports.http) return `http://${host}:${this.ports.http}`;
    if (this.ports.https) return `https://${host}:${this.ports.https}`;
    return undefined;
  }

  /** Starts the listeners; resolves the bound port of each. */
  async listen(listeners: HttpListener[]): Promise<Record<string, number>> {
    await this.app.ready();
    const ports: Record<string, number> = {};
    for (const listener of listeners) {
      let server: http.Server | https.Server;
      if (listener.tls) {
        server = https.createServer({ cert: listener.tls.cert, key: listener.tls.key, minVersion: 'TLSv1.2' }, (req, res) => this.app.routing(req, res));
        this.servers.push(server);
      } else {
        server = this.servers[0] as http.Server;
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: listener.host, port: listener.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      ports[listener.name] = (server.address() as AddressInfo).port;
    }
    this.ports = { ...this.ports, ...ports };
    return ports;
  }

  async close(): Promise<void> {
    await this.app.close();
    await Promise.all(this.servers.filter((s) => s.listening).map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of this.servers) s.closeAllConnections?.();
  }

  private fail(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
    if (error instanceof HttpError) return sendError(request, reply, error);
    const e = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
    if (isTemporaryStorageError(error)) {
      // Like the wait-type internal-server-error over XMPP: try again later.
      return sendError(request, reply, new HttpError(503, 'service-unavailable', 'storage is unreachable; try again later', { 'Retry-After': '5' }));
    }
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(request, reply, new HttpError(413, 'payload-too-large', `the body is larger than ${this.options.maxBodySize} bytes`));
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(request, reply, new HttpError(415, 'unsupported-media-type', e.message));
    if (e.validation || (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500)) {
      return sendError(request, reply, new HttpError(e.statusCode ?? 400, 'bad-request', e.message));
    }
    this.log.error({ err: error, url: request.url, method: request.method }, 'HTTP request failed');
    return sendError(request, reply, new HttpError(500, 'internal-server-error', 'the server could not do that'));
  }
}
