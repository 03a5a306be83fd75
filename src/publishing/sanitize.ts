// Post content as HTML that is safe on Quire's pages, in feeds and in EPUB: sanitize-html with an allow-list.
// Only the elements and attributes below survive; URLs must be http, https, mailto, xmpp or relative (images may
// also be raster data: URLs); no style, no event handlers, no scripts, frames, objects, forms, SVG or MathML.
// Links to other sites get rel="nofollow noopener". The pages' Content-Security-Policy (csp.ts) is the second
// line of defence: it allows no script at all.
import sanitizeHtmlLibrary from 'sanitize-html';
import { escapeText } from '../core/xml/element.js';
import type { Content, Post, TextConstruct } from './post.js';
import { htmlToText } from './text.js';

const ALLOWED_TAGS = [
  'p', 'br', 'hr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'code', 'kbd', 'samp', 'var',
  'em', 'strong', 'b', 'i', 'u', 's', 'del', 'ins', 'mark', 'small', 'sub', 'sup', 'q', 'cite', 'abbr', 'dfn',
  'time', 'span', 'div', 'ul', 'ol', 'li', 'dl', 'dt', 'dd', 'a', 'img', 'figure', 'figcaption',
  'table', 'caption', 'colgroup', 'col', 'thead', 'tbody', 'tfoot', 'tr', 'th', 'td', 'details', 'summary',
  'ruby', 'rt', 'rp', 'bdi', 'bdo', 'wbr',
];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': ['lang', 'dir', 'title'],
  a: ['href', 'hreflang', 'rel'],
  img: ['src', 'alt', 'width', 'height'],
  ol: ['start', 'reversed', 'type'],
  li: ['value'],
  td: ['colspan', 'rowspan', 'headers'],
  th: ['colspan', 'rowspan', 'headers', 'scope', 'abbr'],
  col: ['span'],
  colgroup: ['span'],
  time: ['datetime'],
  del: ['cite', 'datetime'],
  ins: ['cite', 'datetime'],
  q: ['cite'],
  blockquote: ['cite'],
  details: ['open'],
};

/** Elements dropped with everything inside them (other disallowed elements are dropped, their text kept). */
const DROPPED_WITH_CONTENT = ['script', 'style', 'textarea', 'option', 'select', 'noscript', 'noembed', 'noframes', 'template', 'title', 'head', 'iframe', 'object', 'embed', 'applet', 'svg', 'math', 'xmp', 'plaintext', 'frameset', 'button'];

/** Raster images only: an SVG data: URL can carry script when opened on its own. */
const SAFE_DATA_IMAGE = /^data:image\/(png|gif|jpeg|webp|avif);base64,[a-z0-9+/=\s]*$/i;

export interface SanitizeOptions {
  /** Relative URLs are resolved against it (a post's web page, or the feed an import came from). */
  baseUrl?: string;
  /** Links to other origins than this one get rel="nofollow noopener"; without it, every absolute http(s) link. */
  siteOrigin?: string;
}

function resolve(value: string, baseUrl: string | undefined): string {
  if (!baseUrl) return value;
  // Only what has no scheme is resolved: a "javascript:" URL stays as it is, for the scheme check to drop.
  if (/^[a-z][a-z0-9+.-]*:/i.test(value.replace(/[\u0000-\u0020\u007f]/g, ''))) return value;
  try {
    return new URL(value, baseUrl).href;
  } catch {
    return value;
  }
}

function isExternal(href: string, siteOrigin: string | undefined): boolean {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return false;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
  return siteOrigin === undefined || url.origin !== siteOrigin;
}

