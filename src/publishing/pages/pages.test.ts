import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument, DomUtils } from 'htmlparser2';
import { collectSeries } from '../series.js';
import { hostilePost, testBlog, testPost } from '../test-fixtures.js';
import { contentSecurityPolicy, securityHeaders } from './csp.js';
import { escapeHtml, html, safeUrl, trusted } from './html.js';
import { renderArticle, renderAuthor, renderError, renderIndex, renderSeries, renderTag } from './pages.js';
import { STYLESHEET } from './stylesheet.js';

const blog = testBlog();

type Dom = ReturnType<typeof parseDocument>;
type DomElement = ReturnType<typeof DomUtils.getElementsByTagName>[number];

function dom(page: string): Dom {
  return parseDocument(page, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true });
}
function all(doc: Dom, test: (el: DomElement) => boolean = () => true): DomElement[] {
  return DomUtils.findAll(test, doc.children);
}
function byTag(doc: Dom, name: string): DomElement[] {
  return all(doc, (el) => el.name === name);
}
function text(el: DomElement): string {
  return DomUtils.textContent(el).replace(/\s+/g, ' ').trim();
}

/** What the CSP of csp.ts allows, checked on the page a browser would build: no script, no inline style, no
 *  frames, forms or <base>; styles from the page's origin; images from it, https or data:. */
