// A reader with a real browser: Debian's chromium, driven by playwright-core, opens a blog served by a real Quire
// whose posts a real XMPP client published, follows links to an article and its comments, and saves screenshots
// (test-results/, printed); the blog fits a phone's width; hostile XHTML published over XMPP runs nothing and leaves
// no event handler or javascript: link in the DOM, and the Content-Security-Policy blocks inline script.
// Skipped, saying how to enable it, when chromium is not installed (apt-get install -y chromium; .ci/run does).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { connectClient, startTestServer, type TestServer, type XmppClient } from './helpers/server.js';
import { PUBSUB, publish, roundTrip, xml } from './helpers/pubsub.js';
import { MICROBLOG, PUBLISHING_MODULES, atomEntry } from './helpers/blog.js';

function chromiumPath(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir && existsSync(join(dir, 'chromium'))) return join(dir, 'chromium');
  return undefined;
}

const executablePath = chromiumPath();
// ../shared/design/DEPENDENCIES.md: the flags Debian's chromium needs here (no sandbox as root, no GPU, no network
// of its own).
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const RESULTS = resolve('test-results');

const HOSTILE = `<p>Hostile <b>markup</b> below.</p>
<script>window.pwned = 'script'</script>
<img src="https://example.org/x.png" onerror="window.pwned = 'onerror'" alt="x"/>
<a href="javascript:window.pwned = 'href'" id="evil">a javascript: link</a>
<p onclick="window.pwned = 'onclick'" onmouseover="window.pwned = 'hover'">click me</p>
<iframe src="https://example.org/"></iframe>
<form action="https://example.org/"><input name="q"/></form>
<svg xmlns="http://www.w3.org/2000/svg"><script>window.pwned = 'svg'</script></svg>
<a href="https://example.org/ok">a fine link</a>`;

