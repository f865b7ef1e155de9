/**
 * Turning page data into HTML: nunjucks templates with auto-escaping (every
 * value is escaped unless a template says otherwise, which ours never do
 * except for the sanitised readme), and Markdown through markdown-it with
 * raw HTML off, so a readme cannot carry script or markup of its own.
 *
 * @module
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import MarkdownIt from 'markdown-it';
import nunjucks from 'nunjucks';
import { posted } from './forms.js';

/** The package root (where package.json is), found from this module in src/ or dist/src/. */
function packageRoot(): string {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`No package.json above ${import.meta.dirname}`);
    dir = up;
  }
  return dir;
}

const ROOT = packageRoot();
/** The templates. */
export const VIEWS_DIR = join(ROOT, 'src/host/pages/views');
/** The stylesheet's folder. */
export const STATIC_DIR = join(ROOT, 'src/host/pages/static');
/** htmx as its package ships it (the site never loads scripts from elsewhere). */
export const HTMX_DIR = join(ROOT, 'node_modules/htmx.org/dist');

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(VIEWS_DIR, { noCache: false }), { autoescape: true, throwOnUndefined: false });
const markdown = new MarkdownIt({ html: false, linkify: true });

env.addFilter('markdown', (text: string) => new nunjucks.runtime.SafeString(markdown.render(text ?? '')));
env.addFilter('posted', posted);
env.addFilter('when', (iso: string) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : ''));

/** Renders template `name` with `data`. */
export function render(name: string, data: Record<string, unknown>): string {
  return env.render(name, data);
}
