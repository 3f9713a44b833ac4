// The node flags `npm start` gives the server (package.json's start script), so
// that a benchmark's server processes run the way a user's does: V8's heap
// settings change a loaded server's throughput by a third (bench/README.md).
import { readFileSync } from 'node:fs';

/** The flags between `node` and the entry file in `npm start`; [] if the script does not run node that way. */
export function startNodeFlags(packageJson: string | URL = new URL('../package.json', import.meta.url)): string[] {
  const start = (JSON.parse(readFileSync(packageJson, 'utf8')) as { scripts?: { start?: string } }).scripts?.start ?? '';
  const run = /\bnode((?:\s+--[\w-]+(?:=\S+)?)*)\s+\S+\.m?js\b/.exec(start.slice(start.lastIndexOf('node ')));
  return run ? run[1]!.trim().split(/\s+/).filter(Boolean) : [];
}
