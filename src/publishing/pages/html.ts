// HTML templates with escaping by default: html`<p>${text}</p>` escapes `text` unless it is SafeHtml, which only
// this file, the sanitizer's output (through trusted()) and nested html`` templates produce.

export class SafeHtml {
  constructor(readonly html: string) {}
  toString(): string {
    return this.html;
  }
}

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text safe in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.html;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** Markup that is safe already: the sanitizer's output. Nothing else goes through here. */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A URL from a post (author URI, enclosure, reply target) fit for an href: http, https, mailto, xmpp or a
 *  relative reference; anything else becomes '#'. */
export function safeUrl(url: string | undefined): string {
  if (!url) return '#';
  const compact = url.replace(/[\u0000-\u0020\u007f]/g, '');
  if (/^(https?|mailto|xmpp):/i.test(compact)) return url.trim();
  if (/^[a-z][a-z0-9+.-]*:/i.test(compact) || compact.startsWith('//') || compact.startsWith('\\')) return '#';
  return url.trim();
}
