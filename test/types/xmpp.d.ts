// Minimal types for the parts of @xmpp/client the tests use (the package ships none).
declare module '@xmpp/xml' {
  export class Element {
    name: string;
    attrs: Record<string, string>;
    children: (Element | string)[];
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildText(name: string, xmlns?: string): string | null;
    getChildElements(): Element[];
    text(): string;
    toString(): string;
  }
  export default function xml(name: string, attrs?: Record<string, string | undefined> | null, ...children: (Element | string)[]): Element;
}

declare module '@xmpp/client' {
  import type { Element } from '@xmpp/xml';
  export { default as xml } from '@xmpp/xml';
  export interface Client {
    start(): Promise<unknown>;
    stop(): Promise<void>;
    send(element: Element): Promise<void>;
    on(event: 'stanza', listener: (stanza: Element) => void): this;
    on(event: 'error', listener: (err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
    once(event: string, listener: (...args: unknown[]) => void): this;
    removeListener(event: string, listener: (...args: never[]) => void): this;
    iqCaller: {
      request(element: Element, timeout?: number): Promise<Element>;
      get(element: Element, to?: string, timeout?: number): Promise<Element>;
      set(element: Element, to?: string, timeout?: number): Promise<Element>;
    };
    reconnect: { stop(): void };
    jid: { toString(): string; bare(): { toString(): string }; local: string; resource: string } | null;
    status: string;
  }
  export function client(options: { service: string; domain?: string; username?: string; password?: string; resource?: string }): Client;
}

declare module '@xmpp/xml/lib/parse.js' {
  import type { Element } from '@xmpp/xml';
  /** Parses one XML document into an element tree (ltx), as the client would send it. */
  export default function parse(data: string): Element;
}