describe('Publishing in a browser (chromium via playwright-core)', { skip: executablePath ? false : 'chromium not found: apt-get install -y chromium to run the browser tests' }, () => {
  let server: TestServer;
  let alice: XmppClient;
  let bob: XmppClient;
  let browser: Browser;
  let home: string;

  const shot = async (page: Page, name: string): Promise<void> => {
    mkdirSync(RESULTS, { recursive: true });
    const path = join(RESULTS, `${name}.png`);
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot saved: ${path}`);
  };

  before(async () => {
    server = await startTestServer({ modules: PUBLISHING_MODULES });
    home = `http://127.0.0.1:${server.httpPort}/blog/alice@localhost/`;
    for (const user of ['alice', 'bob']) await server.createUser(user);
    alice = await connectClient(server, 'alice', undefined, 'desk');
    bob = await connectClient(server, 'bob', undefined, 'phone');
    for (const c of [alice, bob]) await c.send(xml('presence'));
    await Promise.all([alice, bob].map(roundTrip));
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: 'A walk by the river', xhtml: '<p>The water was <em>high</em> today, and the herons were back.</p><p>A very-long-word-that-should-wrap-on-a-phone-screen-without-making-the-page-scroll-sideways-at-all.</p>', text: 'The water was high today.', categories: ['walks', 'birds'] }), 'river', { 'pubsub#access_model': 'open' });
    await publish(alice, undefined, MICROBLOG, atomEntry({ title: '<script>alert("title")</script> Not a script', xhtml: HOSTILE, text: 'Hostile markup below.' }), 'hostile');
    await publish(bob, PUBSUB, 'urn:xmpp:microblog:0:comments/river', atomEntry({ title: 'I saw the herons too!', xhtml: '<p>I saw the herons too! <img src="x" onerror="window.pwned = \'comment\'"/></p>', text: 'I saw the herons too!' }));
    browser = await chromium.launch({ executablePath, args: FLAGS });
  });

  after(async () => {
    await browser?.close();
    await Promise.allSettled([alice, bob].map((c) => c?.stop()));
    await server?.stop();
  });

  test('a reader opens the blog, follows the links to an article and its comments, and sees them', async () => {
    const page = await browser.newPage();
    const response = await page.goto(home);
    assert.equal(response?.status(), 200);
    assert.equal(await page.title(), 'alice’s blog');
    await shot(page, 'blog-index');
    await page.click('text=A walk by the river');
    await page.waitForURL(`${home}river`);
    assert.equal(await page.textContent('article.post h1'), 'A walk by the river');
    assert.match((await page.textContent('article.post .content')) ?? '', /The water was high today/);
    assert.equal(await page.textContent('article.post em'), 'high');
    assert.deepEqual(await page.$$eval('ul.tags a', (as) => as.map((a) => a.textContent)), ['walks', 'birds']);
    const comments = page.locator('#comments');
    assert.match((await comments.textContent()) ?? '', /Comments \(1\)/);
    assert.match((await comments.textContent()) ?? '', /I saw the herons too!/);
    assert.equal(await page.evaluate(() => (window as unknown as { pwned?: string }).pwned), undefined);
    await shot(page, 'blog-article');
    // The stylesheet applied (a file of the same origin, as the CSP allows).
    assert.notEqual(await page.$eval('body', (b) => getComputedStyle(b).fontFamily), '');
    await page.click('ul.tags >> text=birds');
    await page.waitForURL(`${home}tag/birds`);
    assert.match((await page.textContent('main h1')) ?? '', /Tagged “birds”/);
    await page.close();
  });

  test('on a phone (390×844) nothing overflows horizontally', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    for (const path of ['', 'river', 'author']) {
      await page.goto(home + path);
      const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
      assert.ok(scroll <= client, `${path || 'index'}: ${scroll}px wide in a ${client}px viewport`);
    }
    await page.goto(home + 'river');
    await shot(page, 'blog-article-phone');
    await context.close();
  });

  test('hostile XHTML published over XMPP never reaches the page; the CSP blocks inline script', async () => {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    const response = await page.goto(home + 'hostile');
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match((await page.textContent('article.post h1')) ?? '', /<script>alert\("title"\)<\/script> Not a script/);
    await page.click('text=click me');
    await page.hover('text=click me');
    const dom = await page.evaluate(() => {
      const handlers: string[] = [];
      for (const el of Array.from(document.querySelectorAll('*'))) for (const attr of Array.from(el.attributes)) if (/^on/i.test(attr.name)) handlers.push(`${el.tagName} ${attr.name}`);
      return {
        pwned: (window as unknown as { pwned?: string }).pwned,
        scripts: document.querySelectorAll('script').length,
        handlers,
        javascriptLinks: Array.from(document.querySelectorAll('[href],[src],[action]')).map((e) => e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action') ?? '').filter((v) => /^\s*javascript:/i.test(v)),
        frames: document.querySelectorAll('iframe, form, object, embed').length,
        fine: document.querySelector('a[href="https://example.org/ok"]')?.getAttribute('rel'),
      };
    });
    assert.equal(dom.pwned, undefined);
    assert.equal(dom.scripts, 0);
    assert.deepEqual(dom.handlers, []);
    assert.deepEqual(dom.javascriptLinks, []);
    assert.equal(dom.frames, 0);
    assert.match(dom.fine ?? '', /nofollow/);
    assert.deepEqual(dialogs, []);
    // Even a script that got into the page would not run: the CSP forbids inline script.
    const blocked = await page.evaluate(
      () =>
        new Promise<{ ran: boolean; violation: string }>((done) => {
          document.addEventListener('securitypolicyviolation', (e) => done({ ran: (window as unknown as { injected?: boolean }).injected === true, violation: e.effectiveDirective }), { once: true });
          const s = document.createElement('script');
          s.textContent = 'window.injected = true';
          document.body.append(s);
        }),
    );
    assert.deepEqual(blocked, { ran: false, violation: 'script-src-elem' });
    await shot(page, 'blog-hostile');
    await page.close();
  });
});
