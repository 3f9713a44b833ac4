// `npm start` runs the server as JavaScript compiled here, not through tsx:
// tsx's loader (its module hooks on a thread of their own, esbuild, every
// module transformed at run time with its source map) costs an idle server
// 40–65 MB, a third of what the issue allows on PostgreSQL; see
// bench/README.md, "Idle memory after `npm start`", which also says why
// `npm start` passes its node flags. `npm start` runs this first, in the same
// script rather than as `prestart` (which `ignore-scripts` would skip), and
// every start builds again (a fraction of a second): a start never runs stale
// code. Plain JavaScript, so that building needs nothing but Node and esbuild,
// the compiler tsx itself uses (taken from tsx, so it is the very same one).
//
// One bundle of src/ (split where main.ts loads the app lazily), dependencies
// left to node_modules, with linked source maps for stack traces
// (`--enable-source-maps`). Several starts may build at once (workers started
// together): every file is written under a temporary name and renamed into
// place, chunks before the entry that imports them, and chunks carry a content
// hash, so a start never loads a half-written file or a mix of two builds.
import { createRequire } from 'node:module';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const OUT_DIR = join(ROOT, 'node_modules/.cache/mcp-federation');
/** Files of earlier builds are removed once this old: long after any start that used them has loaded them. */
const STALE_MS = 60 * 60 * 1000;

const require = createRequire(import.meta.url);
const esbuild = createRequire(require.resolve('tsx/package.json'))('esbuild');

// Bundled, a module's import.meta.url would be the bundle's; the code means the
// file it was written in (it finds prisma/migrations and schema.graphql from there).
const sourceUrls = {
  name: 'source-import-meta-url',
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, 'utf8');
      return { contents: source.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(path).href)), loader: 'ts' };
    });
  },
};

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: ['src/main.ts'],
  outdir: OUT_DIR,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
  sourcesContent: false,
  // Class and function names stay what the source says (error names in logs).
  keepNames: true,
  plugins: [sourceUrls],
  write: false,
  logLevel: 'warning',
});

await mkdir(OUT_DIR, { recursive: true });
const isEntry = (path) => basename(path).startsWith('main.');
const files = [...result.outputFiles.filter((f) => !isEntry(f.path)), ...result.outputFiles.filter((f) => isEntry(f.path))];
for (const file of files) {
  const current = await readFile(file.path).catch(() => undefined);
  if (current && Buffer.compare(current, file.contents) === 0) continue;
  const temporary = `${file.path}.${process.pid}.tmp`;
  await writeFile(temporary, file.contents);
  await rename(temporary, file.path);
}

const built = new Set(files.map((f) => basename(f.path)));
for (const name of await readdir(OUT_DIR)) {
  if (built.has(name)) continue;
  const path = join(OUT_DIR, name);
  const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
  if (Date.now() - mtimeMs > STALE_MS) await rm(path, { force: true });
}
