// The blog stylesheet, served as a file (the CSP allows styles from the blog's own origin only). Readable on a
// phone: fluid width, system fonts at a legible size, long words and code that never widen the page; dark mode
// from the reader's system setting.
export const STYLESHEET = `:root { color-scheme: light dark; --fg: #1d1d1f; --bg: #fdfdfb; --muted: #5f6368; --accent: #0b57d0; --rule: #d8d8d8; --code: #f2f2ef; }
@media (prefers-color-scheme: dark) { :root { --fg: #e8e6e3; --bg: #161616; --muted: #a0a4a8; --accent: #8ab4f8; --rule: #3a3a3a; --code: #232323; } }
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 1.125rem/1.65 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; overflow-wrap: break-word; }
.site-header, main, .site-footer { width: 100%; max-width: 42rem; margin: 0 auto; padding: 0 1.25rem; }
.site-header { padding-top: 1.5rem; padding-bottom: 0.5rem; border-bottom: 1px solid var(--rule); }
.site-title { margin: 0; font-size: 1.5rem; font-weight: 700; line-height: 1.3; }
.site-title a { color: inherit; text-decoration: none; }
.site-subtitle { margin: 0.25rem 0 0; color: var(--muted); }
main { padding-top: 1rem; padding-bottom: 2rem; }
a { color: var(--accent); }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.6em 0 0.5em; }
h1 { font-size: 1.9rem; } h2 { font-size: 1.45rem; } h3 { font-size: 1.2rem; }
.post-list { list-style: none; margin: 0; padding: 0; }
.post-list > li { padding: 1rem 0; border-bottom: 1px solid var(--rule); }
.post-list h2 { margin: 0 0 0.25rem; }
.post-list h2 a { color: inherit; text-decoration: none; }
.meta { color: var(--muted); font-size: 0.9rem; margin: 0.25rem 0 0.75rem; }
.tags { list-style: none; padding: 0; margin: 0.75rem 0; display: flex; flex-wrap: wrap; gap: 0.5rem; font-size: 0.9rem; }
.tags a { display: inline-block; padding: 0.1rem 0.6rem; border: 1px solid var(--rule); border-radius: 1rem; text-decoration: none; }
.content img, .content video { max-width: 100%; height: auto; }
.content pre { overflow-x: auto; padding: 0.75rem; background: var(--code); border-radius: 4px; font-size: 0.9rem; line-height: 1.45; }
.content code { font-family: ui-monospace, "SF Mono", Menlo, Consolas, monospace; font-size: 0.92em; }
.content blockquote { margin: 1rem 0; padding: 0 1rem; border-left: 3px solid var(--rule); color: var(--muted); }
.content table { display: block; overflow-x: auto; border-collapse: collapse; }
.content th, .content td { border: 1px solid var(--rule); padding: 0.3rem 0.6rem; }
.content figure { margin: 1rem 0; }
.content figcaption { color: var(--muted); font-size: 0.9rem; }
.series { margin: 1rem 0; padding: 0.75rem 1rem; border: 1px solid var(--rule); border-radius: 6px; font-size: 0.95rem; }
.series ol { margin: 0.5rem 0 0; }
.pager { display: flex; justify-content: space-between; gap: 1rem; margin: 1.5rem 0; }
.comments { margin-top: 2.5rem; border-top: 1px solid var(--rule); }
.comments ol { list-style: none; padding: 0; }
.comment { padding: 0.75rem 0; border-bottom: 1px solid var(--rule); }
.unverified { color: #b3261e; font-size: 0.85rem; }
.attachments { font-size: 0.95rem; }
.site-footer { padding-top: 1rem; padding-bottom: 2rem; border-top: 1px solid var(--rule); color: var(--muted); font-size: 0.9rem; }
.site-footer a { margin-right: 0.75rem; }
`;
