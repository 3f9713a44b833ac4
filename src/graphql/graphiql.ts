// GraphiQL with its assets served by us: yoga's page loads them from a CDN,
// which a closed network (or a strict CSP) cannot reach.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { renderGraphiQL, type GraphiQLOptions } from 'graphql-yoga';

export const GRAPHIQL_ASSET_PREFIX = '/graphiql/';

const ASSETS: Record<string, string> = {
  'graphiql.css': 'text/css; charset=utf-8',
  'yoga-graphiql.umd.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/editor.worker.bundle.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/json.worker.bundle.js': 'text/javascript; charset=utf-8',
  'monacoeditorwork/graphql.worker..bundle.js': 'text/javascript; charset=utf-8',
};

const distDir = join(dirname(createRequire(import.meta.url).resolve('@graphql-yoga/graphiql/package.json')), 'dist');

/** An inline icon: the page asks for nothing it does not have (yoga's points at GitHub). */
const FAVICON =
  "<link rel=icon href=\"data:image/svg+xml,%3Csvg xmlns='http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg' viewBox='0 0 16 16'%3E%3Ccircle cx='8' cy='8' r='7' fill='%23e535ab'/%3E%3C/svg%3E\">";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function renderLocalGraphiQL(options: GraphiQLOptions): string {
  return renderGraphiQL(options)
    .replaceAll(/https:\/\/unpkg\.com\/@graphql-yoga\/graphiql@[^/]+\/dist\//g, GRAPHIQL_ASSET_PREFIX)
    .replace(/<link rel=icon [^>]*>/, FAVICON)
    .replace('Loading __TITLE__...', `Loading ${escapeHtml(options.title ?? 'GraphiQL')}…`);
}

/** The asset for a request path under GRAPHIQL_ASSET_PREFIX, or null. */
export async function graphiqlAsset(path: string): Promise<{ body: Buffer; contentType: string } | null> {
  const name = path.slice(GRAPHIQL_ASSET_PREFIX.length);
  const contentType = ASSETS[name];
  if (!contentType) return null;
  return { body: await readFile(join(distDir, name)), contentType };
}
