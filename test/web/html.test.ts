import { describe, expect, it } from 'vitest';
import { html, safeHref } from '../../src/web/html.js';

describe('html: every interpolation is escaped', () => {
  it('renders hostile text inert, in text and in attributes', () => {
    const title = `<script>alert(1)</script><img src=x onerror="alert(2)">'\`&`;
    const out = html`<h1 title="${title}">${title}</h1>`.text;
    expect(out).toBe(
      '<h1 title="&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&#39;&#96;&amp;">' +
        '&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=&quot;alert(2)&quot;&gt;&#39;&#96;&amp;</h1>',
    );
    expect(out).not.toMatch(/<script|<img/);
  });

  it('nests templates and lists without escaping them twice; null and booleans render nothing', () => {
    const items = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${items}${null}${false}${undefined}</ul>`.text).toBe(
      '<ul><li>a&lt;b</li><li>c</li></ul>',
    );
  });

  it('a plain string that looks like a SafeHtml is still text', () => {
    const fake = { text: '<b>x</b>', toString: () => '<b>x</b>' } as unknown as string;
    expect(html`${fake}`.text).toBe('&lt;b&gt;x&lt;/b&gt;');
  });
});

describe('safeHref', () => {
  it('keeps http(s) and local paths, drops script URLs and protocol-relative ones', () => {
    expect(safeHref('https://github.com/o/r/pull/1')).toBe('https://github.com/o/r/pull/1');
    expect(safeHref('/decisions/o/r/1')).toBe('/decisions/o/r/1');
    expect(safeHref('javascript:alert(1)')).toBe('#');
    expect(safeHref(' JaVaScRiPt:alert(1)')).toBe('#');
    expect(safeHref('//evil.example/x')).toBe('#');
    expect(safeHref('data:text/html,<script>')).toBe('#');
    expect(safeHref(null)).toBe('#');
  });
});
