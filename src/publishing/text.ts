// Plain text out of HTML: the text content XEP-0277 wants beside an XHTML one, excerpts on index pages, and
// JSON Feed's content_text.
import { parseDocument, DomUtils } from 'htmlparser2';

type DomNode = ReturnType<typeof parseDocument>['children'][number];

const BLOCKS = new Set(['address', 'article', 'aside', 'blockquote', 'details', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'nav', 'ol', 'p', 'pre', 'section', 'summary', 'table', 'tr', 'ul']);
const SKIPPED = new Set(['script', 'style', 'template', 'head', 'title', 'noscript', 'iframe', 'object', 'svg', 'math']);

function walk(node: DomNode, parts: string[], pre: boolean): void {
  if (DomUtils.isText(node)) {
    parts.push(pre ? node.data : node.data.replace(/\s+/g, ' '));
    return;
  }
  if (!DomUtils.isTag(node)) return;
  const name = node.name.toLowerCase();
  if (SKIPPED.has(name)) return;
  if (name === 'br') {
    parts.push('\n');
    return;
  }
  if (name === 'img') {
    if (node.attribs.alt) parts.push(node.attribs.alt);
    return;
  }
  const block = BLOCKS.has(name);
  if (block) parts.push('\n\n');
  if (name === 'li') parts.push('• ');
  for (const child of node.children) walk(child, parts, pre || name === 'pre');
  if (block) parts.push('\n\n');
  else if (name === 'td' || name === 'th') parts.push('\t');
}

/** The readable text of an HTML fragment: paragraphs separated by a blank line, line breaks kept, other whitespace
 *  collapsed, scripts and styles left out. */
export function htmlToText(html: string): string {
  const document = parseDocument(html, { decodeEntities: true, lowerCaseTags: true });
  const parts: string[] = [];
  for (const child of document.children) walk(child, parts, false);
  return parts
    .join('')
    .split('\n')
    .map((line) => line.replace(/^[ \t]+|[ \t]+$/g, ''))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/** At most `max` characters of text, cut at a word boundary, with an ellipsis when cut. */
export function excerpt(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return (space > max * 0.6 ? cut.slice(0, space) : cut).replace(/[\s.,;:!?-]+$/, '') + '…';
}
