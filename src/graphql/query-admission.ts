// At most MAX_CONCURRENT_QUERIES query operations of a worker execute at once;
// the others wait their turn, first come first served.
//
// Why: a dashboard page holds its rows, its half-built result and its answer
// while it runs. Fifty pages at once, each advancing a little between its
// database round trips, keep fifty of those alive through every young-generation
// collection of V8, which copies whatever is alive. Admitted in order, a query
// runs start to finish among a few others: the same answers, the slowest of them
// far sooner, and the memory that queries hold bounded by this limit instead of
// by the number of clients.
//
// Where a query waits matters as much (bench/README.md, "Admission at the
// door"): over HTTP it waits before yoga has read it (src/http/query-door.ts),
// as node's parsed headers and its body's bytes. Waiting in yoga, a request's
// objects outlived several collections, were promoted, and once answered kept
// alive the young objects they pointed to until a full collection. This
// module's yoga plugin admits what the door did not see: operations over
// graphql-ws, and requests the door could not read as one operation.
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

  /** Takes a permit if one is free and nobody waits; the caller must then `release()` it once. */
  tryAcquire(): boolean {
    if (this.free === 0 || this.line.length > 0) return false;
    this.free--;
    return true;
  }

  /** Waits for a permit; the caller must `release()` it once, when done. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
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

/** Whether an operation of `document` needs a permit: a query that no peer answers. */
export function needsPermit(document: DocumentNode, operationName?: string | null): boolean {
  const operation = getOperationAST(document, operationName);
  return operation?.operation === 'query' && !reachesPeer(document, operation.selectionSet);
}

/** The HTTP requests whose operation the door has read, and admitted if it needed a permit. */
const seenAtTheDoor = new WeakSet<object>();

export function markSeenAtTheDoor(req: object): void {
  seenAtTheDoor.add(req);
}

/**
 * The yoga plugin: each query that reaches no peer, and that the door did not
 * see, executes with a permit of `admission`. Over HTTP the node adapter puts
 * `req` in the context; over graphql-ws there is none.
 */
export function useQueryAdmission(admission: Admission): Plugin<{ signal?: AbortSignal; req?: object }> {
  return {
    onExecute: ({ args, executeFn, setExecuteFn }) => {
      const context = args.contextValue as { signal?: AbortSignal; req?: object };
      if (context.req && seenAtTheDoor.has(context.req)) return;
      if (!needsPermit(args.document, args.operationName)) return;
      setExecuteFn(async (execution) => {
        await admission.acquire(context.signal);
        try {
          return await executeFn(execution);
        } finally {
          admission.release();
        }
      });
    },
  };
}
