import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Element } from '../core/xml/element.js';
import { htmlToXhtml } from './xhtml.js';
import { repairXhtml } from './xhtml-repair.js';

function repaired(html: string): string {
  const div = new Element('div');
  for (const node of repairXhtml(htmlToXhtml(html))) div.append(node);
  return div.toString().slice('<div>'.length, -'</div>'.length);
}

test('well-formed content is left as it is', () => {
  const html = '<h2>T</h2><p>a <em>b</em> <a href="https://x.example/">c</a></p><ul><li><p>d</p><ul><li>e</li></ul></li></ul><table><caption>c</caption><tr><th>h</th><td>d</td></tr></table><figure><img src="https://x.example/a.png" alt="a"/><figcaption>f</figcaption></figure><dl><dt>t</dt><dd>d</dd></dl><a href="https://x.example/"><p>block link</p></a>';
  assert.equal(repaired(html), html);
});

test('blocks inside phrasing content become spans, keeping their text', () => {
  assert.equal(repaired('<span>a<div>b</div><ul><li>c</li></ul><hr>d</span>'), '<span>a<span>b</span><span><span>c</span></span>d</span>');
  // The HTML parser closes a <p> at a block itself, as browsers do.
  assert.equal(repaired('<p>a<div>b</div></p>'), '<p>a</p><div>b</div><p/>');
  assert.equal(repaired('<h1><p>x</p></h1>'), '<h1><span>x</span></h1>');
  assert.equal(repaired('<em><table><tr><td>x</td></tr></table></em>'), '<em><span><span><span>x</span></span></span></em>');
  assert.equal(repaired('<p><a href="https://x.example/"><div>in link in p</div></a></p>'), '<p><a href="https://x.example/"><span>in link in p</span></a></p>');
});

test('elements out of their parent become divs or spans; nested links become spans', () => {
  assert.equal(repaired('<li>stray</li><td colspan="2">cell</td><figcaption>f</figcaption><summary>s</summary><dt>t</dt><caption>c</caption><col>'),
    '<div>stray</div><div>cell</div><div>f</div><div>s</div><div>t</div><div>c</div>');
  assert.equal(repaired('<p><rt>r</rt></p>'), '<p><span>r</span></p>');
  assert.equal(repaired('<a href="https://x.example/">a <a href="https://y.example/">b</a></a>'), '<a href="https://x.example/">a <span>b</span></a>');
});

test('lists and tables get the wrappers their children need', () => {
  assert.equal(repaired('<ul>text<p>para</p><li>ok</li></ul>'), '<ul><li>text</li><li><p>para</p></li><li>ok</li></ul>');
  assert.equal(repaired('<table><td>a</td><p>b</p><tr><p>c</p></tr></table>'), '<table><tr><td>a</td></tr><tr><td><p>b</p></td></tr><tr><td><p>c</p></td></tr></table>');
  assert.equal(repaired('<dl><p>x</p><dt>t</dt></dl>'), '<dl><dd><p>x</p></dd><dt>t</dt></dl>');
});
