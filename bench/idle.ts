// Waits for a quiet machine: other work shares these 2 cores, and a benchmark
// under someone else's test run measures the test run.
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

function cpuTimes(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: fields[3]! + (fields[4] ?? 0), total: fields.reduce((a, b) => a + b, 0) };
}

/**
 * Resolves once the CPU has been at least `idleShare` idle for `forMs` in a row
 * (sampled each second), or after `maxWaitMs` regardless; says which.
 */
export async function waitForIdle(maxWaitMs: number, idleShare = 0.9, forMs = 9_000): Promise<{ idle: boolean; waitedMs: number }> {
  const start = Date.now();
  let quietSince = Date.now();
  let last = cpuTimes();
  while (Date.now() - start < maxWaitMs) {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const now = cpuTimes();
    const share = (now.idle - last.idle) / Math.max(1, now.total - last.total);
    last = now;
    if (share < idleShare) quietSince = Date.now();
    else if (Date.now() - quietSince >= forMs) return { idle: true, waitedMs: Date.now() - start };
  }
  return { idle: false, waitedMs: Date.now() - start };
}

/**
 * The run's conditions, for its JSON line: waits first when asked (`--wait-idle S`),
 * and report() gives the load average at the start and now, and how the wait went.
 */
export async function runConditions(waitIdleS: number) {
  const quiet = waitIdleS > 0 ? await waitForIdle(waitIdleS * 1000) : undefined;
  const loadAtStart = loadavg()[0]!;
  return {
    report: () => ({
      loadAverage: [Number(loadAtStart.toFixed(2)), Number(loadavg()[0]!.toFixed(2))],
      ...(quiet ? { startedIdle: quiet.idle, waitedForIdleS: Math.round(quiet.waitedMs / 1000) } : {}),
    }),
  };
}