function assertSatisfiesCsp(page: string): void {
  const doc = dom(page);
  const origin = new URL(byTag(doc, 'link').find((l) => l.attribs.rel === 'canonical')!.attribs.href).origin;
  for (const el of all(doc)) {
    assert.ok(!['script', 'style', 'iframe', 'frame', 'object', 'embed', 'form', 'base', 'applet'].includes(el.name), `<${el.name}> on the page`);
    for (const name of Object.keys(el.attribs)) {
      assert.ok(!/^on/.test(name), `${name} on <${el.name}>`);
      assert.notEqual(name, 'style', `style on <${el.name}>`);
    }
    if (el.name === 'link' && el.attribs.rel === 'stylesheet') assert.equal(new URL(el.attribs.href).origin, origin);
    if (el.name === 'img') assert.match(el.attribs.src, /^(https:|data:image\/)/);
    if (el.name === 'a' && el.attribs.href) assert.match(el.attribs.href.replace(/[\u0000-\u0020]/g, ''), /^(https?:|mailto:|xmpp:|#|\/|[^:]*$)/i);
  }
}

function assertPageBasics(page: string, canonical: string): Dom {
  assert.ok(page.startsWith('<!DOCTYPE html>\n<html lang="en">'));
  const doc = dom(page);
  const metas = byTag(doc, 'meta');
  assert.ok(metas.some((m) => m.attribs.charset === 'utf-8'));
  assert.ok(metas.some((m) => m.attribs.name === 'viewport' && m.attribs.content === 'width=device-width, initial-scale=1'));
  const links = byTag(doc, 'link');
  assert.deepEqual(links.filter((l) => l.attribs.rel === 'canonical').map((l) => l.attribs.href), [canonical]);
  assert.deepEqual(links.filter((l) => l.attribs.rel === 'stylesheet').map((l) => l.attribs.href), ['https://montague.lit/blog/style.css']);
  const feeds = links.filter((l) => l.attribs.rel === 'alternate').map((l) => [l.attribs.type, l.attribs.href]);
  for (const expected of [['application/atom+xml', 'https://montague.lit/blog/romeo/feed.atom'], ['application/rss+xml', 'https://montague.lit/blog/romeo/feed.rss'], ['application/feed+json', 'https://montague.lit/blog/romeo/feed.json']])
    assert.ok(feeds.some((f) => f[0] === expected[0] && f[1] === expected[1]), `${expected} in ${JSON.stringify(feeds)}`);
  assert.equal(byTag(doc, 'main').length, 1);
  assert.equal(text(byTag(doc, 'title')[0]).length > 0, true);
  assertSatisfiesCsp(page);
  return doc;
}

test('the CSP forbids scripts, inline styles, frames, plugins, forms and <base>', () => {
  assert.equal(contentSecurityPolicy(), "default-src 'none'; style-src 'self'; img-src 'self' https: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");
  assert.equal(securityHeaders()['content-security-policy'], contentSecurityPolicy());
  assert.equal(securityHeaders()['x-content-type-options'], 'nosniff');
});

test('templates escape every value unless it is already safe HTML', () => {
  const value = `<b title="x">'&'</b>`;
  assert.equal(html`<p title="${value}">${value}</p>`.html, '<p title="&lt;b title=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;">&lt;b title=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/b&gt;</p>');
  assert.equal(html`${[1, ' < ', html`<i>ok</i>`, null, undefined, false, trusted('<br>')]}`.html, '1 &lt; <i>ok</i><br>');
  assert.equal(escapeHtml(`"'<>&`), '&quot;&#39;&lt;&gt;&amp;');
  for (const bad of ['javascript:alert(1)', ' jav\tascript:x', 'data:text/html,x', '//evil.example', 'vbscript:x', undefined, ''])
    assert.equal(safeUrl(bad), '#', String(bad));
  for (const good of ['https://a.example/', 'http://a.example/', 'mailto:a@b', 'xmpp:a@b?;node=x', '/path', 'rel/path?x=1', '#frag'])
    assert.equal(safeUrl(good), good);
});

test('the index lists posts with paging links, feeds and a canonical URL', () => {
  const posts = [testPost('a', { categories: [{ term: 'xmpp', label: 'XMPP' }] }), testPost('b')];
  const page = renderIndex({ blog, posts, paging: { page: 2, pageCount: 3 } });
  const doc = assertPageBasics(page, 'https://montague.lit/blog/romeo/page/2');
  assert.equal(text(byTag(doc, 'title')[0]), 'Romeo\'s <Journal> & "Notes" (page 2)');
  const headLinks = byTag(doc, 'link');
  assert.equal(headLinks.find((l) => l.attribs.rel === 'prev')?.attribs.href, 'https://montague.lit/blog/romeo/');
  assert.equal(headLinks.find((l) => l.attribs.rel === 'next')?.attribs.href, 'https://montague.lit/blog/romeo/page/3');
  const pager = all(doc, (el) => el.attribs.class === 'pager')[0];
  assert.deepEqual(byTag(dom(DomUtils.getOuterHTML(pager)), 'a').map((a) => [a.attribs.rel, a.attribs.href, text(a)]),
    [['prev', 'https://montague.lit/blog/romeo/', 'Newer posts'], ['next', 'https://montague.lit/blog/romeo/page/3', 'Older posts']]);
  assert.deepEqual(all(doc, (el) => el.name === 'h2').map((h) => text(h)), ['Post a', 'Post b']);
  const tag = byTag(doc, 'a').find((a) => a.attribs.rel === 'tag')!;
  assert.deepEqual([tag.attribs.href, text(tag)], ['https://montague.lit/blog/romeo/tag/xmpp', 'XMPP']);
  assert.ok(byTag(doc, 'time').some((t) => t.attribs.datetime === '2026-12-01T10:00:00Z' && text(t) === 'December 1, 2026'));
  assert.equal(all(dom(renderIndex({ blog, posts: [], paging: { page: 1, pageCount: 1 } })), (el) => el.attribs.class === 'pager').length, 0);
});

test('a hostile post renders as text and sanitized markup, on every page that shows it', () => {
  const post = hostilePost();
  const pages = [
    renderArticle({ blog, post, comments: [{ post: hostilePost(), publisher: 'mallory@evil.example' }] }),
    renderIndex({ blog, posts: [post], paging: { page: 1, pageCount: 1 } }),
    renderTag({ blog, tag: '<script>alert(1)</script>', posts: [post], paging: { page: 1, pageCount: 1 } }),
    renderAuthor({ blog, posts: [post], paging: { page: 1, pageCount: 1 }, about: '<script>alert(1)</script>' }),
  ];
  for (const page of pages) {
    assertSatisfiesCsp(page);
    // Markup from the post only appears escaped, as text.
    assert.doesNotMatch(page, /<script|<iframe|<img src=x/i);
    for (const el of all(dom(page))) for (const value of Object.values(el.attribs)) assert.doesNotMatch(value, /javascript:/i);
  }
  const doc = dom(pages[0]);
  assert.equal(text(byTag(doc, 'h1')[0]), '<script>alert("title")</script> & \'quotes\' "double"');
  assert.equal(text(byTag(doc, 'title')[0]), '<script>alert("title")</script> & \'quotes\' "double" · Romeo\'s <Journal> & "Notes"');
  assert.ok(byTag(doc, 'a').some((a) => a.attribs.href === 'https://montague.lit/rel' && text(a) === 'relative'));
  assert.ok(byTag(doc, 'a').some((a) => a.attribs.rel === 'tag' && text(a) === '<b>label</b>'));
  assert.equal(text(byTag(dom(pages[2]), 'h1')[0]), 'Tagged “<script>alert(1)</script>”');
});

test('an article shows its comments, marking those whose author is not their publisher (XEP-0277 §security)', () => {
  const post = testPost('p', {
    links: [{ rel: 'replies', title: 'comments', href: 'xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fp' }, { rel: 'enclosure', href: 'https://montague.lit/a.jpg', type: 'image/jpeg', title: 'Verona' }, { rel: 'enclosure', href: 'https://montague.lit/a.mp3', type: 'audio/mpeg', length: 10 }],
    inReplyTo: [{ ref: 'tag:capulet.lit,2026:1', href: 'https://capulet.lit/1' }],
  });
  const comments = [
    { post: testPost('c1', { authors: [{ name: 'Juliet', uri: 'xmpp:juliet@capulet.lit' }], contents: [{ type: 'text', value: 'She is so pretty!' }] }), publisher: 'juliet@capulet.lit' },
    { post: testPost('c2', { authors: [{ name: 'Juliet', uri: 'xmpp:juliet@capulet.lit' }], contents: [{ type: 'text', value: 'fake' }] }), publisher: 'tybalt@capulet.lit' },
  ];
  const page = renderArticle({ blog, post, comments });
  const doc = assertPageBasics(page, 'https://montague.lit/blog/romeo/p');
  const items = all(doc, (el) => el.attribs.class === 'comment');
  assert.equal(items.length, 2);
  assert.match(text(items[0]), /^Juliet · December 1, 2026 She is so pretty!$/);
  assert.match(text(items[1]), /^Juliet \(unverified\)/);
  assert.equal(all(dom(DomUtils.getOuterHTML(items[1])), (el) => el.attribs.class === 'unverified')[0].attribs.title, 'published by tybalt@capulet.lit');
  assert.ok(byTag(doc, 'a').some((a) => a.attribs.href === 'xmpp:pubsub.montague.lit?;node=urn%3Axmpp%3Amicroblog%3A0%3Acomments%2Fp'));
  assert.ok(byTag(doc, 'a').some((a) => a.attribs.href === 'https://capulet.lit/1'), 'in reply to');
  assert.ok(byTag(doc, 'img').some((i) => i.attribs.src === 'https://montague.lit/a.jpg' && i.attribs.alt === 'Verona'));
  assert.ok(byTag(doc, 'a').some((a) => a.attribs.href === 'https://montague.lit/a.mp3' && a.attribs.type === 'audio/mpeg'));
  assert.match(text(all(doc, (el) => el.attribs.id === 'comments')[0]), /^Comments \(2\)/);
  assert.match(renderArticle({ blog, post: testPost('q'), comments: [] }), /No comments yet\./);
});

test('a chapter links to the previous and next chapters and the series index', () => {
  const chapters = [1, 2, 3].map((n) => testPost(`ch${n}`, { published: `2026-12-0${n}T10:00:00Z`, series: { id: 'tempest', title: 'The Tempest' } }));
  const series = collectSeries(chapters).get('tempest')!;
  const doc = dom(renderArticle({ blog, post: chapters[1], comments: [], series }));
  const nav = all(doc, (el) => el.attribs.class === 'series')[0];
  assert.match(text(nav), /^Chapter 2 of 3 in The Tempest ← Post ch1 · Post ch3 →$/);
  const links = byTag(dom(DomUtils.getOuterHTML(nav)), 'a').map((a) => [a.attribs.rel, a.attribs.href]);
  assert.deepEqual(links, [['index', 'https://montague.lit/blog/romeo/series/tempest'], ['prev', 'https://montague.lit/blog/romeo/ch1'], ['next', 'https://montague.lit/blog/romeo/ch3']]);
  const head = byTag(doc, 'link');
  assert.equal(head.find((l) => l.attribs.rel === 'prev')?.attribs.href, 'https://montague.lit/blog/romeo/ch1');
  assert.equal(head.find((l) => l.attribs.rel === 'next')?.attribs.href, 'https://montague.lit/blog/romeo/ch3');
  const first = all(dom(renderArticle({ blog, post: chapters[0], comments: [], series })), (el) => el.attribs.class === 'series')[0];
  assert.match(text(first), /^Chapter 1 of 3 in The Tempest Post ch2 →$/);

  const index = renderSeries({ blog, series });
  const idoc = assertPageBasics(index, 'https://montague.lit/blog/romeo/series/tempest');
  assert.equal(text(byTag(idoc, 'h1')[0]), 'The Tempest');
  assert.deepEqual(byTag(idoc, 'li').map((li) => text(li)), ['Post ch1 December 1, 2026', 'Post ch2 December 2, 2026', 'Post ch3 December 3, 2026']);
  assert.ok(byTag(idoc, 'a').some((a) => a.attribs.href === 'https://montague.lit/blog/romeo/series/tempest/book.epub' && a.attribs.type === 'application/epub+zip'));
});

test('tag and author pages have their own canonical URLs and feeds', () => {
  const tagPage = renderTag({ blog, tag: 'xmpp', posts: [testPost('a')], paging: { page: 1, pageCount: 2 } });
  const tdoc = assertPageBasics(tagPage, 'https://montague.lit/blog/romeo/tag/xmpp');
  const feeds = byTag(tdoc, 'link').filter((l) => l.attribs.rel === 'alternate').map((l) => l.attribs.href);
  assert.deepEqual(feeds.slice(0, 3), ['https://montague.lit/blog/romeo/tag/xmpp/feed.atom', 'https://montague.lit/blog/romeo/tag/xmpp/feed.rss', 'https://montague.lit/blog/romeo/tag/xmpp/feed.json']);
  assert.equal(byTag(tdoc, 'link').find((l) => l.attribs.rel === 'next')?.attribs.href, 'https://montague.lit/blog/romeo/tag/xmpp/page/2');
  const authorPage = renderAuthor({ blog, posts: [], paging: { page: 1, pageCount: 1 }, about: 'Of Verona.\n\nLoves Juliet.' });
  const adoc = assertPageBasics(authorPage, 'https://montague.lit/blog/romeo/about');
  assert.equal(text(byTag(adoc, 'h1')[0]), 'Romeo Montague');
  assert.deepEqual(byTag(adoc, 'p').map(text).slice(2, 5), ['Of Verona.', 'Loves Juliet.', 'On XMPP: romeo@montague.lit']);
  assert.ok(byTag(adoc, 'a').some((a) => a.attribs.href === 'xmpp:romeo@montague.lit'));
  assertPageBasics(renderError(blog, 404, 'No such post'), 'https://montague.lit/blog/romeo/');
});

test('long posts are excerpted on list pages; summaries win', () => {
  const long = testPost('long', { contents: [{ type: 'text', value: 'word '.repeat(1000) }] });
  const doc = dom(renderIndex({ blog, posts: [long, testPost('s', { summary: { type: 'text', value: 'In short.' } })], paging: { page: 1, pageCount: 1 } }));
  const bodies = all(doc, (el) => el.attribs.class === 'content').map(text);
  assert.ok(bodies[0].length < 500 && bodies[0].endsWith('…Continue reading'), bodies[0]);
  assert.equal(bodies[1], 'In short.');
});

test('the stylesheet is made for phones and has no remote resources', () => {
  assert.match(STYLESHEET, /max-width: 42rem/);
  assert.match(STYLESHEET, /font: 1\.125rem/);
  assert.match(STYLESHEET, /\.content img, \.content video \{ max-width: 100%/);
  assert.doesNotMatch(STYLESHEET, /url\(|@import/);
});
