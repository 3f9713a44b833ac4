// At most MAX_CONCURRENT_QUERIES query operations of a worker execute at once;
// the others wait their turn, first come first served.
//
// Why: a dashboard page holds its rows, its half-built result and its answer
// while it runs. Fifty pages at once, each advancing a little between its
// database round trips, keep fifty of those alive through every young-generation
// collection of V8, which copies whatever is alive: at 50 connections each page
// cost 2.4 times the collection time it cost at 10 (bench/README.md, the
// dashboard load test). Admitted in order, a query runs start to finish among a
// few others: the same answers, the slowest of them far sooner (PGlite's p99 at
// 50 connections went from 2.2 s to 0.6 s; the throughput gain was within the
// noise of the full load test), and the memory that queries hold bounded by
// this limit instead of by the number of clients.
//
// Queries that reach a peer (readResource, getPrompt) wait on the network, not
// on this process: they are neither held back nor counted, so that a slow peer
// never holds up the catalog. Mutations and subscriptions are not limited here.
import { getOperationAST, Kind, type DocumentNode, type SelectionSetNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { PEER_QUERY_FIELDS } from './types/calls.js';

/** A first-come, first-served counter of `permits`; a waiter whose signal aborts leaves the line. */
export class Admission {
  private free: number;
  private readonly line: { admit: () => void }[] = [];

  constructor(private readonly permits: number) {
    this.free = permits;
  }

  /** Waits for a permit; the caller must `release()` it once, when done. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.free > 0 && this.line.length === 0) {
      this.free--;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const at = this.line.indexOf(waiter);
        if (at >= 0) this.line.splice(at, 1);
        reject(signal!.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.line.push(waiter);
    });
  }

  release(): void {
    const next = this.line.shift();
    // The permit passes straight to the next in line: nobody can overtake it.
    if (next) next.admit();
    else this.free++;
  }

  /** Permits held now. */
  get executing(): number {
    return this.permits - this.free;
  }

  /** Operations waiting for a permit. */
  get waiting(): number {
    return this.line.length;
  }
}

/** Whether the operation asks, at its top level, for a field that is answered by a peer. */
function reachesPeer(document: DocumentNode, selectionSet: SelectionSetNode): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) return PEER_QUERY_FIELDS.has(selection.name.value);
    if (selection.kind === Kind.INLINE_FRAGMENT) return reachesPeer(document, selection.selectionSet);
    const fragment = document.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === selection.name.value);
    return fragment?.kind === Kind.FRAGMENT_DEFINITION ? reachesPeer(document, fragment.selectionSet) : false;
  });
}

/** The yoga plugin: each query that reaches no peer executes with a permit of `admission`. */
export function useQueryAdmission(admission: Admission): Plugin<{ signal?: AbortSignal }> {
  return {
    onExecute: ({ args, executeFn, setExecuteFn }) => {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'query' || reachesPeer(args.document, operation.selectionSet)) return;
      const signal = (args.contextValue as { signal?: AbortSignal }).signal;
      setExecuteFn(async (execution) => {
        await admission.acquire(signal);
        try {
          return await executeFn(execution);
        } finally {
          admission.release();
        }
      });
    },
  };
}