/** HTML (from an html or xhtml content, or an imported feed) as safe HTML. */
export function sanitizeHtml(html: string, options: SanitizeOptions = {}): string {
  const { baseUrl, siteOrigin } = options;
  return sanitizeHtmlLibrary(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    allowedSchemes: ['http', 'https', 'mailto', 'xmpp'],
    allowedSchemesByTag: { img: ['http', 'https', 'data'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    nonTextTags: DROPPED_WITH_CONTENT,
    enforceHtmlBoundary: false,
    parseStyleAttributes: false,
    transformTags: {
      a: (tagName, attribs) => {
        const out: Record<string, string> = { ...attribs };
        delete out.rel;
        if (out.href !== undefined) {
          out.href = resolve(out.href, baseUrl);
          if (isExternal(out.href, siteOrigin)) out.rel = 'nofollow noopener';
        }
        return { tagName, attribs: out };
      },
      img: (tagName, attribs) => {
        const out: Record<string, string> = { ...attribs };
        if (out.src !== undefined) {
          const compact = out.src.replace(/[\u0000-\u0020\u007f]/g, '');
          if (/^data:/i.test(compact)) {
            if (SAFE_DATA_IMAGE.test(out.src.trim())) out.src = out.src.trim();
            else delete out.src;
          } else {
            out.src = resolve(out.src, baseUrl);
          }
        }
        return { tagName, attribs: out };
      },
      blockquote: (tagName, attribs) => ({ tagName, attribs: attribs.cite === undefined ? attribs : { ...attribs, cite: resolve(attribs.cite, baseUrl) } }),
    },
    // An image whose source was refused is left out entirely.
    exclusiveFilter: (frame) => frame.tag === 'img' && !frame.attribs.src,
  });
}

/** Plain text as HTML paragraphs: a blank line starts a paragraph, a line break stays one, http(s) URLs become
 *  links. Everything is escaped. */
export function textToHtml(text: string, options: SanitizeOptions = {}): string {
  const paragraphs = text.replace(/\r\n?/g, '\n').split(/\n[ \t]*\n+/).map((p) => p.trim()).filter(Boolean);
  const html = paragraphs.map((p) => `<p>${linkify(p).replace(/\n/g, '<br>')}</p>`).join('\n');
  // Through the sanitizer as well, for the rel attributes of the links (and in case a URL tricked linkify).
  return sanitizeHtml(html, options);
}

function escapeAttribute(value: string): string {
  return escapeText(value).replace(/"/g, '&quot;');
}

function linkify(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(/https?:\/\/[^\s<>"]+/g)) {
    let url = m[0];
    // Punctuation that ends a sentence, and a closing parenthesis without its opening one, are not part of it.
    url = url.replace(/[.,;:!?'"]+$/, '');
    if (url.endsWith(')') && !url.includes('(')) url = url.slice(0, -1);
    out += escapeText(text.slice(last, m.index)) + `<a href="${escapeAttribute(url)}">${escapeText(url)}</a>`;
    last = m.index! + url.length;
  }
  return out + escapeText(text.slice(last));
}

/** A content or Text construct as safe HTML, whatever its type. Out-of-line and other media types give ''. */
export function contentToHtml(content: Content | TextConstruct, options: SanitizeOptions = {}): string {
  if ('src' in content && content.src !== undefined) return '';
  if (content.type === 'html' || content.type === 'xhtml') return sanitizeHtml(content.value, options);
  if (content.type === 'text' || /^text\//i.test(content.type)) return textToHtml(content.value, options);
  return '';
}

/** The richest content of a post: xhtml, then html, then text (XEP-0277 clients publish text and xhtml). */
export function bestContent(post: Post): Content | undefined {
  const inline = post.contents.filter((c) => c.src === undefined);
  return inline.find((c) => c.type === 'xhtml') ?? inline.find((c) => c.type === 'html') ?? inline.find((c) => c.type === 'text') ?? inline[0];
}

/** The body of a post as safe HTML: its best content, else nothing (a microblog post that is only a title). */
export function postHtml(post: Post, options: SanitizeOptions = {}): string {
  const content = bestContent(post);
  return content ? contentToHtml(content, options) : '';
}

/** A title or other Text construct as plain text (titles are shown as text everywhere). */
export function textConstructToText(text: TextConstruct): string {
  return text.type === 'text' ? text.value : htmlToText(text.value);
}
